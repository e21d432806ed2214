"""The ``itembank`` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import logging

import click

from api.cli.localized import LogFormatter, RootGroup, group, option


def _check_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The locale asked for; ``RootGroup.main`` has already set it for the run."""
    from itembank import i18n

    if value is None:
        return None
    try:
        return i18n.normalize_locale(value, strict=True)
    except ValueError as e:
        raise click.BadParameter(str(e.args[0])) from None


@group(cls=RootGroup)
@option("--database-url", envvar="ITEMBANK_DATABASE_URL", default=None, metavar="URL",
        help="Database URL (default: sqlite:///itembank.db in the working directory).")
@option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@option("--lang", default=None, metavar="zh_CN|en", callback=_check_lang, is_eager=True,
        help="Language of messages (default: LANG when it is zh or en, else zh_CN).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, verbose: bool, lang: str | None) -> None:
    """Item bank and paper assembly for vocational skill level certification."""
    from itembank import i18n

    handler = logging.StreamHandler()
    handler.setFormatter(LogFormatter())
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
    from api.cli.common import load_settings
    from itembank.config import Settings

    settings = load_settings(Settings) if database_url is None else load_settings(Settings, database_url=database_url)
    i18n.configure(default_locale=settings.default_locale, time_zone=settings.time_zone)
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
