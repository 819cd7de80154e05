"""One verified TLS context per CA bundle for the Prefect API clients of a process.

A worker's Prefect makes two new API clients for every task it runs, and each builds a
TLS context from its CA bundle (`ssl.create_default_context(cafile=...)`): OpenSSL
parses every certificate of the bundle, 20 ms a context here and 50 when both cores
are busy, whether or not the API is reached over TLS. On a run of many small files
that was most of a worker's time between one file and the next (1.7 s of a worker's
18 s over 30 files). The contexts come out the same each time; an SSL context is
made to be shared by connections (it holds settings and trusted certificates, no
connection's state), so the clients share one per bundle.

Only Prefect's client module is given the shared contexts, and only its verified ones
(a CA bundle named): the unverified context it makes when told to skip verification,
which it then changes, stays its own each time.
"""

from __future__ import annotations

import ssl
import types
from functools import cache
from typing import Any


@cache
def _verified(cafile: str | None, capath: str | None, cadata: str | bytes | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile, capath=capath, cadata=cadata)


def create_default_context(
    purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH,
    *,
    cafile: str | None = None,
    capath: str | None = None,
    cadata: str | bytes | None = None,
) -> ssl.SSLContext:
    """`ssl.create_default_context`, the same context again for the same CA bundle."""
    if purpose is ssl.Purpose.SERVER_AUTH and (cafile or capath or cadata):
        return _verified(cafile, capath, cadata)
    return ssl.create_default_context(purpose, cafile=cafile, capath=capath, cadata=cadata)


class _SharingSSL(types.ModuleType):
    """The `ssl` module, but for `create_default_context`."""

    create_default_context = staticmethod(create_default_context)

    def __getattr__(self, name: str) -> Any:
        return getattr(ssl, name)


def share_tls_contexts() -> bool:
    """Give Prefect's API clients in this process shared verified contexts; False (and
    nothing changed) where its client module no longer builds them from `ssl`."""
    from prefect.client import orchestration

    current = getattr(orchestration, "ssl", None)
    if isinstance(current, _SharingSSL):
        return True
    if current is not ssl:
        return False
    orchestration.ssl = _SharingSSL("ssl")  # type: ignore[attr-defined]
    return True
