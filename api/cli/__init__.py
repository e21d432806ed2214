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
    settings = load_settings(database_url)
    i18n.configure(default_locale=settings.default_locale, time_zone=settings.time_zone)
    ctx.obj = settings


def load_settings(database_url: str | None):  # type: ignore[no-untyped-def]
    """The centre's settings (environment, ``.env``); a value that cannot be used stops the run
    with the settings named, in the run's locale."""
    import pydantic

    from api.cli.common import fail
    from itembank.config import Settings
    from itembank.errors import ConfigurationError
    from itembank.i18n import Message

    try:
        return Settings() if database_url is None else Settings(database_url=database_url)
    except pydantic.ValidationError as e:
        problems = [Message("the setting {setting} = {value!r} cannot be used: correct it in the environment or the "
                            ".env file", setting="ITEMBANK_" + str(err["loc"][0]).upper() if err["loc"] else "ITEMBANK",
                            value=err.get("input")) for err in e.errors()]
        fail(ConfigurationError(Message("the centre's settings cannot be used"), errors=problems))


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
