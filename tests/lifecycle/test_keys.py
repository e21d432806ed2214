"""The centre's keys (lifecycle.keys): no guessable default signs a certificate QR code."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from itembank.errors import ValidationError
from lifecycle.config import LifecycleSettings
from lifecycle.keys import master_key, qr_secret
from lifecycle.qr import build_qr_payload, verify_qr_payload

ARGS = dict(code="Y000132000001265000001", holder_name="张三", id_number="11010519491231002X",
            occupation_code="6-31-01-03", level=5, issued_on=date(2026, 12, 20), base_url="https://cert.example.org/v")



@pytest.fixture(autouse=True)
def _english_messages():  # type: ignore[no-untyped-def]
    """The assertions below read the English msgids (the default locale renders Chinese)."""
    from itembank.i18n import use_locale

    with use_locale("en"):
        yield


def _settings(**kw: object) -> LifecycleSettings:
    return LifecycleSettings(_env_file=None, **kw)  # type: ignore[arg-type]


def test_unset_qr_secret_is_derived_from_the_master_key_and_differs_per_centre() -> None:
    a = _settings(seal_master_key=SecretStr(base64.b64encode(b"a" * 32).decode()))
    b = _settings(seal_master_key=SecretStr(base64.b64encode(b"b" * 32).decode()))
    assert qr_secret(a) == qr_secret(a) and qr_secret(a) != qr_secret(b)
    assert len(qr_secret(a)) == 64
    payload = build_qr_payload(**ARGS, secret=qr_secret(a))
    assert verify_qr_payload(payload, secret=qr_secret(a)).valid
    assert not verify_qr_payload(payload, secret=qr_secret(b)).valid  # another centre's key cannot vouch


def test_configured_qr_secret_wins() -> None:
    s = _settings(qr_secret=SecretStr("centre-secret"), seal_master_key=SecretStr(base64.b64encode(b"a" * 32).decode()))
    assert qr_secret(s) == "centre-secret"


def test_key_file_is_created_private_once_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "seal.key"
    s = _settings(seal_key_file=str(path))
    first = master_key(s)
    assert len(first) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert master_key(s) == first and qr_secret(s) == qr_secret(_settings(seal_key_file=str(path)))


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"short").decode()])
def test_bad_master_key_is_refused_with_the_variable_named(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ITEMBANK_LIFECYCLE_SEAL_MASTER_KEY must be 32 bytes"):
        master_key(_settings(seal_master_key=SecretStr(bad)))
    path = tmp_path / "k"
    path.write_text(bad)
    with pytest.raises(ValidationError, match=f"key file {path}"):
        master_key(_settings(seal_key_file=str(path)))
