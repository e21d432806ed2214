"""The migrated schema is the schema of the models (issue 2: migrations and models agree)."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from itembank.db import current_revision
from itembank.models import metadata


def _ours(name, type_, *_args) -> bool:  # type: ignore[no-untyped-def]
    """The job queue's tables are procrastinate's (itembank.jobqueue), not models of ours."""
    return not (type_ == "table" and str(name).startswith("procrastinate_"))


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": _ours})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"migrations and models differ: {diff}"


def test_schema_is_at_head(engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    from itembank.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert current_revision(engine) == head


def test_every_model_table_exists(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    missing = set(metadata.tables) - tables
    assert not missing


def test_alembic_config_accepts_percent_encoded_passwords() -> None:
    from sqlalchemy import create_engine

    from itembank.db import alembic_config

    eng = create_engine("postgresql+psycopg://user:p%40ss%25w@localhost/db")
    cfg = alembic_config(eng)
    assert cfg.get_main_option("sqlalchemy.url") == "postgresql+psycopg://user:p%40ss%25w@localhost/db"
