"""The CLI's own temporary Prefect server: up while the run needs it, gone afterwards."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows import temporary_server
from flows.temporary_server import API_URL_ENV, TemporaryServer


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    status = Path(f"/proc/{pid}/status")
    return not (status.is_file() and "\nState:\tZ" in status.read_text())


def test_the_server_answers_and_goes_away(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A home of its own: other test processes may be starting servers at the same time.
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv(API_URL_ENV, raising=False)
    with TemporaryServer() as server:
        assert os.environ[API_URL_ENV] == server.api_url
        server.wait_ready()
        assert httpx.get(f"{server.api_url}/health").status_code == 200
        process = server.process
        assert process is not None
    assert API_URL_ENV not in os.environ
    assert process.poll() is not None


@pytest.mark.skipif(os.name != "posix", reason="the server inherits its socket on POSIX only")
def test_the_port_is_the_runs_before_the_server_has_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process asking for the port while the server still imports must not get it:
    # it would take the run's API address, and the server would exit unable to bind.
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv(API_URL_ENV, raising=False)
    with TemporaryServer() as server:
        intruder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            with pytest.raises(OSError) as taken:
                intruder.bind(("127.0.0.1", server.port))
            assert taken.value.errno == errno.EADDRINUSE
        finally:
            intruder.close()
        server.wait_ready()
        assert httpx.get(f"{server.api_url}/health").status_code == 200


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux only")
def test_the_server_dies_with_a_killed_run(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from flows.temporary_server import TemporaryServer\n"
        "server = TemporaryServer().__enter__()\n"
        "print(server.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != API_URL_ENV}
    env["PREFECT_HOME"] = str(tmp_path)
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    assert run.stdout is not None
    server_pid = int(run.stdout.readline())
    assert _alive(server_pid)
    run.kill()
    run.wait()
    deadline = time.monotonic() + 20
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(server_pid)


def test_a_configured_api_needs_no_temporary_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_URL_ENV, raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    assert temporary_server.needed()
    (tmp_path / "profiles.toml").write_text(
        'active = "team"\n[profiles.team]\nPREFECT_API_URL = "http://10.0.0.5:4200/api"\n',
        encoding="utf-8",
    )
    assert not temporary_server.needed()
    monkeypatch.setenv("PREFECT_PROFILE", "other")
    assert temporary_server.needed()
    monkeypatch.setenv(API_URL_ENV, "http://127.0.0.1:4200/api")
    assert not temporary_server.needed()


def test_flow_runs_against_the_temporary_server_send_no_heartbeats(
    prefect_harness: None,
) -> None:
    from prefect import flow
    from prefect.settings import get_current_settings

    @flow
    def heartbeat_frequency() -> int | None:
        return get_current_settings().flows.heartbeat_frequency

    before = get_current_settings()
    assert before.flows.heartbeat_frequency is not None
    assert heartbeat_frequency() == before.flows.heartbeat_frequency
    with temporary_server.without_heartbeats():
        assert heartbeat_frequency() is None
        # Everything else as it was: the same API, the same home.
        now = get_current_settings()
        assert now.api.url == before.api.url
        assert now.home == before.home
    assert get_current_settings().flows.heartbeat_frequency == before.flows.heartbeat_frequency
