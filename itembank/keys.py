"""Where the centre's keys live, and the ledger key.

Key files are kept in the *key directory*: ``Settings.key_dir`` (``ITEMBANK_KEY_DIR``, an
absolute path) when set, else the directory of the SQLite database file. Never the working
directory: a server started elsewhere must find the same keys, not make new ones. With
PostgreSQL there is no file to stand beside, so ``ITEMBANK_KEY_DIR`` (or the keys themselves in
the environment) must be configured.

- ``itembank-seal.key``: the master key wrapping sealed papers' keys (``lifecycle.keys``).
- ``itembank-ledger.key``: the ledger key (``ITEMBANK_LEDGER_KEY`` overrides it). Every ledger
  entry carries an HMAC-SHA256 of its hash under this key, and checkpoints are signed with an
  Ed25519 key derived from it (``itembank.ledger``). Kept outside the database: someone who can
  write the database but not read this file cannot re-chain the ledger unnoticed.
- ``itembank-ledger.checkpoints``: the witness, one signed checkpoint per line, appended after
  each checkpoint is committed (a copy outside the database).

Files are created 0600 in a directory made 0700; a key file is created only when nothing was
protected by an earlier key: a missing ledger key with keyed entries in the ledger is an error
naming the file (restore it from the centre's key backup), never a silent new key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from itembank.config import Settings
from itembank.errors import ConflictError, ValidationError
from itembank.i18n import Message

log = logging.getLogger(__name__)

KEY_BYTES = 32
LEDGER_KEY_FILE = "itembank-ledger.key"
WITNESS_FILE = "itembank-ledger.checkpoints"


class KeyMissingError(ConflictError):
    """A key file protecting existing data is missing (restore it; a new key cannot help)."""

    code = "key_missing"


def database_dir(url: str | object) -> Path | None:
    """The directory of a SQLite database file; None for PostgreSQL or an in-memory database."""
    u = make_url(str(url)) if isinstance(url, str) else url
    if not u.get_backend_name().startswith("sqlite"):  # type: ignore[attr-defined]
        return None
    database = u.database  # type: ignore[attr-defined]
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).expanduser().resolve().parent


def key_dir(settings: Settings, url: str | object) -> Path | None:
    """The key directory (see the module docstring); None when there is none."""
    if settings.key_dir:
        path = Path(settings.key_dir).expanduser()
        if not path.is_absolute():
            raise ValidationError(Message(
                "ITEMBANK_KEY_DIR must be an absolute path (it is {path}); the working directory changes with "
                "whoever starts the service", path=settings.key_dir), field="key_dir")
        return path
    return database_dir(url)


def resolve_key_file(name: str, *, directory: Path | None, setting: str) -> Path:
    """``name`` itself when absolute, else inside the key directory."""
    path = Path(name).expanduser()
    if path.is_absolute():
        return path
    if directory is None:
        raise ValidationError(Message(
            "there is no key directory for {setting}={name}: with PostgreSQL set ITEMBANK_KEY_DIR to an absolute "
            "path (or give the key file's absolute path, or the key itself in the environment)",
            setting=setting, name=name), field="key_dir")
    return directory / path


def private_dir(path: Path) -> None:
    """Make ``path`` (and missing parents) with mode 0700 for the directories it creates."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)
        os.chmod(d, 0o700)


def write_private(path: Path, data: bytes, *, exclusive: bool = True) -> bool:
    """Write ``data`` to a new file of mode 0600 (its directory 0700 when made here). With
    ``exclusive``, False when the file already exists (another process made it first)."""
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return True


def private_database_file(url: str) -> None:
    """Create a SQLite database file 0600 (its new directories 0700) before SQLite does (it
    would follow the umask: 0644, item content in clear for every local user); tighten an
    existing one and its WAL files to 0600."""
    directory = database_dir(url)
    if directory is None:
        return
    path = Path(make_url(url).database or "").expanduser().resolve()  # type: ignore[arg-type]
    if not path.exists():
        private_dir(path.parent)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            log.warning(Message("the database file {path} was readable by others (mode {mode}): it is now readable "
                                "by its owner only (0600)", path=str(p), mode=format(st.st_mode & 0o777, "o")))
            os.chmod(p, 0o600)


def read_key(path: Path, *, setting: str) -> bytes:
    try:
        raw = base64.b64decode(path.read_bytes().strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ValidationError(Message("the key file {path} does not hold a 32-byte base64 key; restore it from the "
                                      "centre's key backup", path=str(path)), field=setting)
    return raw


def new_key_file(path: Path) -> bytes:
    """Create a key file (0600) unless another process just did; its key either way."""
    write_private(path, base64.b64encode(secrets.token_bytes(KEY_BYTES)))
    return read_key(path, setting=path.name)


def decode_key(value: str, *, setting: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ValidationError(Message(
            "{setting} must be 32 bytes, base64-encoded (make one with: python -c \"import base64,os;"
            "print(base64.b64encode(os.urandom(32)).decode())\")", setting=setting), field=setting)
    return raw


# --------------------------------------------------------------------------------------
# The ledger key


@dataclass(frozen=True)
class LedgerKey:
    """The ledger key and what is derived from it (HMAC of entries, checkpoint signatures)."""

    secret: bytes
    directory: Path | None  # the key directory (the witness file lives there); None: environment only

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"itembank-ledger-key:" + self.secret).hexdigest()[:16]

    def mac(self, entry_hash: str) -> str:
        return hmac.new(self.secret, b"itembank-ledger-entry:" + entry_hash.encode("ascii"), hashlib.sha256).hexdigest()

    def _signing_key(self):  # type: ignore[no-untyped-def]
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        seed = hmac.new(self.secret, b"itembank-ledger-checkpoint-signing", hashlib.sha256).digest()
        return Ed25519PrivateKey.from_private_bytes(seed)

    def sign(self, payload: bytes) -> str:
        return self._signing_key().sign(payload).hex()

    @property
    def public_key(self) -> str:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self._signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def verify(self, payload: bytes, signature: str) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            self._signing_key().public_key().verify(bytes.fromhex(signature), payload)
        except (InvalidSignature, ValueError):
            return False
        return True

    @property
    def witness(self) -> Path | None:
        return self.directory / WITNESS_FILE if self.directory is not None else None


_configured: weakref.WeakKeyDictionary[Engine, Settings] = weakref.WeakKeyDictionary()
_cache: weakref.WeakKeyDictionary[Engine, LedgerKey | None] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def configure(engine: Engine, settings: Settings) -> None:
    """Use ``settings`` (key directory, ledger key) for ``engine``'s database (the app and the
    CLI call this; otherwise the environment's settings apply)."""
    _configured[engine] = settings
    _cache.pop(engine, None)


def settings_for(engine: Engine) -> Settings:
    """The settings ``configure`` gave for ``engine``, else the environment's."""
    return _configured.get(engine) or Settings()


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return getattr(bind, "engine", bind)  # type: ignore[return-value]


def ledger_key(session: Session) -> LedgerKey | None:
    """The ledger key of the session's database, or None when none can be kept (an in-memory
    or PostgreSQL database without ``ITEMBANK_KEY_DIR`` / ``ITEMBANK_LEDGER_KEY``)."""
    engine = _engine_of(session)
    try:
        return _cache[engine]
    except KeyError:
        pass
    with _lock:
        if engine in _cache:
            return _cache[engine]
        found = _resolve_ledger_key(session, engine)
        _cache[engine] = found
        return found


def _resolve_ledger_key(session: Session, engine: Engine) -> LedgerKey | None:
    settings = settings_for(engine)
    directory = key_dir(settings, engine.url)
    if settings.ledger_key is not None:
        return LedgerKey(decode_key(settings.ledger_key.get_secret_value(), setting="ITEMBANK_LEDGER_KEY"), directory)
    if directory is None:
        log.warning(Message("no key directory for the database {url}: the ledger entries are not signed; set "
                            "ITEMBANK_KEY_DIR", url=engine.url.render_as_string(hide_password=True)))
        return None
    path = directory / LEDGER_KEY_FILE
    if path.exists():
        return LedgerKey(read_key(path, setting="ledger_key"), directory)
    from itembank.orm import LedgerEntryRecord

    keyed = session.scalar(select(LedgerEntryRecord.id).where(LedgerEntryRecord.mac.is_not(None)).limit(1))
    if keyed is not None:
        raise KeyMissingError(Message(
            "the ledger key file {path} is missing, but the ledger holds entries signed with a ledger key: restore "
            "the file from the centre's key backup (or set ITEMBANK_LEDGER_KEY); no new key was made",
            path=str(path)), field="ledger_key")
    log.warning(Message("creating the ledger key {path}: keep a copy with the centre's key backup", path=str(path)))
    return LedgerKey(new_key_file(path), directory)


def forget_cached_keys() -> None:
    """Drop the resolved keys (tests that move key files)."""
    _cache.clear()


__all__ = ["KEY_BYTES", "KeyMissingError", "LEDGER_KEY_FILE", "LedgerKey", "WITNESS_FILE", "configure",
           "database_dir", "decode_key", "private_database_file", "forget_cached_keys", "key_dir", "ledger_key", "new_key_file",
           "private_dir", "read_key", "resolve_key_file", "settings_for", "write_private"]
