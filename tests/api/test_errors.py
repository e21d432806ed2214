"""One error body for every failure, and inputs the database could not store refused as 422
before they reach it (found by the schemathesis run; here each case by name)."""

from __future__ import annotations

from itembank.domain import Role

from .conftest import Api
from .test_items import ITEM

KEYS = {"code", "message", "field", "params", "errors", "details", "problems"}


def test_every_error_has_the_same_body(api: Api) -> None:
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    cases = [
        api.client.get("/banks"),  # 401
        api.client.get("/ledger", headers=mgr),  # 403 role_required
        api.client.get("/banks/99999", headers=mgr),  # 404
        api.client.get("/nowhere", headers=mgr),  # 404 from the router
        api.client.post("/banks", headers=mgr, json={"occupation_code": "6-31-01-03", "level": 5}),  # 409 exists
        api.client.post("/banks", headers=mgr, json={"level": 9}),  # 422
        api.client.delete("/banks", headers=mgr),  # 405
    ]
    assert [r.status_code for r in cases] == [401, 403, 404, 404, 409, 422, 405]
    for r in cases:
        assert set(r.json()["error"]) == KEYS, r.text
    assert cases[1].json()["error"]["code"] == "role_required"
    assert {d["field"] for d in cases[5].json()["error"]["details"]} == {"occupation_code", "level"}
    assert cases[5].json()["error"]["errors"] == [d["message"] for d in cases[5].json()["error"]["details"]]


def test_unstorable_text_is_refused(api: Api) -> None:
    w = api.add_user("wr1", Role.ITEM_WRITER)
    base = f"/banks/{api.bank_id}/items"
    nul = {**ITEM, "content": {**ITEM["content"], "stem": "安全\x00电压"}}
    r = api.client.post(base, headers=w, json=nul)
    assert r.status_code == 422 and r.json()["error"]["errors"][0] == "请求：题干：第 3 个字符是空字符（U+0000），请删除"
    surrogate = '{"code": "Q1", "content": {"item_type": "true_false", "stem": "\\ud800", "points": 1, ' \
                '"element_codes": ["A-01"], "key": ["T"]}}'
    r = api.client.post(base, headers={**w, "content-type": "application/json"}, content=surrogate)
    assert r.status_code == 422 and "不是有效的 Unicode 字符（孤立代理项 U+D800）" in r.json()["error"]["errors"][0]
    assert api.client.get(f"{base}/Q%00001", headers=w).status_code == 422
    assert api.client.get(base, headers=w, params={"q": "a\x00b"}).status_code == 422
    r = api.client.post("/auth/token", data={"username": "wr1\x00", "password": "x" * 12})
    assert r.status_code == 422
    # NaN, infinities, unknown fields
    r = api.client.post(base, headers={**w, "content-type": "application/json"},
                        content=b'{"code": "Q2", "content": {"item_type": "true_false", "stem": "s", "points": NaN, '
                                b'"element_codes": ["A-01"], "key": ["T"]}}')
    assert r.status_code == 422
    assert api.client.post(base, headers=w, json={**ITEM, "colour": "red"}).status_code == 422


def test_numbers_beyond_what_the_database_holds_are_refused(api: Api) -> None:
    office = api.add_user("office", Role.EXAM_OFFICE)
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    assert api.client.get(f"/banks/{10**20}", headers=mgr).status_code == 422
    assert api.client.get("/banks/0", headers=mgr).status_code == 422
    assert api.client.get(f"/applications/{2**31}", headers=office).status_code == 422
    r = api.client.post("/applications", headers=office, json={
        "candidate_id": 10**30, "occupation_code": "6-31-01-03", "level": 5, "declaration": {}})
    assert r.status_code == 422 and r.json()["error"]["field"] == "candidate_id"
    assert api.client.get("/banks", headers=mgr, params={"offset": 10**12}).status_code == 422
    assert api.client.get("/banks", headers=mgr, params={"limit": 501}).status_code == 422
    r = api.client.post("/exam-plans/P/publication", headers=office, json={"starts_on": "9999-12-31"})
    assert r.status_code == 422  # working-day arithmetic must not run past year 9999


def test_pages_say_where_they_are(api: Api) -> None:
    admin = api.add_user("root", Role.ADMIN)
    for i in range(3):
        api.add_user(f"user{i}", Role.AUDITOR)
    page = api.client.get("/users", headers=admin, params={"offset": 1, "limit": 2}).json()
    assert page["total"] == 4 and page["offset"] == 1 and page["limit"] == 2 and len(page["items"]) == 2
    auditors = api.client.get("/users", headers=admin, params={"role": "auditor"}).json()
    assert auditors["total"] == 3


def _failing(calls: list[int], exc: Exception, *, times: int, then=None):  # type: ignore[no-untyped-def]
    def page(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) <= times:
            raise exc
        return then(*args, **kwargs)
    return page


def test_a_locked_database_is_503_with_retry_after_in_chinese(api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SQLite's "database is locked" (its busy timeout ran out): 503, Retry-After, the reader's
    language, never 500; not retried at once (it has waited already)."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from api.routes import items as item_routes

    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    orig = sqlite3.OperationalError("database is locked")
    orig.sqlite_errorcode = 5  # type: ignore[attr-defined]  # SQLITE_BUSY
    calls: list[int] = []
    monkeypatch.setattr(item_routes, "page_items", _failing(calls, OperationalError("SELECT", None, orig), times=99))
    r = api.client.get(f"/banks/{api.bank_id}/items", headers=mgr)
    assert r.status_code == 503 and r.json()["error"]["code"] == "busy"
    assert r.headers["Retry-After"] and "x-itembank-retry" not in r.headers
    assert "数据库" in r.json()["error"]["message"] and len(calls) == 1
    r = api.client.get(f"/banks/{api.bank_id}/items", headers={**mgr, "Accept-Language": "en"})
    assert r.status_code == 503 and "busy" in r.json()["error"]["message"]


def test_a_deadlock_is_retried_whole_then_503(api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A PostgreSQL deadlock or serialization failure: the whole request runs again (a few
    times); only when every attempt fails, 503 with Retry-After."""
    from sqlalchemy.exc import OperationalError

    from api.routes import items as item_routes

    class Deadlock(Exception):
        sqlstate = "40P01"

    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    deadlock = OperationalError("UPDATE", None, Deadlock("deadlock detected"))
    calls: list[int] = []
    monkeypatch.setattr(item_routes, "page_items", _failing(calls, deadlock, times=2, then=item_routes.page_items))
    r = api.client.get(f"/banks/{api.bank_id}/items", headers=mgr)
    assert r.status_code == 200 and len(calls) == 3 and "x-itembank-retry" not in r.headers
    calls.clear()
    monkeypatch.setattr(item_routes, "page_items", _failing(calls, deadlock, times=99))
    r = api.client.get(f"/banks/{api.bank_id}/items", headers=mgr)
    assert r.status_code == 503 and r.headers["Retry-After"] and len(calls) == 4
