"""The compiled kernels: all of them loaded (and cached on disk) by `flows.kernels`."""

from __future__ import annotations

import importlib
from pathlib import Path

from flows.kernels import KERNELS, load_kernels

ROOT = Path(__file__).resolve().parents[2]


def test_every_module_that_compiles_is_a_kernel_loaded_before_workers_fork() -> None:
    compiling = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in ("flows", "transforms", "schemas")
        for path in (ROOT / package).rglob("*.py")
        if "\n@compiled(" in path.read_text(encoding="utf-8")
    )
    assert compiling == sorted(KERNELS)
    # Every kernel is compiled the one way `transforms.compiled` says (cached, no fast-math).
    direct = [
        str(path.relative_to(ROOT))
        for package in ("flows", "transforms", "schemas")
        for path in (ROOT / package).rglob("*.py")
        if "numba.njit" in path.read_text(encoding="utf-8")
    ]
    assert direct == ["transforms/compiled.py"]


def test_loaded_kernels_are_kept_in_numbas_cache_on_disk() -> None:
    load_kernels()
    for name in KERNELS:
        module = importlib.import_module(name)
        cache = Path(module.__file__ or "").parent / "__pycache__"
        stem = name.rsplit(".", 1)[-1]
        assert list(cache.glob(f"{stem}.*.nbi")), name
