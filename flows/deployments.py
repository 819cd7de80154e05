"""The two deployments `zhnews serve` registers with a Prefect server and runs.

Schedules need a server: Prefect's temporary in-process API lives only as long as one
run. `zhnews run` and `zhnews backfill` need none.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron

from flows.io.store import absolute
from flows.pipeline import backfill, nightly
from flows.settings import Settings

TAGS = ["zhnews"]


class NoServer(RuntimeError):
    """No Prefect API answers where `zhnews serve` was told to register."""


def shared_parameters(settings: Settings) -> dict[str, Any]:
    """What both deployments run with: the roots are absolute (or URLs), so a triggered run
    writes where the serving process was told to, whatever its working directory."""
    return {
        "raw_root": absolute(settings.raw),
        "curated_root": absolute(settings.curated),
        "max_file_bytes": settings.max_file_bytes,
        "lock_timeout": settings.lock_timeout,
        "retries": settings.retries,
        "retry_delay": settings.retry_delay,
        "workers": settings.workers,
        "task_runner": settings.task_runner,
        "dask_address": settings.dask_address,
    }


def _one_at_a_time() -> ConcurrencyLimitConfig:
    # A second run of the same deployment waits in the queue; runs of the two deployments
    # are kept apart by the lock on the curated root.
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def build_deployments(settings: Settings) -> list[RunnerDeployment]:
    common: dict[str, Any] = {
        "name": settings.deployment,
        "concurrency_limit": _one_at_a_time(),
        "parameters": shared_parameters(settings),
        "tags": TAGS,
        "entrypoint_type": EntrypointType.MODULE_PATH,
    }
    made = [
        nightly.to_deployment(
            schedules=[Cron(settings.schedule, timezone=settings.timezone)],
            description="Curate every raw partition that is new or changed, or whose code "
            "or dictionaries changed.",
            **common,
        ),
        backfill.to_deployment(
            description="Bring every partition in [start, end] up to date in date order; "
            "force=true rebuilds them all. Rerunning an interrupted backfill resumes it.",
            **common,
        ),
    ]
    deployments = [d for d in made if isinstance(d, RunnerDeployment)]
    # `to_deployment` returns a coroutine only when called from async code.
    assert len(deployments) == len(made)
    return deployments


def api_url(settings: Settings) -> str:
    return os.environ.get("PREFECT_API_URL") or settings.api_url


def check_server(url: str, timeout: float = 10.0) -> None:
    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as err:
        raise NoServer(
            f"no Prefect server answers at {url} ({err}); start one with `make server` "
            "(or `zhnews server`), or point PREFECT_API_URL at yours"
        ) from err


def serve_deployments(settings: Settings) -> None:
    """Register both deployments and run their flow runs until interrupted."""
    serve(*build_deployments(settings))
