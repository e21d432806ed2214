"""``itembank serve``, ``itembank worker`` and ``itembank users ...``."""

from __future__ import annotations

import sys

import click

from itembank.config import Settings


@click.command()
@click.option("--host", default=None, help="Default: ITEMBANK_HOST or 127.0.0.1.")
@click.option("--port", type=int, default=None, help="Default: ITEMBANK_PORT or 8000.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes (uvicorn workers), all serving the same port.")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    """Run the HTTP API (OpenAPI docs at /docs) on the configured database.

    Jobs (assembly runs, large imports, analyses, sealed-paper batches, the periodic sweeps)
    need a worker: on SQLite one runs inside this command (one command is enough); on
    PostgreSQL run ``itembank worker`` processes, on this machine or others (docs/DEPLOY.md),
    or set ITEMBANK_LOCAL_WORKER=true."""
    import os
    import subprocess

    import uvicorn

    from itembank.db import make_engine, upgrade

    engine = make_engine(settings)
    upgrade(engine)
    local = settings.local_worker if settings.local_worker is not None else engine.dialect.name == "sqlite"
    engine.dispose()
    host, port = host or settings.host, port or settings.port
    if workers == 1:
        from api.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
        return
    # several server processes: each builds the app from the environment; the job worker runs
    # beside them as one process of its own (not one per server process)
    os.environ["ITEMBANK_DATABASE_URL"] = settings.database_url
    os.environ["ITEMBANK_LOCAL_WORKER"] = "false"
    worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"]) if local else None
    try:
        uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info",
                    timeout_graceful_shutdown=5)
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
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
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(settings)
    upgrade(engine)
    try:
        with transaction(engine) as session:
            accounts.create_user(session, username=username, password=password, display_name=display_name,
                                 roles=[(Role.ADMIN, None)], actor="cli")
    except ItemBankError as e:
        click.echo(f"error: {e.message}", err=True)
        sys.exit(2)
    click.echo(f"administrator {username} created")


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
        "password", hide_input=True, confirmation_prompt=True)
    parsed = [(r.split(":", 1)[0], r.split(":", 1)[1] if ":" in r else None) for r in roles]
    engine = make_engine(settings)
    upgrade(engine)
    try:
        with transaction(engine) as session:
            accounts.create_user(session, username=username, password=password, display_name=display_name,
                                 roles=parsed, actor="cli")
    except ItemBankError as e:
        click.echo(f"error: {e.message}", err=True)
        sys.exit(2)
    click.echo(f"user {username} created")
