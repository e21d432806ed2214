"""Engine, sessions and schema migrations. Nothing connects at import time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from itembank.config import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(settings: Settings | None = None, *, url: str | None = None,
                sqlite_immediate: bool = True) -> Engine:
    """Create the engine for ``settings.database_url`` (or ``url``).

    SQLite gets foreign keys on, WAL journal, a busy timeout, and real transactions
    (pysqlite's implicit transaction handling is switched off so that BEGIN and SAVEPOINT
    behave as on PostgreSQL; SQLAlchemy 2.0 docs, "Serializable isolation / Savepoints").

    ``sqlite_immediate`` (default): open SQLite transactions with ``BEGIN IMMEDIATE`` (the write
    lock at once, waiting up to the busy timeout). Nearly every unit of work here writes (the
    ledger records even reads of confidential content). For concurrent writers whose transactions read
    first: a deferred transaction that reads and then writes fails at once with "database is
    locked" when another one committed in between (SQLite docs, "WAL mode": BUSY_SNAPSHOT).
    """
    settings = settings or Settings()
    url = url or settings.database_url
    if url.startswith("sqlite"):
        from itembank.keys import private_database_file

        private_database_file(url)  # 0600: the file holds every item in clear
        engine = create_engine(
            url,
            echo=settings.echo_sql,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        _configure_sqlite(engine, begin="BEGIN IMMEDIATE" if sqlite_immediate else "BEGIN")
        return engine
    return create_engine(url, echo=settings.echo_sql, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, *, begin: str = "BEGIN") -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql(begin)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error (CLI and scripts)."""
    with make_sessionmaker(engine)() as session, session.begin():
        yield session


BULK_ROWS = 500
"""A write of at least this many rows refreshes the planner statistics (``refresh_statistics``)."""


def refresh_statistics(session: Session, *tables: str) -> None:
    """After a bulk write, on PostgreSQL: ``ANALYZE`` the tables inside the writing transaction.

    An ANALYZE by autovacuum while a large import is still uncommitted records the tables as
    empty (it cannot see the new rows), and the queries that follow in the same transaction
    (readiness, the pool for assembly) then get nested-loop plans over sequential scans that
    take minutes instead of milliseconds. ANALYZE inside the transaction counts its own rows,
    and the lock it holds until commit keeps autovacuum from overwriting the figures (autovacuum
    skips a locked table; a second bulk import waits for the first to commit). SQLite: nothing
    to do, its planner does not depend on such statistics here."""
    if session.get_bind().dialect.name != "postgresql" or not tables:
        return
    session.execute(text("ANALYZE " + ", ".join(tables)))


def alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser interpolation: a '%' in the URL (an encoded password) must be doubled
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` with the Alembic migrations (``itembank db upgrade``)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
