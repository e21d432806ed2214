"""Registration, exam sessions, scoring, publication, certificates and retention through the
API: from a candidate's application to a verified certificate."""

from __future__ import annotations

import io
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

from docx import Document

from itembank.domain import Role
from itembank.ledger import query_ledger

from . import scenario
from .conftest import OCC, OTHER_OCC, Api


def _office(api: Api) -> dict[str, str]:
    return api.add_user("office", Role.EXAM_OFFICE)


def test_registration_accepts_and_refuses_with_reasons(api: Api) -> None:
    office = _office(api)
    r = api.client.post("/candidates", headers=office, json={"name": "张三", "id_number": scenario.make_id(1)})
    assert r.status_code == 201, r.text
    cand = r.json()
    assert cand["birth_date"] == "1990-05-17"
    bad = api.client.post("/candidates", headers=office, json={"name": "李四", "id_number": "110105194912310020"})
    assert bad.status_code == 422 and bad.json()["error"]["errors"]

    plan = api.client.post("/exam-plans", headers=office, json={"code": "P-1", "occupation_code": OCC, "level": 5})
    assert plan.status_code == 201, plan.text
    ok = api.client.post("/applications", headers=office, json={
        "candidate_id": cand["id"], "occupation_code": OCC, "level": 5, "plan_code": "P-1",
        "declaration": {"years_of_work": 2}, "documents": [{"kind": "id_card"}]})
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "accepted" and ok.json()["matched_rule"]

    refused = api.client.post("/applications", headers=office, json={
        "candidate_id": cand["id"], "occupation_code": OCC, "level": 3, "declaration": {"years_of_work": 1}})
    assert refused.status_code == 422
    err = refused.json()["error"]
    assert err["code"] == "ineligible" and len(err["errors"]) >= 2 and "附件1 第7条" in err["message"]
    # the refusal is recorded, with its reasons (for the audit)
    listed = api.client.get("/applications", headers=office, params={"status": "refused"}).json()
    assert listed["total"] == 1 and listed["items"][0]["refusal_reasons"] == err["errors"]
    assert query_ledger(api.session, action="application.refused")

    page = api.client.get("/candidates", headers=office, params={"name": "张"}).json()
    assert page["total"] == 1 and page["items"][0]["id"] == cand["id"]
    # an exam office scoped to another occupation sees neither
    other = api.add_user("office2", Role.EXAM_OFFICE, occupation=OTHER_OCC)
    assert api.client.get("/candidates", headers=other).json()["total"] == 0
    assert api.client.get(f"/applications/{ok.json()['id']}", headers=other).status_code == 403
    rules = api.client.get("/eligibility-rules", headers=office, params={"level": 3}).json()
    assert rules["total"] >= 2 and all(r["level"] == 3 for r in rules["items"])


def test_bulk_application_import(api: Api) -> None:
    from openpyxl import load_workbook

    office = _office(api)
    tpl = api.client.get("/templates/applications.xlsx", headers=office)
    assert tpl.status_code == 200 and "attachment" in tpl.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(tpl.content))
    ws = wb.active
    ws.append(["王五", "居民身份证", scenario.make_id(7), "", "", OCC, "", 5, 1, "", "", "", "", "否", "", "否", "高中", "否"])
    ws.append(["赵六", "居民身份证", "12345", "", "", OCC, "", 5, 1, "", "", "", "", "否", "", "否", "高中", "否"])
    buf = io.BytesIO()
    wb.save(buf)
    r = api.client.post("/applications/import", headers=office,
                        files={"file": ("报名.xlsx", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 422 and any("第 4 行“证件号码”列" in e for e in r.json()["error"]["errors"])
    assert api.client.get("/candidates", headers=office).json()["total"] == 0  # all or nothing
    ws.delete_rows(4)
    buf = io.BytesIO()
    wb.save(buf)
    r = api.client.post("/applications/import", headers=office, files={"file": ("报名.xlsx", buf.getvalue())})
    assert r.status_code == 200, r.text
    assert r.json()["n_rows"] == 2 and len(r.json()["accepted"]) == 2


def test_plan_sessions_rooms_tickets_and_staffing(api: Api) -> None:
    office = _office(api)
    aud = api.add_user("aud", Role.AUDITOR)
    c = api.client.post("/candidates", headers=office, json={"name": "张三", "id_number": scenario.make_id(1)}).json()
    api.client.post("/exam-plans", headers=office, json={"code": "P-1", "occupation_code": OCC, "level": 5})
    api.client.post("/applications", headers=office, json={
        "candidate_id": c["id"], "occupation_code": OCC, "level": 5, "plan_code": "P-1",
        "declaration": {"years_of_work": 2}})
    naive = api.client.post("/exam-sessions", headers=office, json={
        "plan_code": "P-1", "code": "S1", "part": "theory", "starts_at": "2026-12-05T09:00:00",
        "ends_at": "2026-12-05T10:30:00", "place": "A座"})
    assert naive.status_code == 422 and "请注明时区" in naive.text
    s = api.client.post("/exam-sessions", headers=office, json={
        "plan_code": "P-1", "code": "S1", "part": "theory", "starts_at": "2026-12-05T09:00:00+08:00",
        "ends_at": "2026-12-05T10:30:00+08:00", "place": "A座"})
    assert s.status_code == 201, s.text
    assert api.client.post("/exam-sessions/S1/seats", headers=office).status_code == 409  # no rooms yet
    assert api.client.post("/exam-sessions/S1/rooms", headers=office, json={"code": "T01", "capacity": 30}).status_code == 201
    issued = api.client.post("/exam-plans/P-1/tickets", headers=office)
    assert issued.status_code == 201 and len(issued.json()["numbers"]) == 1
    assert api.client.post("/exam-sessions/S1/seats", headers=office).json() == {"n": 1}
    tickets = api.client.get("/exam-plans/P-1/tickets", headers=office).json()
    assert tickets["items"][0]["sittings"][0]["room"].startswith("T01")
    doc = api.client.get("/exam-plans/P-1/tickets/document", headers=office)
    assert doc.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(doc.content)).paragraphs)
    text += "\n".join(cell.text for t in Document(io.BytesIO(doc.content)).tables for row in t.rows for cell in row.cells)
    assert "张三" in text
    assert query_ledger(api.session, action="tickets.download")

    staff = [api.client.post("/staff", headers=office, json={"name": n}).json()["id"] for n in ("甲监考", "乙监考")]
    same = api.client.put("/exam-sessions/S1/rooms/T01/proctors", headers=office,
                          json={"chief_staff_id": staff[0], "deputy_staff_id": staff[0]})
    assert same.status_code == 409
    r = api.client.put("/exam-sessions/S1/rooms/T01/proctors", headers=office,
                       json={"chief_staff_id": staff[0], "deputy_staff_id": staff[1]})
    assert r.status_code == 200 and [p["role"] for p in r.json()] == ["chief", "deputy"]
    detail = api.client.get("/exam-sessions/S1", headers=aud).json()
    assert detail["staffing_problems"] == [] and detail["capacity"] == 30 and len(detail["proctors"]) == 2
    plans = api.client.get("/exam-plans", headers=aud).json()
    assert [p["code"] for p in plans["items"]] == ["P-1"]


def test_staff_cards_training_and_lapses(api: Api) -> None:
    office = _office(api)
    sid = api.client.post("/staff", headers=office, json={"name": "王考评", "organisation": "电力公司"}).json()["id"]
    no_grade = api.client.post(f"/staff/{sid}/cards", headers=office, json={"kind": "examiner", "issued_on": "2023-03-01"})
    assert no_grade.status_code == 422 and no_grade.json()["error"]["field"] == "grade"
    card = api.client.post(f"/staff/{sid}/cards", headers=office,
                           json={"kind": "examiner", "grade": 2, "issued_on": "2023-03-01"})
    assert card.status_code == 201, card.text
    number = card.json()["number"]
    assert len(number) == 18 and card.json()["valid_until"] == "2026-02-28"
    lapsed = api.client.get("/staff-cards/lapsed", headers=office, params={"on": "2025-06-01"}).json()
    assert lapsed["total"] == 1 and "2024" in lapsed["items"][0]["reasons"][0]
    t = api.client.post(f"/staff/{sid}/trainings", headers=office,
                        json={"kind": "examiner", "year": 2024, "completed_on": "2024-10-10", "passed": True})
    assert t.status_code == 201
    assert api.client.get("/staff-cards/lapsed", headers=office, params={"on": "2025-06-01"}).json()["total"] == 0
    r = api.client.post(f"/staff-cards/{number}/revoke", headers=office, json={"reason": "违规"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert api.client.get(f"/staff/{sid}", headers=office).json()["cards"][0]["status"] == "revoked"


def _score_all(api: Api, sc: scenario.Examined, office: dict, examiners: list[dict], theory: dict, practical: dict) -> None:
    vids = sc.theory_versions
    for name, (answers, short_scores) in theory.items():
        r = api.client.post(f"/exam-sessions/{sc.theory}/responses", headers=office, json={
            "application_id": sc.apps[name], "paper_code": "PT-A", "version_ids": vids, "responses": list(answers)})
        assert r.status_code == 201, r.text
        r = api.client.post(f"/exam-sessions/{sc.theory}/scores", headers=examiners[1], json={
            "application_id": sc.apps[name], "version_id": vids[3], "rubric_scores": short_scores})
        assert r.status_code == 201 and r.json()["complete"], r.text
        r = api.client.post(f"/applications/{sc.apps[name]}/part-results", headers=office,
                            json={"session_code": sc.theory})
        assert r.status_code == 200, r.text
    for name, scores in practical.items():
        api.client.post(f"/exam-sessions/{sc.practical}/responses", headers=office, json={
            "application_id": sc.apps[name], "paper_code": "PP-A", "version_ids": [sc.task_version],
            "responses": [None]})
        for ex in examiners:
            r = api.client.post(f"/exam-sessions/{sc.practical}/scores", headers=ex, json={
                "application_id": sc.apps[name], "version_id": sc.task_version, "rubric_scores": scores})
            assert r.status_code == 201, r.text
        r = api.client.post(f"/applications/{sc.apps[name]}/part-results", headers=office,
                            json={"session_code": sc.practical})
        assert r.status_code == 200, r.text


def test_scoring_publication_certificates_and_public_verification(api: Api) -> None:
    sc = scenario.build(api.session, api.bank_id)
    office = _office(api)
    admin = api.add_user("root", Role.ADMIN)
    aud = api.add_user("aud", Role.AUDITOR)
    examiners = []
    for i, sid in enumerate(sc.examiners):
        examiners.append(api.add_user(f"exam{i}", Role.EXAMINER))
        api.client.put(f"/staff/{sid}/account", headers=admin, json={"username": f"exam{i}"})
    _score_all(api, sc, office, examiners,
               theory={"甲": (scenario.ALL_RIGHT, [10, 15]), "乙": (scenario.ALL_RIGHT, [10, 15]),
                       "丙": ((["A"], ["A"], ["F"], None), [0, 5])},
               practical={"甲": [45, 30, 20], "乙": [40, 25, 15], "丙": [20, 10, 10]})
    results = api.client.get(f"/exam-plans/{sc.plan_code}/results", headers=aud).json()
    outcomes = {r["candidate_name"]: r["outcome"] for r in results["items"]}
    assert outcomes == {"甲": "passed", "乙": "passed", "丙": "failed"}

    # a violation cancels 乙's practical score (附件14 第2条)
    v = api.client.post(f"/applications/{sc.apps['乙']}/violations", headers=office, json={
        "kind": "score_cancelled", "description": "使用通讯工具", "session_code": sc.practical})
    assert v.status_code == 201 and v.json()["applied"] == "score_cancelled"
    assert api.client.get(f"/applications/{sc.apps['乙']}/result", headers=office).json()["outcome"] != "passed"
    assert api.client.get("/violations", headers=aud, params={"plan_code": sc.plan_code}).json()["total"] == 1

    # no certificate before release
    early = api.client.post("/certificates", headers=office, json={"application_id": sc.apps["甲"]})
    assert early.status_code == 409 and early.json()["error"]["code"] == "certificate_refused"

    start = date(2026, 12, 14)  # a Monday
    pub = api.client.post(f"/exam-plans/{sc.plan_code}/publication", headers=office, json={"starts_on": str(start)})
    assert pub.status_code == 201 and pub.json()["ends_on"] == "2026-12-21"  # 5 working days after
    obj = api.client.post(f"/exam-plans/{sc.plan_code}/publication/objections", headers=office,
                          json={"text": "成绩有误", "raised_on": "2026-12-15", "application_id": sc.apps["丙"]})
    assert obj.status_code == 201, obj.text
    too_soon = api.client.post(f"/exam-plans/{sc.plan_code}/publication/release", headers=office,
                               json={"on": "2026-12-21"})
    assert too_soon.status_code == 409
    unanswered = api.client.post(f"/exam-plans/{sc.plan_code}/publication/release", headers=office,
                                 json={"on": "2026-12-22"})
    assert unanswered.status_code == 409 and "异议尚未答复" in unanswered.text
    assert api.client.post(f"/objections/{obj.json()['id']}/resolve", headers=office,
                           json={"resolution": "复核无误"}).json()["resolved_by"] == "office"
    rel = api.client.post(f"/exam-plans/{sc.plan_code}/publication/release", headers=office, json={"on": "2026-12-22"})
    assert rel.status_code == 200 and rel.json()["status"] == "released"

    # certificates: only for those who passed (the service refuses the others)
    refused = api.client.post("/certificates", headers=office, json={"application_id": sc.apps["丙"]})
    assert refused.status_code == 409 and "不合格者不发证书" in "".join(refused.json()["error"]["errors"])
    made = api.client.post(f"/exam-plans/{sc.plan_code}/certificates", headers=office, json={"issued_on": "2026-12-23"})
    assert made.status_code == 201 and [c["holder_name"] for c in made.json()] == ["甲"]
    spoiled = made.json()[0]["code"]
    r = api.client.post(f"/certificates/{spoiled}/void", headers=office, json={"reason": "打印错位"})
    assert r.status_code == 200 and r.json()["status"] == "voided"
    again = api.client.post("/certificates", headers=office, json={"application_id": sc.apps["甲"],
                                                                   "issued_on": "2026-12-23"})
    assert again.status_code == 201, again.text
    cert = again.json()
    code = cert["code"]
    assert len(code) == 22 and code != spoiled
    listed = api.client.get("/certificates", headers=aud, params={"plan_code": sc.plan_code}).json()
    assert {(c["code"], c["status"]) for c in listed["items"]} == {(spoiled, "voided"), (code, "generated")}
    for act, body in (("print", None), ("hand-over", {"recipient": "甲"})):
        r = api.client.post(f"/certificates/{code}/{act}", headers=office, json=body or {})
        assert r.status_code == 200, r.text
    r = api.client.post(f"/certificates/{code}/reissue", headers=office, json={"reason": "遗失补发"})
    assert r.status_code == 200 and r.json()["print_count"] == 2
    hist = api.client.get(f"/certificates/{code}/history", headers=aud).json()
    assert [e["action"] for e in hist["items"]] == ["generate", "print", "issue", "reissue"]
    assert api.client.post(f"/certificates/{code}/void", headers=office, json={"reason": "x"}).status_code == 409
    qr = api.client.get(f"/certificates/{code}/qr", headers=office)
    assert qr.status_code == 200 and qr.content.startswith(b"\x89PNG")

    # public verification of the QR payload: no login, only what a third party may see
    fields = dict(parse_qsl(urlsplit(cert["qr_payload"]).query))
    v = api.client.get("/public/certificates/verify", params=fields)
    assert v.status_code == 200
    body = v.json()
    assert body["valid"] is True
    seen = body["certificate"]
    assert set(seen) == {"code", "holder_name", "id_number_masked", "occupation_code", "occupation_name",
                         "work_type_name", "level", "level_name", "status", "issued_on"}
    assert seen["holder_name"] == "甲" and "*" in seen["id_number_masked"] and seen["status"] == "issued"
    assert cert["id_number"] not in v.text
    forged = api.client.get("/public/certificates/verify", params={**fields, "n": "乙"})
    assert forged.json()["valid"] is False and forged.json()["certificate"] is None

    # a correction: the old QR no longer verifies, the new one does
    r = api.client.post(f"/certificates/{code}/correct", headers=office,
                        json={"holder_name": "甲某", "reason": "户籍姓名变更"})
    assert r.status_code == 200 and r.json()["holder_name"] == "甲某"
    old = api.client.get("/public/certificates/verify", params=fields).json()
    assert old["valid"] is False and "证书信息已修改" in old["message"]
    fields = dict(parse_qsl(urlsplit(r.json()["qr_payload"]).query))
    assert api.client.get("/public/certificates/verify", params=fields).json()["valid"] is True
    assert api.client.post(f"/certificates/{code}/correct", headers=office,
                           json={"id_number": "123", "reason": "x"}).status_code == 422

    r = api.client.post(f"/certificates/{code}/revoke", headers=office, json={"reason": "证书持有人以欺骗手段取得"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    after = api.client.get("/public/certificates/verify", params=fields).json()
    assert after["valid"] is False and "已撤回" in after["message"] and "欺骗" not in after["message"]

    # retention: the plan closed on release; kept two years
    ret = api.client.get("/retention", headers=aud, params={"on": "2027-01-01"}).json()
    state = next(s for s in ret["items"] if s["plan_code"] == sc.plan_code)
    assert state["retain_until"] == "2028-12-22" and state["destroyable"] is False
    early_review = api.client.post(f"/retention/{sc.plan_code}/reviews", headers=admin,
                                   json={"decision": "destroy", "on": "2027-01-01"})
    assert early_review.status_code == 409
    later = str(date(2028, 12, 22) + timedelta(days=1))
    assert api.client.post(f"/retention/{sc.plan_code}/reviews", headers=admin,
                           json={"decision": "destroy", "on": later}).json()["destroyable"] is True
    hold = api.client.post(f"/retention/{sc.plan_code}/holds", headers=admin, json={"reason": "审计"}).json()
    dry = api.client.post("/retention/destruction", headers=admin, json={"on": later, "dry_run": True}).json()
    assert dry["destroyed"] == {} and sc.plan_code in dry["skipped"]
    assert api.client.delete(f"/retention/holds/{hold['hold_id']}", headers=admin).status_code == 204
    done = api.client.post("/retention/destruction", headers=admin, json={"on": later}).json()
    assert done["n_records"] > 0 and not done["dry_run"]
    # results and certificates are kept
    assert api.client.get(f"/certificates/{code}", headers=aud).status_code == 200


def test_calendar_days_move_the_publication_end(api: Api) -> None:
    office = _office(api)
    r = api.client.put("/calendar/2026-12-16", headers=office, json={"kind": "holiday", "name": "测试假日"})
    assert r.status_code == 200 and r.json()["holidays"] == ["2026-12-16"]
    assert api.client.put("/calendar/2026-12-17", headers=office, json={"kind": "party"}).status_code == 422
    assert api.client.delete("/calendar/2026-12-16", headers=office).json()["holidays"] == []
