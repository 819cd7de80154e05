"""Prefect's temporary API server for one CLI run, started before anything heavy loads.

Without `PREFECT_API_URL`, Prefect starts the same server itself, but only when the flow
begins, after importing its whole server package into this process, and then waits for it
doing nothing. Started first, the server boots on another core while this process imports
polars, pandera and jieba and loads the dictionaries; this process never imports the
server code at all. Point `PREFECT_API_URL` at a running `zhnews server` to skip it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

API_URL_ENV = "PREFECT_API_URL"
STARTUP_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


def _bound_socket() -> socket.socket:
    """A TCP socket bound to a free port of 127.0.0.1, not yet listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
    except OSError:
        sock.close()
        raise
    return sock


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with contextlib.closing(_bound_socket()) as sock:
        return int(sock.getsockname()[1])


def wait_for_api(
    api_url: str, process: subprocess.Popen[bytes] | None, timeout: float, name: str
) -> None:
    """Block until the Prefect API at `api_url` answers; raise with the exit code if the
    server's `process` (called `name` in the error) died first."""
    import httpx  # here, not at the top: the server starts before it loads

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise RuntimeError(f"{name} exited with code {code}")
            try:
                if client.get(f"{api_url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            # Until it listens, a connection is refused at once: frequent tries cost
            # nothing, and the run goes on as soon as the server does.
            time.sleep(0.02)
    raise RuntimeError(f"{name} did not answer within {timeout:g}s")


def _die_with_parent() -> None:
    """In the server process, before it starts (Linux): SIGTERM when the run dies, even by
    SIGKILL, so that no server outlives the run that started it."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class TemporaryServer:
    """The app Prefect serves as its temporary server (`flows.server_boot`), on a free
    port, as a context manager that sets `PREFECT_API_URL` for this process (and its
    workers) meanwhile.

    On POSIX the port is bound here and the server inherits the socket: the port is the
    run's from the first moment, so no other process can take it while the server
    imports, as one can between `free_port` and a server binding it itself.
    """

    def __init__(self) -> None:
        self.port = 0
        self.api_url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TemporaryServer:
        sock = _bound_socket() if os.name == "posix" else None
        try:
            self._start(sock)
        finally:
            if sock is not None:
                # The server holds the port now; this process needs no copy of it.
                sock.close()
        os.environ[API_URL_ENV] = self.api_url
        return self

    def _start(self, sock: socket.socket | None) -> None:
        if sock is None:
            self.port = free_port()
            listen = ["port", str(self.port)]
        else:
            self.port = int(sock.getsockname()[1])
            listen = ["fd", str(sock.fileno())]
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        env = {
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                # -P: no working folder on sys.path, where a `prefect` folder would shadow
                # the installed package.
                "-P",
                "-m",
                "flows.server_boot",
                *listen,
            ],
            env=env,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            pass_fds=() if sock is None else (sock.fileno(),),
        )

    def wait_ready(self) -> None:
        """Block until the API answers; raise with the exit code if the server died."""
        timeout = float(os.environ.get(STARTUP_TIMEOUT_ENV, "180"))
        wait_for_api(self.api_url, self.process, timeout, "the temporary Prefect server")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if os.environ.get(API_URL_ENV) == self.api_url:
            del os.environ[API_URL_ENV]
        if self.process is None:
            return
        if "prefect.logging.handlers" in sys.modules:
            # Logs still queued for the API go out while it is there to take them.
            from prefect.logging.handlers import APILogHandler

            APILogHandler().flush()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def without_heartbeats() -> Iterator[None]:
    """Prefect settings for a flow run against the temporary server: no flow run heartbeats.

    Heartbeats tell a lasting server that a run is still alive. The temporary server ends
    with the run, so they tell no one; and the flow engine's heartbeat thread sleeps in
    whole seconds, so the end of every flow run waited up to a second for it to wake.
    """
    from prefect.context import SettingsContext, get_settings_context

    # A copy of the current settings with one field changed; `temporary_settings` would
    # read every settings source again.
    context = get_settings_context()
    flows = context.settings.flows.model_copy(update={"heartbeat_frequency": None})
    settings = context.settings.model_copy(update={"flows": flows})
    with SettingsContext(profile=context.profile, settings=settings):
        yield


def _profile_api_url() -> str | None:
    """`PREFECT_API_URL` of the active Prefect profile, read without importing Prefect."""
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        with path.open("rb") as fh:
            profiles = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    value = profiles.get("profiles", {}).get(active, {}).get(API_URL_ENV)
    return str(value) if value else None


def needed() -> bool:
    """A run needs its own server unless one is configured (environment or profile)."""
    return not os.environ.get(API_URL_ENV) and not _profile_api_url()
