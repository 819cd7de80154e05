"""The process of Prefect's temporary server: `python -P -m flows.server_boot fd N` serves
on the listening socket inherited as descriptor N, `... port N` binds 127.0.0.1:N itself.

Prefect's server package, and the collections it loads at start-up (prefect-dask, which
imports Dask), are imported with cyclic garbage collection off, as `zhnews run` imports
its own: a fifth of the import is the collector scanning the objects Prefect's models
create, which all live as long as the server. Then uvicorn serves, with the collector
back on for the server's own work.
"""

from __future__ import annotations

import gc
import socket
import sys


def inherited_socket(fd: int) -> socket.socket:
    """The listening socket behind descriptor `fd`, as the TCP socket it is.

    uvicorn's own `--fd` takes every descriptor for a Unix socket, so asyncio leaves
    Nagle's algorithm on for the connections it accepts, and every API call on a
    kept-alive connection then waits some 40 ms for the client's delayed ACK.
    """
    return socket.socket(fileno=fd)


def main(argv: list[str]) -> None:
    how, where = argv
    gc.disable()
    import prefect.plugins
    import prefect.server.api.server

    prefect.plugins.load_prefect_collections()
    gc.freeze()
    gc.enable()
    import uvicorn

    config = uvicorn.Config(
        "prefect.server.api.server:create_app",
        factory=True,
        host="127.0.0.1",
        port=int(where) if how == "port" else 0,
        log_level="error",
        lifespan="on",
    )
    sockets = [inherited_socket(int(where))] if how == "fd" else None
    uvicorn.Server(config).run(sockets=sockets)


if __name__ == "__main__":
    main(sys.argv[1:])
