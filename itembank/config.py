"""Settings, read from the environment (prefix ``ITEMBANK_``) or a ``.env`` file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///itembank.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITEMBANK_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL. The embedded default is a SQLite file in the working directory;
    for PostgreSQL use ``postgresql+psycopg://user:password@host/dbname``."""

    echo_sql: bool = False
    centre_name: str = "职业技能等级认定中心"
    """Printed on papers and reports."""

    section_order: str = ""
    """The centre's order of a paper's sections, item types separated by commas
    (``single_choice,true_false,...``); types it leaves out follow in the national template's
    order (一、单项选择题 二、多项选择题 三、判断题 …), which is the default."""

    default_locale: str = "zh_CN"
    """The language of pages, errors, documents and the CLI when a request or the
    environment asks for none: ``zh_CN`` (default) or ``en``."""

    time_zone: str = "Asia/Shanghai"
    """The centre's time zone: times are stored in UTC and shown in this zone."""

    token_lifetime_hours: float = 8.0
    """Bearer tokens expire after this many hours."""

    acceptance_rule: Literal["unanimous", "two_thirds", "majority"] = "unanimous"
    """When an acceptance batch whose members have all voted is accepted (附件11 第17条 asks
    every member to sign the result; the quorum is the centre's choice): ``unanimous`` (every
    member accepts), ``two_thirds`` or ``majority`` (more than half)."""

    host: str = "127.0.0.1"
    port: int = 8000

    # --- security (README "Security") ---
    key_dir: str | None = None
    """Directory of the centre's key files (seal master key, ledger key) and the ledger's
    checkpoint witness. Default: the directory of the SQLite database file. Required (an
    absolute path) with PostgreSQL unless the keys are given in the environment."""

    ledger_key: SecretStr | None = None
    """Base64 of the 32-byte ledger key (HMAC of every entry, checkpoint signatures). Unset:
    the key file ``itembank-ledger.key`` in ``key_dir``."""

    ledger_checkpoint_minutes: float = Field(10.0, ge=0)
    """The server signs a ledger checkpoint this often when the ledger grew (0: never; then
    ``itembank ledger checkpoint`` from cron)."""

    max_body_bytes: int = Field(2 * 2**20, ge=1024)
    """Largest request body (JSON, forms) in bytes; larger ones are refused with 413 before
    they are read."""

    max_upload_bytes: int = Field(50 * 2**20, ge=1024)
    """Largest body of the routes that take a file (imports)."""

    body_limits: dict[str, int] = Field(default_factory=dict)
    """Per-route limits overriding the two above, e.g. ``{"POST /banks/{bank_id}/imports/qti":
    104857600}`` (JSON in the environment variable)."""

    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses (or networks, e.g. ``10.0.0.0/8``) of reverse proxies whose
    ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed. Empty: none; the client address
    is the connection's (login throttling counts per address)."""

    # --- jobs (docs/DEPLOY.md) ---
    local_worker: bool | None = None
    """Run the job worker inside ``itembank serve`` (None: on SQLite yes, on PostgreSQL no:
    run ``itembank worker`` processes there, on any machines)."""

    worker_concurrency: int = 2
    """Jobs one worker runs at once (each assembly solve is a child process)."""

    worker_heartbeat_s: float = 5.0
    """How often a worker records that it is alive."""

    worker_stalled_s: float = 30.0
    """A worker silent for this long is taken for dead: its jobs go back to the queue."""
