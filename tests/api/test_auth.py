from __future__ import annotations

from datetime import datetime, timedelta, timezone

from itembank import accounts
from itembank.domain import Role
from itembank.orm_accounts import UserRecord

from .conftest import PASSWORD, Api


def test_health_needs_no_login(api: Api) -> None:
    r = api.client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_every_other_request_needs_a_token(api: Api) -> None:
    r = api.client.get("/banks")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert api.client.get("/banks", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_login_me_logout(api: Api) -> None:
    headers = api.add_user("manager1", Role.BANK_MANAGER, occupation="6-31-01-03")
    me = api.client.get("/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["roles"] == [["bank_manager", "6-31-01-03"]]
    assert api.client.post("/auth/logout", headers=headers).status_code == 204
    r = api.client.get("/auth/me", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["message"] == "您已退出登录，请重新登录。"


def test_passwords_are_stored_as_argon2_hashes_only(api: Api) -> None:
    api.add_user("writer1", Role.ITEM_WRITER)
    rec = api.session.query(UserRecord).filter_by(username="writer1").one()
    assert rec.password_hash.startswith("$argon2id$")
    assert PASSWORD not in rec.password_hash


def test_wrong_password_and_unknown_user_get_the_same_answer(api: Api) -> None:
    api.add_user("writer1", Role.ITEM_WRITER)
    a = api.client.post("/auth/token", data={"username": "writer1", "password": "wrong-password-1"})
    b = api.client.post("/auth/token", data={"username": "nobody", "password": "wrong-password-1"})
    assert a.status_code == b.status_code == 401
    assert a.json()["error"] == b.json()["error"]
    assert a.json()["error"]["message"] == "账号或密码错误。"
    assert a.json()["error"]["code"] == "not_authenticated"


def test_failed_logins_are_rate_limited(api: Api) -> None:
    api.add_user("writer1", Role.ITEM_WRITER)
    for _ in range(accounts.FREE_FAILURES):
        assert api.client.post("/auth/token", data={"username": "writer1", "password": "bad-pass-123"}).status_code == 401
    r = api.client.post("/auth/token", data={"username": "writer1", "password": PASSWORD})
    assert r.status_code == 429, "even the right password waits once the limit is hit"
    assert int(r.headers["Retry-After"]) > 0
    assert "writer1" in r.json()["error"]["message"]
    assert r.json()["error"]["params"]["user"] == "writer1"


def test_tokens_expire(api: Api) -> None:
    api.add_user("writer1", Role.ITEM_WRITER)
    user = accounts.get_user(api.session, username="writer1")
    past = datetime.now(timezone.utc) - timedelta(hours=9)
    issued = accounts.issue_token(api.session, user=user, now=past)
    api.session.commit()
    r = api.client.get("/auth/me", headers={"Authorization": f"Bearer {issued.token}"})
    assert r.status_code == 401 and r.json()["error"]["message"] == "登录已过期，请重新登录。"


def test_weak_passwords_are_refused_with_reasons(api: Api) -> None:
    headers = api.add_user("admin1", Role.ADMIN)
    r = api.client.post("/users", headers=headers, json={
        "username": "w2", "password": "short", "roles": [{"role": "item_writer"}]})
    assert r.status_code == 422
    body = r.json()["error"]
    from itembank.passwords import MIN_LENGTH

    assert any(f"至少 {MIN_LENGTH} 个字符" in e for e in body["errors"])
    assert {d["field"] for d in body["details"]} >= {"username", "password"}


def test_disabled_user_is_logged_out(api: Api) -> None:
    admin = api.add_user("admin1", Role.ADMIN)
    writer = api.add_user("writer1", Role.ITEM_WRITER)
    assert api.client.put("/users/writer1/active", headers=admin, json={"active": False}).status_code == 200
    assert api.client.get("/auth/me", headers=writer).status_code == 401
    r = api.client.post("/auth/token", data={"username": "writer1", "password": PASSWORD})
    wrong = api.client.post("/auth/token", data={"username": "writer1", "password": "Not-the-password-9"})
    assert r.status_code == wrong.status_code == 401 and r.json()["error"] == wrong.json()["error"]
