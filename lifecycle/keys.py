"""The centre's secrets: one 256-bit master key, and what is derived from it.

The master key comes from ``ITEMBANK_LIFECYCLE_SEAL_MASTER_KEY`` (base64 of 32 bytes); without
it, from the key file ``seal_key_file``: an absolute path as given, a bare name
(``itembank-seal.key``) in the key directory (``itembank.keys``: ``ITEMBANK_KEY_DIR``, else
beside the SQLite database file; never the working directory). It wraps each sealed paper's
own key (``lifecycle.sealing``).

The key file is created (0600, its directory 0700) only while no sealed paper exists: with
sealed papers and no key file, the service refuses (naming the file and the key they were
sealed with) instead of making a new key that could never open them.

The HMAC key that signs certificate QR payloads is ``ITEMBANK_LIFECYCLE_QR_SECRET`` when set,
else derived from the master key, so that a centre that configured nothing still never signs
with a key anyone could guess.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank import keys
from itembank.errors import ValidationError
from itembank.i18n import Message
from lifecycle.config import LifecycleSettings

log = logging.getLogger(__name__)

KEY_BYTES = keys.KEY_BYTES


def seal_key_path(settings: LifecycleSettings, *, session: Session | None = None) -> Path:
    """Where the master key file is: ``seal_key_file`` when absolute, else in the key
    directory of the session's database."""
    name = settings.seal_key_file
    if Path(name).expanduser().is_absolute() or session is None:
        if not Path(name).expanduser().is_absolute():
            raise ValidationError(Message(
                "the seal key file {name} is a relative name and no database says where it lives; give "
                "ITEMBANK_LIFECYCLE_SEAL_KEY_FILE as an absolute path", name=name), field="seal_key_file")
        return Path(name).expanduser()
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    directory = keys.key_dir(keys.settings_for(engine), engine.url)
    return keys.resolve_key_file(name, directory=directory, setting="ITEMBANK_LIFECYCLE_SEAL_KEY_FILE")


def master_key(settings: LifecycleSettings, *, session: Session | None = None) -> bytes:
    """The centre's 256-bit master key (see the module docstring)."""
    if settings.seal_master_key is not None:
        return keys.decode_key(settings.seal_master_key.get_secret_value(), setting="ITEMBANK_LIFECYCLE_SEAL_MASTER_KEY")
    path = seal_key_path(settings, session=session)
    if path.exists():
        return keys.read_key(path, setting="seal_key_file")
    if session is not None:
        from itembank.orm_sealing import SealedPaperRecord

        sealed = sorted(set(session.scalars(select(SealedPaperRecord.key_id).distinct())))
        if sealed:
            raise keys.KeyMissingError(Message(
                "the seal key file {path} is missing, but sealed papers exist, sealed with master key {key_ids}: "
                "restore the file from the centre's key backup (or set ITEMBANK_LIFECYCLE_SEAL_MASTER_KEY). No new "
                "key was made: it could never open those papers", path=str(path), key_ids=sealed),
                field="seal_key_file")
    log.warning(Message("no seal master key is configured: creating {path}; keep a copy with the centre's key backup",
                        path=str(path)))
    return keys.new_key_file(path)


def qr_secret(settings: LifecycleSettings, *, session: Session | None = None) -> str:
    """The HMAC key of certificate QR payloads: the configured one, else derived from the master key."""
    if settings.qr_secret is not None:
        return settings.qr_secret.get_secret_value()
    return hmac.new(master_key(settings, session=session), b"itembank certificate QR v1", hashlib.sha256).hexdigest()


__all__ = ["KEY_BYTES", "master_key", "qr_secret", "seal_key_path"]
