"""The progress artifact follows a run without an API call for every partition."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from flows import progress


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The percentages sent to the API, with the artifact created locally."""
    sent: list[float] = []
    monkeypatch.setattr(progress, "create_progress_artifact", lambda *a, **k: uuid4())

    def update(artifact: UUID, value: float) -> None:
        sent.append(value)

    monkeypatch.setattr(progress, "update_progress_artifact", update)
    return sent


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        # Many partitions a second: one update, at the end.
        (3600.0, [100.0]),
        # Slow partitions: an update each time.
        (0.0, [25.0, 50.0, 75.0, 100.0]),
    ],
)
def test_the_artifact_is_updated_at_most_once_a_period_and_at_the_end(
    updates: list[float], monkeypatch: pytest.MonkeyPatch, every: float, expected: list[float]
) -> None:
    monkeypatch.setattr(progress, "ARTIFACT_EVERY", every)
    with progress.RunProgress(4, "k", "d") as bar:
        for day in range(4):
            bar.advance(f"cbn/2026-06-{day + 10}")
    assert updates == expected


def test_a_run_that_stops_early_reports_how_far_it_got(
    updates: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "ARTIFACT_EVERY", 3600.0)
    with pytest.raises(KeyboardInterrupt), progress.RunProgress(5, "k", "d") as bar:
        bar.advance("cbn/2026-06-10")
        bar.advance("cbn/2026-06-11")
        raise KeyboardInterrupt
    assert updates == [40.0]


def test_nothing_to_do_makes_no_artifact(updates: list[float]) -> None:
    with progress.RunProgress(0, "k", "d"):
        pass
    assert updates == []
