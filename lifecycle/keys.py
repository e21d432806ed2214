"""The centre's secrets: one 256-bit master key, and what is derived from it.

The master key comes from ``ITEMBANK_LIFECYCLE_SEAL_MASTER_KEY`` (base64 of 32 bytes); without
it, from the key file ``seal_key_file`` (created with mode 0600 on first use, with a warning:
production keeps the key apart from the database). It wraps each sealed paper's own key
(``lifecycle.sealing``). The HMAC key that signs certificate QR payloads is
``ITEMBANK_LIFECYCLE_QR_SECRET`` when set, else derived from the master key, so that a centre
that configured nothing still never signs with a key anyone could guess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from itembank.errors import ValidationError
from lifecycle.config import LifecycleSettings

log = logging.getLogger(__name__)

KEY_BYTES = 32


def master_key(settings: LifecycleSettings) -> bytes:
    """The centre's 256-bit master key (see the module docstring)."""
    if settings.seal_master_key is not None:
        try:
            raw = base64.b64decode(settings.seal_master_key.get_secret_value(), validate=True)
        except ValueError:
            raw = b""
        if len(raw) != KEY_BYTES:
            raise ValidationError("ITEMBANK_LIFECYCLE_SEAL_MASTER_KEY must be 32 bytes, base64-encoded "
                                  "(make one with: python -c \"import base64,os;print(base64.b64encode(os.urandom(32)).decode())\")",
                                  field="seal_master_key")
        return raw
    path = Path(settings.seal_key_file)
    if not path.exists():
        log.warning("no seal master key configured: creating %s (keep it apart from the database)", path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it between the check and the open
            pass
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)))
    try:
        raw = base64.b64decode(path.read_bytes().strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ValidationError(f"the seal key file {path} does not hold a 32-byte base64 key; restore it from "
                              "the centre's key backup", field="seal_key_file")
    return raw


def qr_secret(settings: LifecycleSettings) -> str:
    """The HMAC key of certificate QR payloads: the configured one, else derived from the master key."""
    if settings.qr_secret is not None:
        return settings.qr_secret.get_secret_value()
    return hmac.new(master_key(settings), b"itembank certificate QR v1", hashlib.sha256).hexdigest()


__all__ = ["KEY_BYTES", "master_key", "qr_secret"]
