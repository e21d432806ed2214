from __future__ import annotations

from itembank.domain import Role
from itembank.ledger import query_ledger

from .conftest import Api

ITEM = {
    "code": "Q0001",
    "content": {
        "item_type": "single_choice",
        "stem": "我国规定的安全电压额定值不包括（　）。",
        "points": 1,
        "element_codes": ["A-01"],
        "options": [{"label": "A", "text": "36V"}, {"label": "B", "text": "24V"},
                    {"label": "C", "text": "12V"}, {"label": "D", "text": "110V"}],
        "key": ["D"],
        "difficulty_rating": 2,
    },
}


def test_writer_creates_revises_and_sees_only_own_items(api: Api) -> None:
    w1 = api.add_user("writer1", Role.ITEM_WRITER, occupation="6-31-01-03")
    w2 = api.add_user("writer2", Role.ITEM_WRITER, occupation="6-31-01-03")
    base = f"/banks/{api.bank_id}/items"
    r = api.client.post(base, headers=w1, json=ITEM)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "draft" and r.json()["version"] == 1
    second = {**ITEM, "code": "Q0002"}
    assert api.client.post(base, headers=w2, json=second).status_code == 201

    mine = api.client.get(base, headers=w1).json()
    assert [i["code"] for i in mine["items"]] == ["Q0001"] and mine["total"] == 1
    r = api.client.get(f"{base}/Q0002", headers=w1)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"

    revised = {"content": {**ITEM["content"], "stem": "下列电压中不属于安全电压额定值的是（　）。"}, "reason": "措辞"}
    r = api.client.put(f"{base}/Q0001", headers=w1, json=revised)
    assert r.status_code == 200 and r.json()["version"] == 2
    versions = api.client.get(f"{base}/Q0001/versions", headers=w1).json()["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["content"]["stem"] == ITEM["content"]["stem"]


def test_manager_sees_the_whole_bank_and_reads_are_ledgered(api: Api) -> None:
    w1 = api.add_user("writer1", Role.ITEM_WRITER)
    mgr = api.add_user("manager1", Role.BANK_MANAGER, occupation="6-31-01-03")
    base = f"/banks/{api.bank_id}/items"
    api.client.post(base, headers=w1, json=ITEM)
    api.client.post(base, headers=w1, json={**ITEM, "code": "Q0002"})
    page = api.client.get(base, headers=mgr, params={"limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert api.client.get(f"{base}/Q0002", headers=mgr).status_code == 200
    reads = query_ledger(api.session, action="item.read", actor="manager1")
    assert [e.details["code"] for e in reads] == ["Q0002"]
    lists = query_ledger(api.session, action="items.list", actor="manager1")
    assert lists and lists[-1].details["codes"] == ["Q0001"]


def test_roles_are_scoped_to_occupations(api: Api) -> None:
    other = api.add_user("manager2", Role.BANK_MANAGER, occupation="4-04-05-01")
    r = api.client.get(f"/banks/{api.bank_id}/items", headers=other)
    assert r.status_code == 403 and "6-31-01-03" in r.json()["error"]["message"]


def test_bad_items_are_refused_with_every_error_named(api: Api) -> None:
    w1 = api.add_user("writer1", Role.ITEM_WRITER)
    bad = {**ITEM, "content": {**ITEM["content"], "key": ["E"], "element_codes": ["Z-9"]}}
    r = api.client.post(f"/banks/{api.bank_id}/items", headers=w1, json=bad)
    assert r.status_code == 422
    errors = r.json()["error"]["errors"]
    assert any("答案：答案 E 不在选项 ABCD 中" in e for e in errors)
    assert any("Z-9" in e for e in errors)
    assert {d["field"] for d in r.json()["error"]["details"]} == {"key", "element_codes"}
    missing = api.client.post(f"/banks/{api.bank_id}/items", headers=w1, json={"code": "X"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "content"
    dup = api.client.post(f"/banks/{api.bank_id}/items", headers=w1, json=ITEM)
    assert dup.status_code == 201
    again = api.client.post(f"/banks/{api.bank_id}/items", headers=w1, json=ITEM)
    assert again.status_code == 422 and "编号已在" in again.json()["error"]["errors"][0]


def test_not_found_is_404_with_words(api: Api) -> None:
    mgr = api.add_user("manager1", Role.BANK_MANAGER)
    r = api.client.get("/banks/99999", headers=mgr)
    assert r.status_code == 404 and "99999" in r.json()["error"]["message"]
    r = api.client.get(f"/banks/{api.bank_id}/items/NOPE", headers=mgr)
    assert r.status_code == 404 and "NOPE" in r.json()["error"]["message"]


def test_readiness_and_element_tables(api: Api) -> None:
    mgr = api.add_user("manager1", Role.BANK_MANAGER)
    office = api.add_user("office1", Role.EXAM_OFFICE)
    r = api.client.get(f"/banks/{api.bank_id}/readiness", headers=office)
    assert r.status_code == 200 and r.json()["ready"] is False
    t = api.client.get(f"/banks/{api.bank_id}/element-tables/theory", headers=mgr).json()
    assert t["version"] == 1 and [n["code"] for n in t["nodes"]][:2] == ["A", "A-01"]
    bad_nodes = [{**n, "weight": 1} if n["code"] == "A-01" else n for n in t["nodes"]]
    r = api.client.post(f"/banks/{api.bank_id}/element-tables/theory", headers=mgr, json={"nodes": bad_nodes})
    assert r.status_code == 422 and any("下级比重合计" in e for e in r.json()["error"]["errors"])
    r = api.client.post(f"/banks/{api.bank_id}/element-tables/theory", headers=mgr, json={"nodes": t["nodes"]})
    assert r.status_code == 201 and r.json()["version"] == 2


def test_auditor_reads_the_ledger_but_no_items(api: Api) -> None:
    aud = api.add_user("auditor1", Role.AUDITOR)
    assert api.client.get(f"/banks/{api.bank_id}/items", headers=aud).status_code == 403
    entries = api.client.get("/ledger", headers=aud, params={"action": "auth.login"}).json()["items"]
    assert any(e["actor"] == "auditor1" for e in entries)
    mine = next(e for e in entries if e["actor"] == "auditor1")
    assert mine["text"] == "auditor1 登录系统" and mine["action_label"] == "登录" and mine["hash"]
    api.add_user("writer_li", Role.ITEM_WRITER)  # an expert: the register's name is shown
    entries = api.client.get("/ledger", headers={**aud, "Accept-Language": "en"},
                             params={"action": "auth.login", "actor": "writer_li"}).json()["items"]
    assert [e["text"] for e in entries] == ["专家writer_li（writer_li） logged in"]
    assert entries[0]["actor_name"] == "专家writer_li（writer_li）" and entries[0]["action_label"] == "Login"
    assert api.client.get("/ledger/verify", headers=aud).json()["ok"] is True
