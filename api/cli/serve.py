"""``itembank serve``, ``itembank worker`` and ``itembank users ...``."""

from __future__ import annotations

import sys

import click

from api.cli.common import actor_option, fail, open_engine
from api.cli.localized import argument, command, group, option
from itembank.config import Settings
from itembank.i18n import _


@command()
@option("--host", default=None, help="Default: ITEMBANK_HOST or 127.0.0.1.")
@option("--port", type=int, default=None, help="Default: ITEMBANK_PORT or 8000.")
@option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
        help="Server processes (uvicorn workers), all serving the same port.")
@option("--trusted-proxy", "trusted_proxies", multiple=True,
        help="Address or network of a reverse proxy whose X-Forwarded-For/-Proto are believed (repeatable; "
             "adds to ITEMBANK_TRUSTED_PROXIES). Without one, forwarded headers are ignored.")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, workers: int,
          trusted_proxies: tuple[str, ...]) -> None:
    """Run the HTTP API (OpenAPI docs at /docs) on the configured database.

    Jobs (assembly runs, large imports, analyses, sealed-paper batches, the periodic sweeps)
    need a worker: on SQLite one runs inside this command (one command is enough); on
    PostgreSQL run ``itembank worker`` processes, on this machine or others (docs/DEPLOY.md),
    or set ITEMBANK_LOCAL_WORKER=true."""
    import json
    import os
    import subprocess

    import uvicorn

    from itembank.db import make_engine, upgrade

    engine = make_engine(settings)
    upgrade(engine)
    local = settings.local_worker if settings.local_worker is not None else engine.dialect.name == "sqlite"
    engine.dispose()
    host, port = host or settings.host, port or settings.port
    if trusted_proxies:
        settings = settings.model_copy(update={"trusted_proxies": [*settings.trusted_proxies, *trusted_proxies]})
    # forwarded headers are read by the app, from the configured proxies only
    # (ITEMBANK_TRUSTED_PROXIES, api.security.TrustedProxies): uvicorn's own trust of
    # 127.0.0.1 is switched off
    if workers == 1:
        from api.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=5,
                    proxy_headers=False, forwarded_allow_ips="")
        return
    # several server processes: each builds the app from the environment; the job worker runs
    # beside them as one process of its own (not one per server process)
    os.environ["ITEMBANK_DATABASE_URL"] = settings.database_url
    os.environ["ITEMBANK_LOCAL_WORKER"] = "false"
    if trusted_proxies:
        os.environ["ITEMBANK_TRUSTED_PROXIES"] = json.dumps(settings.trusted_proxies)
    worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"]) if local else None
    try:
        uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info",
                    timeout_graceful_shutdown=5, proxy_headers=False, forwarded_allow_ips="")
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()


@command()
@option("--concurrency", type=click.IntRange(1, 64), default=None,
        help="Jobs run at once (default: ITEMBANK_WORKER_CONCURRENCY or 2).")
@click.pass_obj
def worker(settings: Settings, concurrency: int | None) -> None:
    """Run a job worker: assembly runs, imports, analyses, sealed-paper batches and the periodic
    sweeps, from the queue in the database. Start as many as you like, on any machines that
    reach the database; stop with SIGTERM or Ctrl-C (a running solve is killed and its run
    queued again; nothing waits on a solver)."""
    import asyncio

    from api.worker import make_app, make_runtime, run_worker_async
    from itembank.db import make_engine, upgrade

    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    rt = make_runtime(settings)
    asyncio.run(run_worker_async(make_app(settings), rt, concurrency=concurrency or settings.worker_concurrency))


@group()
def users() -> None:
    """User accounts."""


@users.command("create-admin")
@argument("username")
@option("--display-name", default="")
@option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@click.pass_obj
def create_admin(settings: Settings, username: str, display_name: str, password_stdin: bool) -> None:
    """Create an administrator. There are no default passwords: you choose one here."""
    from itembank import accounts
    from itembank.db import transaction
    from itembank.domain import Role
    from itembank.errors import ItemBankError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(_("password"), hide_input=True, confirmation_prompt=True)
    try:
        with transaction(open_engine(settings)) as session:
            accounts.create_user(session, username=username, password=password, display_name=display_name,
                                 roles=[(Role.ADMIN, None)], actor="cli")
    except ItemBankError as e:
        fail(e)
    click.echo(_("administrator {username} created", username=username))


@users.command("add")
@argument("username")
@option("--role", "roles", multiple=True, required=True,
        help="ROLE or ROLE:OCCUPATION_CODE, repeatable (e.g. item_writer:6-31-01-03).")
@option("--display-name", default="")
@option("--password-stdin", is_flag=True)
@click.pass_obj
def add_user(settings: Settings, username: str, roles: tuple[str, ...], display_name: str,
             password_stdin: bool) -> None:
    """Create a user with roles."""
    from itembank import accounts
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
        _("password"), hide_input=True, confirmation_prompt=True)
    parsed = [(r.split(":", 1)[0], r.split(":", 1)[1] if ":" in r else None) for r in roles]
    try:
        with transaction(open_engine(settings)) as session:
            accounts.create_user(session, username=username, password=password, display_name=display_name,
                                 roles=parsed, actor="cli")
    except ItemBankError as e:
        fail(e)
    click.echo(_("user {username} created", username=username))


def _account_act(settings: Settings, act, done: str) -> None:  # type: ignore[no-untyped-def]
    """Run ``act(session)`` in one transaction; a refusal exits 2 with its message."""
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    try:
        with transaction(open_engine(settings)) as session:
            act(session)
    except ItemBankError as e:
        fail(e)
    click.echo(done)


@users.command("enable")
@argument("username")
@actor_option
@click.pass_obj
def enable_user(settings: Settings, username: str, actor: str) -> None:
    """Enable a disabled account again (ledgered)."""
    from itembank import accounts
    from itembank.i18n import _

    _account_act(settings, lambda s: accounts.set_active(s, username=username, active=True, actor=actor),
                 _("{user} is enabled", user=username))


@users.command("disable")
@argument("username")
@actor_option
@click.pass_obj
def disable_user(settings: Settings, username: str, actor: str) -> None:
    """Disable an account: it is logged out at once (refused for the last active administrator)."""
    from itembank import accounts
    from itembank.i18n import _

    _account_act(settings, lambda s: accounts.set_active(s, username=username, active=False, actor=actor),
                 _("{user} is disabled and logged out", user=username))


@users.command("unlock")
@argument("username")
@option("--client", default=None, help="Only the failures from this address.")
@actor_option
@click.pass_obj
def unlock_user(settings: Settings, username: str, client: str | None, actor: str) -> None:
    """Clear an account's failed logins (all, or from one address), so that it may log in at
    once; ledgered."""
    from itembank import accounts
    from itembank.i18n import _

    cleared: list[int] = []
    _account_act(settings, lambda s: cleared.append(accounts.unlock(s, username=username, client=client,
                                                                     actor=actor)),
                 _("{user}: failed logins cleared", user=username))
