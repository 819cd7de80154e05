"""A loop of submissions serializes the flow's context once, and workers still get it."""

from __future__ import annotations

from typing import Any

import prefect.context as prefect_context
import pytest
from prefect import flow, tags, task
from prefect.runtime import flow_run, task_run

from flows.runners import Scale, task_runner
from flows.submit_context import one_serialized_context, reusing


def _counting() -> tuple[list[dict[str, Any] | None], Any]:
    calls: list[dict[str, Any] | None] = []
    original = prefect_context.serialize_context

    def serialize(asset_ctx_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        calls.append(asset_ctx_kwargs)
        return original(asset_ctx_kwargs)

    return calls, serialize


@flow
def _serializations() -> tuple[int, bool, bool, list[str]]:
    calls, serialize = _counting()
    reused = reusing(serialize)
    first = reused()
    again = reused()
    with tags("backfill"):
        tagged = reused()
    after = reused()
    return len(calls), first is again, after is first, tagged["tags_context"]["current_tags"]


@pytest.mark.usefixtures("prefect_harness")
def test_the_same_contexts_are_serialized_once_and_new_ones_afresh() -> None:
    count, reused, back, tagged = _serializations()
    assert reused
    assert "backfill" in tagged
    # Leaving `tags` puts back the very context object of before: the earlier
    # serialization is not the last one any more, so it is made again, once.
    assert not back
    assert count == 3


def test_asset_contexts_are_never_reused() -> None:
    calls: list[object] = []

    def serialize(asset_ctx_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        calls.append(asset_ctx_kwargs)
        return {"asset_context": asset_ctx_kwargs or {}}

    reused = reusing(serialize)
    assert reused() is reused()
    assert reused({"task": "a"}) == {"asset_context": {"task": "a"}}
    assert reused({"task": "a"}) is not reused({"task": "a"})
    assert calls == [None, {"task": "a"}, {"task": "a"}, {"task": "a"}]


def test_prefect_gets_its_own_function_back() -> None:
    original = prefect_context.serialize_context
    with one_serialized_context():
        assert prefect_context.serialize_context is not original
    assert prefect_context.serialize_context is original
    with pytest.raises(RuntimeError), one_serialized_context():
        raise RuntimeError("a failed submit")
    assert prefect_context.serialize_context is original


@task
def _where(i: int) -> tuple[int, str, str, list[str]]:
    context = prefect_context.TaskRunContext.get()
    assert context is not None
    return i, str(flow_run.id), str(context.task_run.flow_run_id), sorted(task_run.tags)


@flow
def _submitted_together(count: int) -> tuple[str, int, list[tuple[int, str, str, list[str]]]]:
    calls, serialize = _counting()
    original = prefect_context.serialize_context
    prefect_context.serialize_context = serialize
    try:
        with task_runner(Scale(2, "process")) as pool, one_serialized_context():
            futures = [pool.submit(_where, parameters={"i": i}) for i in range(count)]
            with tags("late"):
                futures.append(pool.submit(_where, parameters={"i": count}))
            results = [future.result() for future in futures]
    finally:
        prefect_context.serialize_context = original
    return str(flow_run.id), len(calls), results


@pytest.mark.usefixtures("prefect_harness")
def test_workers_run_in_the_flow_run_whose_context_was_serialized_once() -> None:
    run_id, serialized, results = _submitted_together(4)
    assert serialized == 2  # the four together, then the one under other tags
    assert [i for i, _, _, _ in results] == [0, 1, 2, 3, 4]
    assert {(flow_id, parent) for _, flow_id, parent, _ in results} == {(run_id, run_id)}
    assert [tagged for *_, tagged in results] == [[]] * 4 + [["late"]]
