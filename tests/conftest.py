"""Shared fixtures.

Database tests run on a SQLite file by default and on PostgreSQL when
``ITEMBANK_TEST_DATABASE_URL`` is set (CI runs the suite both ways). The schema is built
once per run through the Alembic migrations; each test runs inside a transaction that is
rolled back, with the service code's own commits/rollbacks turned into savepoints.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

import itembank.i18n  # noqa: F401  (the catalog's renderer: every test reads messages in zh_CN, as the staff do)
from itembank.db import make_engine, upgrade

TEST_DATABASE_URL_ENV = "ITEMBANK_TEST_DATABASE_URL"


def _reset_postgres(engine: Engine, schema: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    """The test database: a SQLite file, or the PostgreSQL database of
    ``ITEMBANK_TEST_DATABASE_URL``, where each xdist worker has a schema of its own (its
    search path is in the URL, so every engine made from it lands there)."""
    url = os.environ.get(TEST_DATABASE_URL_ENV)
    if url:
        if worker_id == "master":
            return url
        schema = f"xdist_{worker_id}"
        admin = make_engine(url=url)
        _reset_postgres(admin, schema)
        admin.dispose()
        return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    path: Path = tmp_path_factory.mktemp("db") / "test.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(url=database_url)
    if eng.dialect.name == "postgresql" and "search_path" not in database_url:
        _reset_postgres(eng, "public")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def _rolled_back_witness(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests on the shared database roll their work back, signed ledger checkpoints included;
    the checkpoint witness file beside the key (itembank/ledger.py) is outside the database and
    would outlive them, so that a later test's verification would find "deleted" checkpoints.
    It is removed after every test that used the shared engine."""
    yield
    if "engine" not in request.fixturenames:
        return
    from itembank import keys

    engine: Engine = request.getfixturevalue("engine")
    directory = keys.key_dir(keys.settings_for(engine), engine.url)
    if directory is not None:
        (directory / keys.WITNESS_FILE).unlink(missing_ok=True)


@pytest.fixture()
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        conn.close()


@pytest.fixture()
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    """A private, migrated database for tests that need real commits (SQLite, or a fresh
    PostgreSQL schema when the PostgreSQL URL is set)."""
    yield from private_engine(tmp_path)


def private_engine(directory: Path) -> Iterator[Engine]:
    """The body of :func:`fresh_engine`, for fixtures of a wider scope (a module's world)."""
    url = os.environ.get(TEST_DATABASE_URL_ENV)
    if url:
        # a private schema, so the shared one of the ``engine`` fixture stays intact
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(url=url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        # the schema in the URL itself, so that what is given ``eng.url`` (the CLI) reaches it too
        sep = "&" if "?" in url else "?"
        eng = create_engine(f"{url}{sep}options=-csearch_path%3D{schema}")
        upgrade(eng)
        yield eng
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
        return
    else:
        eng = make_engine(url=f"sqlite:///{directory / 'fresh.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def url_of(engine: Engine) -> str:
    """The engine's URL, password included, naming its PostgreSQL schema (the app's job worker
    and the CLI connect on their own and must land in the test's schema)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql" or "search_path" in url:
        return url
    with engine.connect() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(TEST_DATABASE_URL_ENV)
    return f"itembank test database: {url.split('@')[-1] if url else 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session (tests/web/conftest.py ``browser_session``):
    defined here once, so that the web and the media tests share it."""
    from tests.web.conftest import browser_session

    yield from browser_session()
