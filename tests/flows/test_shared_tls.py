"""Prefect's API clients in a worker share one verified TLS context per CA bundle."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
from prefect.client import orchestration
from prefect.client.orchestration import SyncPrefectClient

from flows import shared_tls


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str | None]]:
    """The CA bundles OpenSSL is asked to read, with the sharing installed afresh."""
    built: list[str | None] = []
    real = ssl.create_default_context

    def counting(*args: object, cafile: str | None = None, **kwargs: object) -> ssl.SSLContext:
        built.append(cafile)
        return real(*args, cafile=cafile, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    monkeypatch.setattr(orchestration, "ssl", ssl)
    shared_tls._verified.cache_clear()
    yield built
    shared_tls._verified.cache_clear()


def test_clients_build_one_verified_context_between_them(counted: list[str | None]) -> None:
    assert shared_tls.share_tls_contexts()
    first = SyncPrefectClient("http://127.0.0.1:4200/api")
    second = SyncPrefectClient("http://127.0.0.1:4200/api")
    assert len(counted) == 1 and counted[0]  # the bundle Prefect's settings name
    context = shared_tls.create_default_context(cafile=counted[0])
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    first._client.close()
    second._client.close()


def test_without_sharing_every_client_reads_the_bundle(counted: list[str | None]) -> None:
    SyncPrefectClient("http://127.0.0.1:4200/api")._client.close()
    SyncPrefectClient("http://127.0.0.1:4200/api")._client.close()
    assert len(counted) == 2 and counted[0] and counted[0] == counted[1]


def test_unverified_contexts_stay_apart(counted: list[str | None]) -> None:
    shared_tls.share_tls_contexts()
    one = shared_tls.create_default_context()
    one.check_hostname = False
    one.verify_mode = ssl.CERT_NONE
    other = shared_tls.create_default_context()
    assert other is not one and other.verify_mode == ssl.CERT_REQUIRED


def test_installing_twice_keeps_one_wrapper(counted: list[str | None]) -> None:
    assert shared_tls.share_tls_contexts() and shared_tls.share_tls_contexts()
    assert isinstance(orchestration.ssl, shared_tls._SharingSSL)
    assert orchestration.ssl.SSLContext is ssl.SSLContext


def test_a_client_module_that_no_longer_uses_ssl_is_left_alone(
    counted: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(orchestration, "ssl")
    assert not shared_tls.share_tls_contexts()
    assert not hasattr(orchestration, "ssl")
