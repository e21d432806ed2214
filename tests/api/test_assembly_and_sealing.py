"""Through the API: blueprints, an assembly run as a job, papers, then the exam office's
sealed papers with the two-person opening, downloads and a leak (issues 4 and 6)."""

from __future__ import annotations

import io
import random
import re
from datetime import datetime, timedelta, timezone

import docx

import assembly as asm
from itembank import i18n
from itembank.domain import ItemContent, ItemType, Option, Part, Role, VersionState
from itembank.items import NewItem, add_items
from itembank.ledger import query_ledger
from itembank.occupations import get_bank_by_id
from itembank.readiness import set_minimum_rule
from lifecycle.sessions import create_exam_plan, create_exam_session

from tests.texts import made_up

from .conftest import Api

ELEMENTS = ("A-01", "A-02", "B-01", "B-02")


def _stock(api: Api) -> None:
    """150 accepted objective items on the fixture's small element table; minimums lowered."""
    items = []
    rng = random.Random(150)
    for i in range(150):
        element = ELEMENTS[i % 4]
        if i % 5 == 0:
            content = ItemContent(ItemType.TRUE_FALSE, f"第{i}题：{made_up(rng, 14)}。", 1.0, (element,),
                                  key=("T" if i % 2 else "F",), difficulty_rating=1 + i % 5)
        else:
            content = ItemContent(ItemType.SINGLE_CHOICE, f"第{i}题：{made_up(rng, 8)}的是（　）。", 1.0, (element,),
                                  options=tuple(Option(x, made_up(rng, 6)) for x in "ABCD"), key=("ABCD"[i % 4],),
                                  difficulty_rating=1 + i % 5)
        items.append(NewItem(f"T{i:03d}", content))
    bank = get_bank_by_id(api.session, api.bank_id)
    add_items(api.session, bank=bank, items=items, actor="import", state=VersionState.ACCEPTED)
    set_minimum_rule(api.session, part=Part.THEORY, minimum=100, actor="admin")
    set_minimum_rule(api.session, part=Part.PRACTICAL, minimum=0, actor="admin")
    api.session.commit()


def _blueprint_spec() -> dict:
    rows = [asm.ElementRow("A", None, 40.0, None), asm.ElementRow("A-01", "A", 15.0, "X"),
            asm.ElementRow("A-02", "A", 25.0, "Y"), asm.ElementRow("B", None, 60.0, None),
            asm.ElementRow("B-01", "B", 30.0, "X"), asm.ElementRow("B-02", "B", 30.0, "Z")]
    bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 8, 8.0), asm.TypeRule("true_false", 2, 2.0)],
                              name="api-mini", level=5, tolerance=0.5, min_tolerance=2.0)
    return asm.blueprint_to_dict(bp)


def test_assembly_run_is_a_job_and_papers_are_served(api: Api) -> None:
    _stock(api)
    mgr = api.add_user("manager1", Role.BANK_MANAGER, occupation="6-31-01-03")
    r = api.client.post(f"/banks/{api.bank_id}/blueprints", headers=mgr, json={"spec": _blueprint_spec()})
    assert r.status_code == 201, r.text
    bp = r.json()
    assert bp["version"] == 1 and bp["n_items"] == 10
    bad = api.client.post(f"/banks/{api.bank_id}/blueprints", headers=mgr,
                          json={"spec": {**_blueprint_spec(), "item_types": [{"item_type": "single_choice", "count": -1}]}})
    assert bad.status_code == 422 and "item_types" in bad.json()["error"]["message"]
    derived = api.client.post(f"/banks/{api.bank_id}/blueprints/derive", headers=mgr, json={"part": "theory"})
    assert derived.status_code == 201 and derived.json()["n_items"] == 100

    started = api.client.post(f"/banks/{api.bank_id}/assembly-runs", headers=mgr,
                              json={"blueprint_id": bp["id"], "n_forms": 2, "n_backups": 1, "time_limit_s": 30})
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["state"] == "queued" and run["paper_codes"] == []
    # the test app runs jobs inline (api.jobs.InlineJobs): the run has ended by now
    done = api.client.get(f"/assembly-runs/{run['id']}", headers=mgr).json()
    assert done["state"] == "finished" and done["outcome"] in ("optimal", "feasible"), done["message"]
    assert len(done["paper_codes"]) == 3 and done["progress"] == 1.0
    assert done["report"]["report"]["solver"] == "cbc" and done["report"]["checks"]["papers"]

    code = done["paper_codes"][0]
    paper = api.client.get(f"/papers/{code}", headers=mgr).json()
    assert len(paper["items"]) == 10 and paper["total_points"] == 10 and paper["kind"] == "form"
    assert all(row["ok"] is not False for row in paper["checks"])
    assert query_ledger(api.session, action="paper.read", object_id=code)
    assert api.client.get(f"/papers/{code}/recheck", headers=mgr).json()["ok"] is True
    d = api.client.get(f"/papers/{code}/documents/paper", headers=mgr)
    assert d.status_code == 200 and d.content[:2] == b"PK"
    assert api.client.get(f"/papers/{code}/documents/task_sheet", headers=mgr).status_code == 404
    png = api.client.get(f"/assembly-runs/{run['id']}/curves", headers=mgr)
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    report = api.client.get(f"/assembly-runs/{run['id']}/report", headers=mgr)
    assert report.status_code == 200 and report.content[:2] == b"PK"
    listing = api.client.get(f"/banks/{api.bank_id}/papers", headers=mgr, params={"status": "assembled"}).json()
    assert listing["total"] == 3

    # a bank manager of another occupation sees nothing of it
    other = api.add_user("manager2", Role.BANK_MANAGER, occupation="4-04-05-01")
    assert api.client.get(f"/assembly-runs/{run['id']}", headers=other).status_code == 403
    assert api.client.get(f"/papers/{code}", headers=other).status_code == 403


def test_not_ready_bank_is_refused_unless_practice(api: Api) -> None:
    mgr = api.add_user("manager1", Role.BANK_MANAGER)
    bp = api.client.post(f"/banks/{api.bank_id}/blueprints", headers=mgr, json={"spec": _blueprint_spec()}).json()
    r = api.client.post(f"/banks/{api.bank_id}/assembly-runs", headers=mgr, json={"blueprint_id": bp["id"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "bank_not_ready"
    assert any("1200" in e for e in r.json()["error"]["errors"])


def _session(api: Api, code: str, starts_at: datetime) -> None:
    create_exam_plan(api.session, code=f"PLAN-{code}", occupation_code="6-31-01-03", level=5, actor="office1")
    create_exam_session(api.session, plan_code=f"PLAN-{code}", code=code, part="theory", starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=2), place="A301", actor="office1")
    api.session.commit()


def test_sealed_papers_two_person_opening_and_leak(api: Api) -> None:
    _stock(api)
    mgr = api.add_user("manager1", Role.BANK_MANAGER)
    api.client.post(f"/banks/{api.bank_id}/blueprints", headers=mgr, json={"spec": _blueprint_spec()})
    now = datetime.now(timezone.utc)
    _session(api, "S-NOW", now + timedelta(minutes=10))
    _session(api, "S-LATER", now + timedelta(days=1))
    office1 = api.add_user("office1", Role.EXAM_OFFICE, occupation="6-31-01-03")
    office2 = api.add_user("office2", Role.EXAM_OFFICE)
    writer = api.add_user("writer1", Role.ITEM_WRITER)

    sealed = api.client.post("/exam-sessions/S-NOW/sealed-papers", headers=office1, json={"n_backups": 1})
    assert sealed.status_code == 201, sealed.text
    body = sealed.json()
    main, backup = body["main"], body["backups"][0]
    assert main["state"] == "sealed" and backup["state"] == "standby" and body["assembly_run_id"]
    assert [d["kind"] for d in main["documents"]] == ["paper", "answer_key"]
    assert "items" not in main, "no content before the opening"
    base = f"/exam-sessions/S-NOW/sealed-papers/{main['paper_code']}"
    doc = main["documents"][0]["name"]

    assert api.client.get(f"{base}/documents/{doc}", headers=office1).status_code == 409
    first = api.client.post(f"{base}/open", headers=office1)
    assert first.status_code == 200 and first.json()["state"] == "sealed"
    again = api.client.post(f"{base}/open", headers=office1)
    assert again.status_code == 409 and again.json()["error"]["code"] == "same_person"
    assert "须由另一名考务人员再确认" in again.json()["error"]["message"]
    assert api.client.post(f"{base}/open", headers=writer).status_code == 403
    opened = api.client.post(f"{base}/open", headers=office2).json()
    assert opened["state"] == "opened" and [c[0] for c in opened["confirmations"]] == ["office1", "office2"]
    got = api.client.get(f"{base}/documents/{doc}", headers=office2)
    assert got.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(got.content)).paragraphs)
    assert "理论知识试卷" in text
    assert [e.actor for e in query_ledger(api.session, action="paper.download")] == ["office2"]

    later = api.client.post("/exam-sessions/S-LATER/sealed-papers", headers=office1, json={"n_backups": 0})
    assert later.status_code == 201, later.text
    early = api.client.post(f"/exam-sessions/S-LATER/sealed-papers/{later.json()['main']['paper_code']}/open",
                            headers=office1)
    assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
    assert "S-LATER" in early.json()["error"]["message"]
    # the opening time is shown in the centre's time zone, as the page shows it (2026年12月6日 08:30)
    opens = datetime.fromisoformat(early.json()["error"]["params"]["opens"])
    assert opens.tzinfo is not None
    message = early.json()["error"]["message"]
    assert message.startswith("时间未到：") and f"须于 {i18n.format_datetime(opens)} 起方可启封" in message
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", message) and "+00:00" not in message

    leak = api.client.post("/exam-sessions/S-NOW/incidents", headers=office1, json={
        "paper_code": main["paper_code"], "kind": "leak", "description": "考场外发现试卷照片", "time_limit_s": 30})
    assert leak.status_code == 201, leak.text
    actions = leak.json()["actions"]
    assert actions["activated_backup"] == backup["paper_code"] and actions["compromised_items"] == 10
    states = {p["paper_code"]: p["state"] for p in
              api.client.get("/exam-sessions/S-NOW/sealed-papers", headers=office1).json()}
    assert states[main["paper_code"]] == "void" and states[backup["paper_code"]] == "sealed"
    assert [i["kind"] for i in api.client.get("/exam-sessions/S-NOW/incidents", headers=office1).json()] == ["leak"]
    bad = api.client.post("/exam-sessions/S-NOW/incidents", headers=office1,
                          json={"paper_code": main["paper_code"], "kind": "flood", "description": "x"})
    assert bad.status_code == 422
