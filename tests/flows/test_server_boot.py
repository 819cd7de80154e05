"""The temporary server's process: the connections it accepts send without delay."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from flows.server_boot import inherited_socket
from flows.temporary_server import _bound_socket


def _nodelay_of_accepted(listener: socket.socket, port: int) -> int:
    """TCP_NODELAY of a connection an asyncio server accepts on `listener`, as uvicorn's
    server does."""

    async def serve() -> int:
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=listener)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 30)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(serve())


def _listener(*, as_uvicorn_fd: bool = False) -> tuple[socket.socket, int]:
    """A bound socket's descriptor, taken as the server process takes it."""
    bound = _bound_socket()
    port = int(bound.getsockname()[1])
    fd = os.dup(bound.fileno())
    bound.close()
    if not as_uvicorn_fd:
        return inherited_socket(fd), port
    sock = socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM)
    os.close(fd)
    return sock, port


@pytest.mark.skipif(os.name != "posix", reason="the server inherits its socket on POSIX only")
def test_connections_on_the_inherited_socket_send_without_delay() -> None:
    listener, port = _listener()
    assert listener.family == socket.AF_INET
    assert _nodelay_of_accepted(listener, port) != 0


@pytest.mark.skipif(os.name != "posix", reason="the server inherits its socket on POSIX only")
def test_a_descriptor_taken_for_a_unix_socket_leaves_nagle_on() -> None:
    # Why `inherited_socket` exists: the probe above tells the two apart.
    listener, port = _listener(as_uvicorn_fd=True)
    assert _nodelay_of_accepted(listener, port) == 0
