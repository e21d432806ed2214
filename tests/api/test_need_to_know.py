"""Object-level need-to-know (附件12 第9条): the permission matrix checks roles; these check
which objects each role reaches. Writers: their own items; reviewers: assigned items only;
committee members: their batches; examiners: their own groups; auditors: the ledger and
histories but no item content; the exam office: no item content."""

from __future__ import annotations

import json

from itembank.domain import Role
from itembank.ledger import query_ledger

from . import scenario
from .conftest import OTHER_OCC, Api
from .test_items import ITEM
from .test_workflow import MEMBERS, _approve


def _content_urls(api: Api, code: str) -> list[str]:
    b = f"/banks/{api.bank_id}/items"
    return [f"{b}/{code}", f"{b}/{code}/versions", f"{b}/{code}/diff", f"{b}/{code}/reviews"]


def test_writer_sees_only_own_items(api: Api) -> None:
    w1 = api.add_user("wr1", Role.ITEM_WRITER)
    w2 = api.add_user("wr2", Role.ITEM_WRITER)
    base = f"/banks/{api.bank_id}/items"
    api.client.post(base, headers=w1, json=ITEM)
    api.client.post(base, headers=w2, json={**ITEM, "code": "Q0002"})
    assert [i["code"] for i in api.client.get(base, headers=w2).json()["items"]] == ["Q0002"]
    for url in _content_urls(api, "Q0001") + [f"{base}/Q0001/history"]:
        r = api.client.get(url, headers=w2)
        assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied", url
    for url in _content_urls(api, "Q0002"):
        assert api.client.get(url, headers=w2).status_code == 200, url


def test_reviewer_reads_exactly_the_assigned_items(api: Api) -> None:
    w1 = api.add_user("wr1", Role.ITEM_WRITER)
    r1 = api.add_user("rv1", Role.REVIEWER)
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    base = f"/banks/{api.bank_id}/items"
    for code in ("Q0001", "Q0002"):
        api.client.post(base, headers=w1, json={**ITEM, "code": code})
    assert api.client.get(base, headers=r1).json()["total"] == 0
    assert api.client.get(f"{base}/Q0001", headers=r1).status_code == 403

    api.client.post(f"{base}/Q0001/reviewers", headers=mgr, json={"reviewer": "rv1"})
    page = api.client.get(base, headers=r1).json()
    assert [i["code"] for i in page["items"]] == ["Q0001"] and page["total"] == 1
    for url in _content_urls(api, "Q0001"):
        assert api.client.get(url, headers=r1).status_code == 200, url
    for url in _content_urls(api, "Q0002"):
        assert api.client.get(url, headers=r1).status_code == 403, url
    assert [e.details["code"] for e in query_ledger(api.session, action="item.read", actor="rv1")][:1] == ["Q0001"]

    r = api.client.delete(f"{base}/Q0001/reviewers/rv1", headers=mgr, params={"reason": "回避"})
    assert r.status_code == 200 and r.json()["assigned"] is True
    assert api.client.get(f"{base}/Q0001", headers=r1).status_code == 403
    assert api.client.get(base, headers=r1).json()["total"] == 0


def test_committee_members_read_only_their_batches(api: Api) -> None:
    h = {"wr1": api.add_user("wr1", Role.ITEM_WRITER), "rv1": api.add_user("rv1", Role.REVIEWER),
         "mgr": api.add_user("mgr", Role.BANK_MANAGER)}
    for name in (*MEMBERS, "cm9"):
        h[name] = api.add_user(name, Role.COMMITTEE_MEMBER)
    _approve(api, h, "Q0001")
    _approve(api, h, "Q0002")
    r = api.client.post(f"/banks/{api.bank_id}/batches", headers=h["mgr"],
                        json={"codes": ["Q0001"], "members": MEMBERS, "batch_code": "YS-A"})
    assert r.status_code == 201
    base = f"/banks/{api.bank_id}/items"
    # a member reads the batch and its items, not other items
    assert api.client.get("/batches/YS-A/items", headers=h["cm1"]).status_code == 200
    assert api.client.get(f"{base}/Q0001", headers=h["cm1"]).status_code == 200
    assert api.client.get(f"{base}/Q0002", headers=h["cm1"]).status_code == 403
    assert [i["code"] for i in api.client.get(base, headers=h["cm1"]).json()["items"]] == ["Q0001"]
    # a committee member who does not sit on it reads nothing of it
    for url in ("/batches/YS-A", "/batches/YS-A/items", f"{base}/Q0001"):
        assert api.client.get(url, headers=h["cm9"]).status_code == 403, url
    assert api.client.get(f"/banks/{api.bank_id}/batches", headers=h["cm9"]).json()["total"] == 0
    assert api.client.post("/batches/YS-A/signatures", headers=h["cm9"], json={}).status_code == 403
    assert api.client.post("/batches/YS-A/reject", headers=h["cm9"], json={"reason": "x"}).status_code == 403


def test_auditor_reads_histories_and_ledger_but_no_item_content(api: Api) -> None:
    w1 = api.add_user("wr1", Role.ITEM_WRITER)
    aud = api.add_user("aud", Role.AUDITOR)
    office = api.add_user("office", Role.EXAM_OFFICE)
    base = f"/banks/{api.bank_id}/items"
    api.client.post(base, headers=w1, json=ITEM)
    for who in (aud, office):
        for url in [base, *_content_urls(api, "Q0001"), f"/banks/{api.bank_id}/exports/qti"]:
            r = api.client.get(url, headers=who)
            assert r.status_code == 403, url
    hist = api.client.get(f"{base}/Q0001/history", headers=aud)
    assert hist.status_code == 200 and hist.json()["items"][0]["action"] == "item.create"
    assert "编写了试题 Q0001（第 1 版，草稿）" in hist.json()["items"][0]["text"]  # in words too
    assert api.client.get(f"{base}/Q0001/history", headers=office).status_code == 403
    entries = api.client.get("/ledger", headers=aud, params={"limit": 500}).json()["items"]
    dumped = json.dumps(entries, ensure_ascii=False)
    assert ITEM["content"]["stem"] not in dumped and "110V" not in dumped


def test_roles_are_scoped_to_their_occupations(api: Api) -> None:
    w1 = api.add_user("wr1", Role.ITEM_WRITER)
    other_mgr = api.add_user("mgr2", Role.BANK_MANAGER, occupation=OTHER_OCC)
    other_writer = api.add_user("wr9", Role.ITEM_WRITER, occupation=OTHER_OCC)
    base = f"/banks/{api.bank_id}/items"
    api.client.post(base, headers=w1, json=ITEM)
    assert api.client.get(base, headers=other_mgr).status_code == 403
    assert api.client.get(f"{base}/Q0001/history", headers=other_mgr).status_code == 403
    assert api.client.post(base, headers=other_writer, json={**ITEM, "code": "Q0009"}).status_code == 403
    assert api.client.get(f"/banks/{api.bank_id}/batches", headers=other_mgr).status_code == 403


def test_examiners_score_only_for_their_own_groups(api: Api) -> None:
    sc = scenario.build(api.session, api.bank_id)
    admin = api.add_user("root", Role.ADMIN)
    office = api.add_user("office", Role.EXAM_OFFICE)
    leader = api.add_user("ex_leader", Role.EXAMINER)
    outsider = api.add_user("ex_out", Role.EXAMINER)
    unlinked = api.add_user("ex_none", Role.EXAMINER)
    for user, staff_id in (("ex_leader", sc.examiners[0]), ("ex_out", sc.outsider)):
        r = api.client.put(f"/staff/{staff_id}/account", headers=admin, json={"username": user})
        assert r.status_code == 200 and r.json()["account"] == user
    # one account per staff member
    r = api.client.put(f"/staff/{sc.examiners[1]}/account", headers=admin, json={"username": "ex_leader"})
    assert r.status_code == 409

    app_id = sc.apps["甲"]
    r = api.client.post(f"/exam-sessions/{sc.practical}/responses", headers=office,
                        json={"application_id": app_id, "paper_code": "PP-A", "version_ids": [sc.task_version],
                              "responses": [None]})
    assert r.status_code == 201, r.text
    score = {"application_id": app_id, "version_id": sc.task_version, "rubric_scores": [45, 30, 20]}
    r = api.client.post(f"/exam-sessions/{sc.practical}/scores", headers=unlinked, json=score)
    assert r.status_code == 403 and "没有关联的工作人员" in r.json()["error"]["message"]
    r = api.client.post(f"/exam-sessions/{sc.practical}/scores", headers=outsider, json=score)
    assert r.status_code == 403 and "不在考试场次 S-P 的任何考评小组中" in r.json()["error"]["message"]
    r = api.client.post(f"/exam-sessions/{sc.practical}/scores", headers=leader, json=score)
    assert r.status_code == 201 and r.json() == {"complete": False, "score": None, "n_examiners": None,
                                                 "spread": None, "flagged": False, "threshold": None}
    # the outsider leads nothing and sees only the group it sits in
    groups = api.client.get(f"/exam-sessions/{sc.theory}/examiner-groups", headers=outsider).json()
    assert groups["total"] == 1 and sc.outsider in groups["items"][0]["member_staff_ids"]
    assert api.client.get(f"/exam-sessions/{sc.practical}/examiner-groups", headers=outsider).json()["total"] == 0
    settle = {"application_id": app_id, "version_id": sc.task_version, "score": 90, "reason": "复核"}
    r = api.client.post(f"/exam-sessions/{sc.theory}/scores/settle", headers=outsider, json=settle)
    assert r.status_code == 403 and "任何考评小组的组长" in r.json()["error"]["message"]
    # examiners read no item content
    assert api.client.get(f"/banks/{api.bank_id}/items/P1", headers=leader).status_code == 403
