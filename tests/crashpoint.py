"""`zhnews` killed by SIGKILL at a chosen point, for the crash-safety tests.

    python -m tests.crashpoint MODULE:ATTR N before|after -- run --raw … --curated …

runs the real command line, except that the Nth call of MODULE.ATTR (a function, or a
method as `Class.method`) kills the process with SIGKILL just before or just after it
runs: no handler, no `finally`, no flush, as when the machine loses power or the OOM
killer strikes. The test then checks what a reader sees, and that the next run recovers.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any


def kill_at(target: str, nth: int, when: str) -> None:
    """Replace `target` with a wrapper that SIGKILLs this process at its `nth` call."""
    module_name, _, path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *owners, name = path.split(".")
    for attr in owners:
        owner = getattr(owner, attr)
    original: Callable[..., Any] = getattr(owner, name)
    calls = 0

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if calls == nth and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, name, wrapper)


def main(argv: list[str]) -> None:
    target, nth, when, separator, *command = argv
    if separator != "--" or when not in ("before", "after"):
        raise SystemExit(__doc__)
    kill_at(target, int(nth), when)
    from flows.cli import app

    app(command, prog_name="zhnews")


if __name__ == "__main__":
    main(sys.argv[1:])
