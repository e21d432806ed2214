"""The authoring workflow through the API (附件11 第13–18条): write, submit, assign, review,
request changes, revise, diff, approve, committee acceptance with signatures, retire."""

from __future__ import annotations

from itembank.domain import Role
from itembank.ledger import query_ledger

from .conftest import Api
from .test_items import ITEM

MEMBERS = [f"cm{i}" for i in range(1, 6)]


def _setup(api: Api) -> dict[str, dict[str, str]]:
    h = {
        "wr1": api.add_user("wr1", Role.ITEM_WRITER),
        "wr2": api.add_user("wr2", Role.ITEM_WRITER),
        "rv1": api.add_user("rv1", Role.REVIEWER),
        "rv2": api.add_user("rv2", Role.REVIEWER),
        "mgr": api.add_user("mgr", Role.BANK_MANAGER),
    }
    for name in MEMBERS:
        h[name] = api.add_user(name, Role.COMMITTEE_MEMBER)
    return h


def _approve(api: Api, h: dict, code: str, writer: str = "wr1") -> None:
    base = f"/banks/{api.bank_id}/items"
    assert api.client.post(base, headers=h[writer], json={**ITEM, "code": code}).status_code == 201
    assert api.client.post(f"{base}/{code}/submit", headers=h[writer], json={}).status_code == 200
    assert api.client.post(f"{base}/{code}/reviewers", headers=h["mgr"], json={"reviewer": "rv1"}).json()["assigned"]
    assert api.client.post(f"{base}/{code}/review/start", headers=h["rv1"], json={}).json()["state"] == "in_review"
    r = api.client.post(f"{base}/{code}/reviews", headers=h["rv1"], json={"decision": "approve", "comment": "好"})
    assert r.status_code == 201, r.text


def test_review_round_trip_with_changes_and_diff(api: Api) -> None:
    h = _setup(api)
    base = f"/banks/{api.bank_id}/items"
    assert api.client.post(base, headers=h["wr1"], json=ITEM).status_code == 201
    assert api.client.post(base, headers=h["wr2"], json={**ITEM, "code": "Q0002"}).status_code == 201

    # only its writer submits it
    r = api.client.post(f"{base}/Q0001/submit", headers=h["wr2"], json={})
    assert r.status_code == 403
    r = api.client.post(f"{base}/Q0001/submit", headers=h["wr1"], json={"comment": "请审"})
    assert r.status_code == 200 and r.json()["state"] == "submitted"
    # submitting twice is a state conflict
    r = api.client.post(f"{base}/Q0001/submit", headers=h["wr1"], json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "wrong_state"

    # the writer cannot review; a reviewer who is not assigned cannot either
    assert api.client.post(f"{base}/Q0001/reviewers", headers=h["mgr"], json={"reviewer": "wr1"}).status_code == 403
    assert api.client.post(f"{base}/Q0001/review/start", headers=h["rv1"], json={}).status_code == 403
    r = api.client.post(f"{base}/Q0001/reviewers", headers=h["mgr"], json={"reviewer": "rv1"})
    assert r.status_code == 200 and r.json() == {"code": "Q0001", "reviewer": "rv1", "assigned": True}

    # the queue holds exactly the assigned item
    queue = api.client.get("/review-queue", headers=h["rv1"]).json()
    assert [(i["code"], i["state"]) for i in queue["items"]] == [("Q0001", "submitted")] and queue["total"] == 1
    assert api.client.get("/review-queue", headers=h["rv2"]).json()["total"] == 0

    assert api.client.post(f"{base}/Q0001/review/start", headers=h["rv1"], json={}).json()["state"] == "in_review"
    r = api.client.post(f"{base}/Q0001/reviews", headers=h["rv1"], json={"decision": "request_changes", "comment": ""})
    assert r.status_code == 422 and r.json()["error"]["field"] == "comment"
    r = api.client.post(f"{base}/Q0001/reviews", headers=h["rv1"],
                        json={"decision": "request_changes", "comment": "题干改为问句"})
    assert r.status_code == 201 and r.json()["decision"] == "request_changes"

    revised = {"content": {**ITEM["content"], "stem": "下列电压中不属于安全电压额定值的是（　）？"}, "reason": "按审题意见"}
    r = api.client.put(f"{base}/Q0001", headers=h["wr1"], json=revised)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["state"] == "draft"
    # another writer may not revise it
    assert api.client.put(f"{base}/Q0001", headers=h["wr2"], json=revised).status_code == 403

    d = api.client.get(f"{base}/Q0001/diff", headers=h["rv1"])
    assert d.status_code == 200, d.text
    body = d.json()
    assert (body["old_version"], body["new_version"]) == (1, 2) and body["changed_fields"] == ["stem"]
    stem = next(f for f in body["fields"] if f["field"] == "stem")
    assert stem["label"] == "题干" and stem["old"] == ITEM["content"]["stem"] and stem["changed"]
    assert query_ledger(api.session, action="item.view", actor="rv1")[-1].details["purpose"] == "diff"

    reviews = api.client.get(f"{base}/Q0001/reviews", headers=h["wr1"]).json()
    assert [x["comment"] for x in reviews["items"]] == ["题干改为问句"]

    api.client.post(f"{base}/Q0001/submit", headers=h["wr1"], json={})
    api.client.post(f"{base}/Q0001/review/start", headers=h["rv1"], json={})
    r = api.client.post(f"{base}/Q0001/reviews", headers=h["rv1"], json={"decision": "approve", "comment": "可以"})
    assert r.status_code == 201
    assert api.client.get(f"{base}/Q0001", headers=h["wr1"]).json()["state"] == "approved"
    # the queue defaults to what waits; every state on request
    assert api.client.get("/review-queue", headers=h["rv1"]).json()["total"] == 0
    every = api.client.get("/review-queue", headers=h["rv1"], params={"state": ["approved"]}).json()
    assert [i["code"] for i in every["items"]] == ["Q0001"]

    hist = api.client.get(f"{base}/Q0001/history", headers=h["mgr"]).json()
    actions = [e["action"] for e in hist["items"]]
    assert actions[0] == "item.create" and "review.assign" in actions and "item.revise" in actions


def test_committee_acceptance_with_signatures_and_retirement(api: Api) -> None:
    h = _setup(api)
    base = f"/banks/{api.bank_id}"
    _approve(api, h, "Q0001")
    _approve(api, h, "Q0002")

    too_few = api.client.post(f"{base}/batches", headers=h["mgr"], json={"codes": ["Q0001"], "members": MEMBERS[:4]})
    assert too_few.status_code == 409 and "验收小组至少 5 人" in too_few.text
    with_writer = api.client.post(f"{base}/batches", headers=h["mgr"],
                                  json={"codes": ["Q0001"], "members": [*MEMBERS[:4], "wr1"]})
    assert with_writer.status_code == 409 and "wr1 是该题命题人，不得担任其验收委员" in with_writer.text

    r = api.client.post(f"{base}/batches", headers=h["mgr"],
                        json={"codes": ["Q0001", "Q0002"], "members": MEMBERS, "meeting": "2026年第3次验收会"})
    assert r.status_code == 201, r.text
    batch = r.json()
    code = batch["code"]
    assert batch["state"] == "open" and batch["unsigned"] == MEMBERS
    assert [(i["code"], i["version"]) for i in batch["items"]] == [("Q0001", 1), ("Q0002", 1)]

    # members read the content of the batch, ledgered
    items = api.client.get(f"/batches/{code}/items", headers=h["cm1"])
    assert items.status_code == 200 and items.json()["total"] == 2
    assert items.json()["items"][0]["content"]["key"] == ["D"]
    assert query_ledger(api.session, action="batch.read", actor="cm1")[-1].object_id == code
    listed = api.client.get(f"{base}/batches", headers=h["cm1"]).json()
    assert [b["code"] for b in listed["items"]] == [code]

    for i, member in enumerate(MEMBERS):
        r = api.client.post(f"/batches/{code}/signatures", headers=h[member], json={"opinion": "同意"})
        assert r.status_code == 201, r.text
        assert len(r.json()["signatures"]) == i + 1
    shown = api.client.get(f"/batches/{code}", headers=h["mgr"]).json()
    assert shown["state"] == "accepted" and shown["all_signed"]
    assert [s["member"] for s in shown["signatures"]] == MEMBERS
    again = api.client.post(f"/batches/{code}/signatures", headers=h["cm1"], json={})
    assert again.status_code == 409
    assert api.client.get(f"{base}/items/Q0001", headers=h["mgr"]).json()["state"] == "accepted"

    r = api.client.post(f"{base}/items/Q0001/retire", headers=h["mgr"], json={"reason": ""})
    assert r.status_code == 422
    r = api.client.post(f"{base}/items/Q0001/retire", headers=h["mgr"], json={"reason": "题目陈旧"})
    assert r.status_code == 200 and r.json()["state"] == "retired"


def test_rejection_sends_items_back(api: Api) -> None:
    h = _setup(api)
    _approve(api, h, "Q0001")
    r = api.client.post(f"/banks/{api.bank_id}/batches", headers=h["mgr"],
                        json={"codes": ["Q0001"], "members": MEMBERS, "batch_code": "YS-T-1"})
    assert r.status_code == 201
    # a member's refusal is a vote; the batch is decided once every member has voted
    r = api.client.post("/batches/YS-T-1/reject", headers=h["cm3"], json={"reason": "答案有歧义"})
    assert r.status_code == 200 and r.json()["state"] == "open" and r.json()["unsigned"] == ["cm1", "cm2", "cm4", "cm5"]
    for member in ("cm1", "cm2", "cm4", "cm5"):
        r = api.client.post("/batches/YS-T-1/signatures", headers=h[member], json={"opinion": "同意"})
        assert r.status_code == 201, r.text
    assert r.json()["state"] == "rejected" and r.json()["returned"] == ["Q0001"]
    assert api.client.get(f"/banks/{api.bank_id}/items/Q0001", headers=h["wr1"]).json()["state"] == "changes_requested"
