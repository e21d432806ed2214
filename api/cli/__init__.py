"""The ``itembank`` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import logging

import click


@click.group()
@click.option("--database-url", envvar="ITEMBANK_DATABASE_URL", default=None,
              help="SQLAlchemy URL (default: sqlite:///itembank.db in the working directory).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.option("--lang", default=None, metavar="zh_CN|en",
              help="Language of messages (default: LANG when it is zh or en, else zh_CN).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, verbose: bool, lang: str | None) -> None:
    """职业技能等级认定题库与组卷 — item bank and paper assembly."""
    import os

    from itembank import i18n
    from itembank.config import Settings

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    settings = Settings() if database_url is None else Settings(database_url=database_url)
    i18n.configure(default_locale=settings.default_locale, time_zone=settings.time_zone)
    # for this run only (click closes the context at the end: a test's CliRunner leaves no locale behind)
    ctx.with_resource(i18n.use_locale(lang or i18n.locale_from_env(dict(os.environ))))
    ctx.obj = settings


# "module:command" of every registered command; one line each, so areas add theirs without
# touching the others' lines.
COMMANDS = (
    "api.cli.db:db",
    "api.cli.bank:demo",
    "api.cli.bank:readiness",
    "api.cli.bank:occupations",
    "api.cli.bank:banks",
    "api.cli.bank:minimums",
    "api.cli.bank:ledger",
    "api.cli.serve:serve",
    "api.cli.serve:worker",
    "api.cli.serve:users",
    "api.cli.lifecycle:lifecycle",
    "api.cli.export:export",
    "api.cli.io:template",
    "api.cli.io:import_",
    "api.cli.workflow:experts",
    "api.cli.workflow:workflow",
    "api.cli.assembly:blueprint",
    "api.cli.assembly:assemble",
    "api.cli.assembly:papers",
    "api.cli.analyse:analyse",
    "api.cli.similarity:similarity",
)
# ("module:group", "module:command"): commands added to a group defined elsewhere.
SUBCOMMANDS = (
    ("api.cli.bank:ledger", "api.cli.io:ledger_show"),
    ("api.cli.bank:ledger", "api.cli.io:ledger_query"),
    ("api.cli.export:export", "api.cli.io:export_qti_cmd"),
)


def _load(spec: str):  # type: ignore[no-untyped-def]
    import importlib

    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def _register() -> None:
    for spec in COMMANDS:
        main.add_command(_load(spec))
    for group, command in SUBCOMMANDS:
        _load(group).add_command(_load(command))


_register()
