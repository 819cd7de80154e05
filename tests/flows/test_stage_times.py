"""The stage timers behind `make bench`: exclusive seconds, and inert without the variable."""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path

import pytest

from flows import stage_times
from flows.stage_times import FLOW_BODY, STAGE_TIMES_ENV, StageClock, install, install_from_env


def test_nested_time_counts_for_the_inner_stage_only() -> None:
    clock = StageClock()

    def inner() -> None:
        time.sleep(0.05)

    timed_inner = clock.wrap("inner", inner)

    def outer() -> None:
        time.sleep(0.02)
        timed_inner()
        timed_inner()

    clock.wrap(FLOW_BODY, outer)()
    assert clock.calls == {"inner": 2, FLOW_BODY: 1}
    assert clock.seconds["inner"] >= 0.1
    assert 0.02 <= clock.seconds[FLOW_BODY] < 0.1
    assert clock.body_started is not None and clock.body_ended is not None
    body = clock.body_ended - clock.body_started
    assert sum(clock.seconds.values()) == pytest.approx(body, abs=0.01)


def test_install_wraps_the_named_functions_and_undo_restores_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = types.ModuleType("fake_stage_module")

    def work(x: int) -> int:
        return x + 1

    module.work = work  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_stage_module", module)
    clock = StageClock()
    undo = install(clock, (("fake_stage_module", "work", "read"),))
    assert module.work(1) == 2  # type: ignore[attr-defined]
    assert clock.calls == {"read": 1}
    undo()
    assert module.work is work  # type: ignore[attr-defined]


def test_every_timed_function_exists() -> None:
    import importlib

    for module_name, name, _ in stage_times.TIMED:
        assert callable(getattr(importlib.import_module(module_name), name))


def test_inert_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STAGE_TIMES_ENV, raising=False)
    assert install_from_env() is None


def test_a_worker_is_not_timed_without_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(STAGE_TIMES_ENV, raising=False)
    monkeypatch.setattr(stage_times, "_worker_clock", None)
    stage_times.time_this_worker()
    assert stage_times._worker_clock is None
    assert stage_times.worker_times(tmp_path / "stages.json") == []
