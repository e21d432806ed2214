"""``itembank db ...``: schema migrations."""

from __future__ import annotations

import click

from api.cli.localized import group, option
from itembank.config import Settings


@group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@option("--revision", default="head", show_default=True)
@click.pass_obj
def upgrade_cmd(settings: Settings, revision: str) -> None:
    """Create or migrate the schema to REVISION."""
    from itembank.db import current_revision, make_engine, upgrade

    engine = make_engine(settings)
    upgrade(engine, revision)
    from itembank.i18n import _

    click.echo(_("database schema at revision {revision} ({url})", revision=current_revision(engine),
                 url=engine.url.render_as_string()))
