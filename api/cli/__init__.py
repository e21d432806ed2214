"""The ``itembank`` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import logging

import click


@click.group()
@click.option("--database-url", envvar="ITEMBANK_DATABASE_URL", default=None,
              help="SQLAlchemy URL (default: sqlite:///itembank.db in the working directory).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, verbose: bool) -> None:
    """职业技能等级认定题库与组卷 — item bank and paper assembly."""
    from itembank.config import Settings

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    settings = Settings() if database_url is None else Settings(database_url=database_url)
    ctx.obj = settings


def _register() -> None:
    from api.cli import analyse as analyse_cli
    from api.cli import bank as bank_cli
    from api.cli import db as db_cli
    from api.cli import lifecycle as lifecycle_cli
    from api.cli import serve as serve_cli

    main.add_command(db_cli.db)
    for cmd in (bank_cli.demo, bank_cli.readiness, bank_cli.occupations, bank_cli.banks,
                bank_cli.minimums, bank_cli.ledger, serve_cli.serve, serve_cli.users):
        main.add_command(cmd)
    main.add_command(lifecycle_cli.lifecycle)
    main.add_command(analyse_cli.analyse)


_register()
