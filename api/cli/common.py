"""What every ``itembank`` command group shares: the engine, the error exit, the bank options
and the acting person. One place, so that every command opens the database, names a bank and
fails the same way."""

from __future__ import annotations

import getpass
import sys
from typing import NoReturn

import click

from api.cli.localized import Choice, option
from itembank.config import Settings
from itembank.domain import Level, Part


def open_engine(settings: Settings, *, migrate: bool = True):  # type: ignore[no-untyped-def]
    """The configured database, migrated to the newest schema unless ``migrate`` is False."""
    from itembank.db import make_engine, upgrade

    from itembank import keys

    engine = make_engine(settings)
    keys.configure(engine, settings)  # key files beside the database or in ITEMBANK_KEY_DIR
    if migrate:
        upgrade(engine)
    return engine


def fail(message: object, code: int = 2) -> NoReturn:
    """Print ``error: message`` (in the run's locale: --lang / LANG, default zh_CN) to standard
    error and exit with ``code`` (2: refused). ``message`` may be a message, an error of the
    item bank (its message and every listed problem) or a final string."""
    from itembank.i18n import _

    click.echo(_("error: {message}", message=error_text(message)), err=True)
    sys.exit(code)


def load_settings(cls, **values):  # type: ignore[no-untyped-def]
    """Settings of the centre (``cls``: a ``BaseSettings``, read from the environment and
    ``.env``); a value that cannot be used stops the run with each setting named by its
    environment variable, in the run's locale."""
    import pydantic

    from itembank.errors import ConfigurationError
    from itembank.i18n import Message

    try:
        return cls(**values)
    except pydantic.ValidationError as e:
        prefix = str(cls.model_config.get("env_prefix", ""))
        problems = [Message("the setting {setting} = {value!r} cannot be used: correct it in the environment or the "
                            ".env file", setting=(prefix + str(err["loc"][0])).upper() if err["loc"] else prefix,
                            value=err.get("input")) for err in e.errors()]
        fail(ConfigurationError(Message("the centre's settings cannot be used"), errors=problems))


def error_text(error: object) -> str:
    """The words of ``error`` in the run's locale: an item bank error with its listed problems,
    the message a ValueError carries (``Level.parse`` ...), or the text itself."""
    from itembank.errors import ItemBankError
    from itembank.i18n import render

    if isinstance(error, ItemBankError):
        return error.message
    if isinstance(error, BaseException) and isinstance(getattr(error, "message", None), str):
        return error.message  # type: ignore[attr-defined]  # exports.errors keep their message alike
    if isinstance(error, BaseException):
        arg = error.args[0] if error.args else ""
        return render(arg) if not isinstance(arg, str) else (arg or str(error))
    return render(error)  # type: ignore[arg-type]


def cli_bank(session, occupation_code: str, level: str, work_type: str | None):  # type: ignore[no-untyped-def]
    """The bank named by the ``--occupation/--level/--work-type`` options; a bad level exits 2."""
    from itembank.occupations import get_bank

    try:
        lvl = Level.parse(level)
    except ValueError as e:
        fail(e)
    return get_bank(session, occupation_code=occupation_code, level=lvl, work_type=work_type)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


actor_option = option("--actor", default=_default_actor, show_default="login name",
                      help="Who is acting (recorded in the ledger).")
bank_options = [
    option("--occupation", "occupation_code", required=True, metavar="CODE", help="Occupation code, e.g. 6-31-01-03."),
    option("--level", required=True, metavar="LEVEL", help="5..1 (五级 … 一级)."),
    option("--work-type", default=None, metavar="WORK_TYPE"),
]
part_option = option("--part", type=Choice(Part), default="theory",
                     show_default=True)


def with_bank(fn):  # type: ignore[no-untyped-def]
    """Add the bank options (occupation, level, work type) to a command."""
    for opt in reversed(bank_options):
        fn = opt(fn)
    return fn


def with_bank_part(fn):  # type: ignore[no-untyped-def]
    """The bank options and ``--part`` (default theory)."""
    return with_bank(part_option(fn))
