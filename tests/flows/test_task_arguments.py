"""Large task arguments reach the task as they are, without Prefect walking into them."""

from __future__ import annotations

import pytest
from prefect import flow, task
from prefect.states import Completed

from flows.pipeline import _as_is


@task(persist_result=False)
def _kinds(items: list[object]) -> list[str]:
    return [type(item).__name__ for item in items]


@flow
def _handed(as_is: bool) -> list[str]:
    # A state inside an argument: Prefect, walking the argument, swaps it for its result.
    items: list[object] = [Completed(data=7), "cbn/2026-06-15/page-1.txt"]
    return _kinds(_as_is(items) if as_is else items)


@pytest.mark.usefixtures("prefect_harness")
def test_an_argument_passed_as_is_is_not_walked() -> None:
    assert _handed(False) == ["int", "str"]
    assert _handed(True) == ["State", "str"]
