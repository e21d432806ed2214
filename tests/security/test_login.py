"""Login and accounts (issue 12): throttling per (user, address) with growing delays and a
per-account cap that never locks the owner out from a known address, kept in the database;
forwarded headers only from configured proxies; one answer for a disabled account and a wrong
password; password strength; the last administrator; response headers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from api.cli import main
from itembank import accounts
from itembank.config import Settings
from itembank.domain import Role
from itembank.errors import ConflictError, TooManyAttemptsError
from itembank.orm_accounts import LoginFailureRecord

from .conftest import PASSWORD, Api, page_headers

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _client(api: Api, address: str, app=None) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app or api.client.app, client=(address, 40000))


def _login(client: TestClient, username: str, password: str = PASSWORD, **headers: str) -> int:
    return client.post("/auth/token", data={"username": username, "password": password}, headers=headers).status_code


# --------------------------------------------------------------------------------------
# Throttling


def test_delays_grow_per_user_and_address(session: Session) -> None:
    accounts.create_user(session, username="writer1", password=PASSWORD, roles=[(Role.ITEM_WRITER, None)],
                         actor="t")
    at = T0
    waits = []
    for n in range(1, 8):
        accounts.record_failure(session, username="writer1", client="10.0.0.1", now=at)
        try:
            accounts.check_rate_limit(session, username="writer1", client="10.0.0.1", now=at)
            waits.append(0)
        except TooManyAttemptsError as e:
            waits.append(e.retry_after_s)
        at += accounts.pair_delay(n)  # the attacker waits exactly as long as asked
    assert waits == [0, 0, 1, 2, 4, 8, 16]
    # another address is not slowed down by these
    accounts.check_rate_limit(session, username="writer1", client="10.0.0.2", now=at)
    assert accounts.pair_delay(40) == accounts.MAX_DELAY


def test_a_stranger_cannot_lock_the_owner_out(api: Api) -> None:
    api.add_user("admin1", Role.ADMIN)
    home = _client(api, "192.0.2.10")
    assert _login(home, "admin1") == 200  # the owner's known address
    # a botnet tries the admin's password from many addresses, each within its own delay
    for i in range(accounts.ACCOUNT_CAP):
        accounts.record_failure(api.session, username="admin1", client=f"198.51.100.{i}")
    api.session.commit()
    assert _login(_client(api, "203.0.113.99"), "admin1") == 429  # unknown addresses are stopped ...
    assert _login(home, "admin1") == 200  # ... the owner is not
    # an administrator's unlock lets the account in from anywhere at once (ledgered)
    assert accounts.unlock(api.session, username="admin1", actor="root") == accounts.ACCOUNT_CAP
    api.session.commit()
    assert _login(_client(api, "203.0.113.99"), "admin1") == 200


def test_unlock_from_the_api_and_the_cli(api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin = api.add_user("admin1", Role.ADMIN)
    api.add_user("writer1", Role.ITEM_WRITER)
    c = _client(api, "192.0.2.20")
    for _ in range(accounts.FREE_FAILURES):
        assert _login(c, "writer1", "Wrong-Password-77") == 401
    assert _login(c, "writer1") == 429
    r = api.client.post("/users/writer1/unlock", headers=admin, json={"client": "192.0.2.20"})
    assert r.status_code == 200 and r.json()["cleared"] == accounts.FREE_FAILURES
    assert _login(c, "writer1") == 200
    # the command line
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner()
    assert run.invoke(main, ["--database-url", url, "users", "add", "writer9", "--role", "item_writer",
                             "--password-stdin"], input=f"{PASSWORD}\n").exit_code == 0
    r = run.invoke(main, ["--database-url", url, "users", "unlock", "writer9"])
    assert r.exit_code == 0, r.output


def test_the_throttle_is_shared_by_server_processes(api: Api, engine) -> None:  # type: ignore[no-untyped-def]
    """Two app instances (two server processes) on one database: failures seen by one slow down
    the other; nothing is kept in a process."""
    api.add_user("writer1", Role.ITEM_WRITER)
    other = create_app(Settings(database_url=engine.url.render_as_string(hide_password=False)), engine=engine)
    other.state.sessionmaker = api.client.app.state.sessionmaker
    one, two = _client(api, "192.0.2.30"), _client(api, "192.0.2.30", other)
    for client in (one, two, one):
        assert _login(client, "writer1", "Wrong-Password-77") == 401
    assert _login(two, "writer1") == 429


# --------------------------------------------------------------------------------------
# Forwarded headers


def _failures(api: Api, username: str) -> set[str]:
    return set(api.session.scalars(select(LoginFailureRecord.client).where(LoginFailureRecord.username == username)))


def test_forwarded_headers_count_only_from_configured_proxies(api: Api, engine) -> None:  # type: ignore[no-untyped-def]
    api.add_user("writer1", Role.ITEM_WRITER)
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    # the default: no trusted proxy, even on 127.0.0.1: the header is ignored
    assert _login(_client(api, "127.0.0.1"), "writer1", "Wrong-Password-77", **forwarded) == 401
    assert _failures(api, "writer1") == {"127.0.0.1"}
    behind = create_app(Settings(database_url=engine.url.render_as_string(hide_password=False), trusted_proxies=["10.9.9.9"]), engine=engine)
    behind.state.sessionmaker = api.client.app.state.sessionmaker
    assert _login(_client(api, "10.9.9.9", behind), "writer1", "Wrong-Password-77",
                  **{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}) == 401
    assert _login(_client(api, "10.1.1.1", behind), "writer1", "Wrong-Password-77", **forwarded) == 401
    assert _failures(api, "writer1") == {"127.0.0.1", "203.0.113.7", "10.1.1.1"}


def test_serve_switches_uvicorn_s_own_proxy_trust_off(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    r = CliRunner().invoke(main, ["--database-url", f"sqlite:///{tmp_path / 's.db'}", "serve",
                                  "--trusted-proxy", "10.0.0.0/8"])
    assert r.exit_code == 0, r.output
    assert seen["proxy_headers"] is False and seen["forwarded_allow_ips"] == ""
    assert seen["app"].state.settings.trusted_proxies == ["10.0.0.0/8"]
    with pytest.raises(ValueError, match="not-an-ip"):
        create_app(Settings(database_url="sqlite://", trusted_proxies=["not-an-ip"]))


# --------------------------------------------------------------------------------------
# Accounts


def test_a_disabled_account_gets_the_wrong_password_answer(api: Api) -> None:
    admin = api.add_user("admin1", Role.ADMIN)
    api.add_user("writer1", Role.ITEM_WRITER)
    api.client.put("/users/writer1/active", headers=admin, json={"active": False})
    right = api.client.post("/auth/token", data={"username": "writer1", "password": PASSWORD})
    wrong = api.client.post("/auth/token", data={"username": "writer1", "password": "Wrong-Password-77"})
    assert (right.status_code, right.json()) == (wrong.status_code, wrong.json())
    # the login page says the same too
    browser = _client(api, "192.0.2.50")
    answers = []
    for pw in (PASSWORD, "Wrong-Password-78"):
        token = browser.get("/ui/login").cookies.get("itembank_login_csrf")
        answers.append(browser.post("/ui/login", data={"username": "writer1", "password": pw, "csrf_token": token},
                                    follow_redirects=False))
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].text.split('name="csrf_token"')[0] == answers[1].text.split('name="csrf_token"')[0]


def test_weak_passwords_are_refused_in_chinese(api: Api) -> None:
    admin = api.add_user("admin1", Role.ADMIN)
    r = api.client.post("/users", headers=admin, json={"username": "writer2", "password": "Password123",
                                                       "roles": [{"role": "item_writer"}]})
    assert r.status_code == 422
    errors = r.json()["error"]["errors"]
    assert any("太容易" in e for e in errors) and any("常见" in e for e in errors), errors
    ok = api.client.post("/users", headers=admin, json={"username": "writer3", "password": "铜镜-晚风-梧桐-42",
                                                        "roles": [{"role": "item_writer"}]})
    assert ok.status_code == 201, ok.text


def test_the_last_active_administrator_stays(api: Api) -> None:
    root = api.add_user("root", Role.ADMIN)
    r = api.client.put("/users/root/active", headers=root, json={"active": False})
    assert r.status_code == 409
    r = api.client.put("/users/root/roles", headers=root, json={"roles": [{"role": "auditor"}]})
    assert r.status_code == 409
    with pytest.raises(ConflictError):
        accounts.set_active(api.session, username="root", active=False, actor="root")
    api.session.rollback()
    api.add_user("root2", Role.ADMIN)
    assert api.client.put("/users/root/active", headers=root, json={"active": False}).status_code == 200


def test_users_enable_and_disable_on_the_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner()
    assert run.invoke(main, ["--database-url", url, "users", "create-admin", "root", "--password-stdin"],
                      input=f"{PASSWORD}\n").exit_code == 0
    assert run.invoke(main, ["--database-url", url, "users", "add", "writer1", "--role", "item_writer",
                             "--password-stdin"], input=f"{PASSWORD}\n").exit_code == 0
    r = run.invoke(main, ["--database-url", url, "users", "disable", "root"])
    assert r.exit_code == 2 and "root" in r.output
    assert run.invoke(main, ["--database-url", url, "users", "disable", "writer1"]).exit_code == 0
    r = run.invoke(main, ["--database-url", url, "users", "enable", "writer1"])
    assert r.exit_code == 0, r.output
    from itembank.db import make_engine, transaction

    with transaction(make_engine(url=url)) as s:
        assert accounts.get_user(s, username="writer1").active is True


# --------------------------------------------------------------------------------------
# Response headers


def test_api_json_and_downloads_are_not_cached_nor_sniffed(api: Api) -> None:
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    for r in (api.client.get("/banks", headers=mgr),
              api.client.get(f"/banks/{api.bank_id}/element-tables/theory/document", headers=mgr),
              api.client.get("/templates/items.csv", headers=mgr),
              api.client.get("/banks"),  # an error answer too
              api.client.get("/ui/login")):
        assert r.headers["cache-control"] == "no-store", r.url
        assert r.headers["x-content-type-options"] == "nosniff", r.url
    static = api.client.get("/ui/static/style.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
    assert page_headers(mgr)
