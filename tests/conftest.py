"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.s3 import Bucket, environment

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

# Property tests (tests/transforms/test_properties.py): the same examples on every run, so
# that `make test` is repeatable and takes a minute or so; HYPOTHESIS_PROFILE=explore draws
# new ones, many more of them, to look for counterexamples.
settings.register_profile(
    "zhnews",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", parent=settings.get_profile("zhnews"), max_examples=2000, derandomize=False
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "zhnews"))

REPO = Path(__file__).resolve().parents[1]
SAMPLE_PAGE = REPO / "data" / "raw" / "cbn" / "2026-06-15" / "cbn-page-2026-06-15.txt"


@pytest.fixture(scope="session")
def sample_page_text() -> str:
    return SAMPLE_PAGE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def nlp():  # type: ignore[no-untyped-def]
    """The real jieba models, loaded once for the session like a worker process does."""
    from flows.io.nlp import load_models

    return load_models()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness (a real API server on a temporary database), started once."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def curated_dataset(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A curated root the pipeline built from tests/datasets.py's raw tree: two sources,
    two days, quarantined rows dated and undated. Read it; never write to it."""
    from tests.datasets import build_curated

    base = tmp_path_factory.mktemp("reader-dataset")
    result = build_curated(base / "raw", base / "curated")
    assert result["status"] == "completed", result
    return base / "curated"


def jsonl_text(*records: object) -> str:
    """JSON Lines, one record per line (a string is written as it is: a broken line)."""
    return "\n".join(
        r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records
    )


def harness_child_env(tmp_path: Path) -> dict[str, str]:
    """The test harness's API for child processes, and a Prefect home of their own."""
    from prefect.settings import PREFECT_API_URL

    home = tmp_path / "prefect-home"
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_HOME": str(home),
    }


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server in this process, on 127.0.0.1 and a free port."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits forever when the server thread cannot bind: give it a deadline.
    starting = threading.Thread(target=server.start, daemon=True)
    starting.start()
    starting.join(timeout=60)
    if starting.is_alive():
        pytest.skip("moto's S3 server did not start on 127.0.0.1")
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Bucket:
    """A fresh bucket, with the AWS_* variables pointing every client at the test server
    and run locks of S3 roots kept under this test's folder."""
    import boto3

    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in environment(s3_endpoint).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    name = f"zhnews-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return Bucket(name, s3_endpoint, client)
