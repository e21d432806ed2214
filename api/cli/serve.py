"""``itembank serve`` and ``itembank users ...``."""

from __future__ import annotations

import sys

import click

from api.cli.common import fail
from itembank.config import Settings
from itembank.i18n import _


@click.command()
@click.option("--host", default=None, help="Default: ITEMBANK_HOST or 127.0.0.1.")
@click.option("--port", type=int, default=None, help="Default: ITEMBANK_PORT or 8000.")
@click.option("--workers", type=int, default=1, show_default=True)
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    """Run the HTTP API (OpenAPI docs at /docs) on the configured database."""
    import uvicorn

    from itembank.db import make_engine, upgrade

    upgrade(make_engine(settings))
    from api.app import create_app

    app = create_app(settings)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, workers=workers, log_level="info")


@click.group()
def users() -> None:
    """User accounts."""


@users.command("create-admin")
@click.argument("username")
@click.option("--display-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@click.pass_obj
def create_admin(settings: Settings, username: str, display_name: str, password_stdin: bool) -> None:
    """Create an administrator. There are no default passwords: you choose one here."""
    from itembank import accounts
    from itembank.db import make_engine, transaction, upgrade
    from itembank.domain import Role
    from itembank.errors import ItemBankError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(_("password"), hide_input=True, confirmation_prompt=True)
    engine = make_engine(settings)
    upgrade(engine)
    try:
        with transaction(engine) as session:
            accounts.create_user(session, username=username, password=password, display_name=display_name,
                                 roles=[(Role.ADMIN, None)], actor="cli")
    except ItemBankError as e:
        fail(e)
    click.echo(_("administrator {username} created", username=username))


@users.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="ROLE or ROLE:OCCUPATION_CODE, repeatable (e.g. item_writer:6-31-01-03).")
@click.option("--display-name", default="")
@click.option("--password-stdin", is_flag=True)
@click.pass_obj
def add_user(settings: Settings, username: str, roles: tuple[str, ...], display_name: str,
             password_stdin: bool) -> None:
    """Create a user with roles."""
    from itembank import accounts
    from itembank.db import make_engine, transaction, upgrade
    from itembank.errors import ItemBankError

    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
        _("password"), hide_input=True, confirmation_prompt=True)
    parsed = [(r.split(":", 1)[0], r.split(":", 1)[1] if ":" in r else None) for r in roles]
    engine = make_engine(settings)
    upgrade(engine)
    try:
        with transaction(engine) as session:
            accounts.create_user(session, username=username, password=password, display_name=display_name,
                                 roles=parsed, actor="cli")
    except ItemBankError as e:
        fail(e)
    click.echo(_("user {username} created", username=username))
