"""Imports, exports, templates, minimum rules and Word documents through the API."""

from __future__ import annotations

import csv
import io
import zipfile

from docx import Document

from itembank.domain import Role
from itembank.imports import CSV_COLUMNS
from itembank.ledger import query_ledger

from .conftest import Api


def _csv(rows: list[list[object]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _row(code: str, *, key: str = "D", element: str = "A-01", writer: str = "wr1") -> list[object]:
    return [code, "单项选择题", f"{code} 安全电压的额定值不包括（　）。", "36V", "24V", "12V", "110V", "", "",
            key, 1, element, 2, 60, "", "", "", "", "", writer]


def _post(api: Api, headers: dict, data: bytes, name: str = "bank.csv", url: str = "items", **form: object):  # type: ignore[no-untyped-def]
    return api.client.post(f"/banks/{api.bank_id}/imports/{url}", headers=headers,
                           files={"file": (name, data, "application/octet-stream")},
                           data={k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()})


def test_item_import_dry_run_then_real_and_idempotent(api: Api) -> None:
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    api.add_user("wr1", Role.ITEM_WRITER)
    data = _csv([_row("IM-1"), _row("IM-2")])
    dry = _post(api, mgr, data, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["created"] == ["IM-1", "IM-2"]
    assert api.client.get(f"/banks/{api.bank_id}/items", headers=mgr).json()["total"] == 0
    real = _post(api, mgr, data)
    assert real.status_code == 200 and real.json()["created"] == ["IM-1", "IM-2"]
    page = api.client.get(f"/banks/{api.bank_id}/items", headers=mgr).json()
    assert page["total"] == 2 and {i["state"] for i in page["items"]} == {"draft"}
    again = _post(api, mgr, data)
    assert again.json()["unchanged"] == ["IM-1", "IM-2"] and again.json()["created"] == []
    assert query_ledger(api.session, action="import.items")


def test_a_bad_file_is_refused_whole_with_every_problem_located(api: Api) -> None:
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    api.add_user("wr1", Role.ITEM_WRITER)
    data = _csv([_row("OK-1"), _row("BAD-1", key="E"), _row("BAD-2", element="Z-9", writer="nobody")])
    r = _post(api, mgr, data)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "import_invalid" and len(err["problems"]) >= 3
    assert len(err["errors"]) == len(err["problems"])
    by_row = {(p["row"], p["column"]) for p in err["problems"]}
    assert (3, "答案") in by_row and (4, "鉴定点") in by_row
    assert all(p["sheet"] == "bank.csv" for p in err["problems"])
    assert any(p["row"] == 4 and "nobody" in p["message"] for p in err["problems"])
    assert api.client.get(f"/banks/{api.bank_id}/items", headers=mgr).json()["total"] == 0
    # a file of the wrong kind
    r = _post(api, mgr, b"hello", name="bank.pdf")
    assert r.status_code == 422 and r.json()["error"]["field"] == "filename"
    # accepted mode needs the committee's batch reference
    r = _post(api, mgr, data, mode="accepted")
    assert r.status_code == 422 and r.json()["error"]["field"] == "batch_ref"


def test_element_import_templates_and_qti_round_trip(api: Api) -> None:
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    writer = api.add_user("wr1", Role.ITEM_WRITER)
    for name in ("items.xlsx", "items.csv", "elements.xlsx"):
        r = api.client.get(f"/templates/{name}", headers=writer)
        assert r.status_code == 200 and r.content, name
    assert api.client.get("/templates/nothing.xlsx", headers=writer).status_code == 422

    tpl = api.client.get("/templates/elements.xlsx", headers=mgr).content
    r = _post(api, mgr, tpl, name="elements.xlsx", url="elements", dry_run=True)
    assert r.status_code == 200 and r.json()["versions"] == {"theory": None}, r.text
    r = _post(api, mgr, tpl, name="elements.xlsx", url="elements")
    assert r.json()["versions"] == {"theory": 2}
    broken = _post(api, mgr, tpl.replace(b"xl/", b"xx/"), name="elements.xlsx", url="elements")
    assert broken.status_code == 422 and broken.json()["error"]["problems"][0]["sheet"] == "elements.xlsx"

    _post(api, mgr, _csv([_row("IM-1")]), mode="accepted", batch_ref="苏信院题验字〔2024〕3号")
    exp = api.client.get(f"/banks/{api.bank_id}/exports/qti", headers=mgr)
    assert exp.status_code == 200 and exp.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(exp.content)).namelist()
    assert "imsmanifest.xml" in names and any(n.startswith("items/") for n in names)
    assert query_ledger(api.session, action="export.qti", actor="mgr")
    # the package imports again (unchanged) as a dry run
    r = _post(api, mgr, exp.content, name="bank.zip", url="qti", dry_run=True, mode="accepted", batch_ref="R-1")
    assert r.status_code == 200, r.text
    assert r.json()["unchanged"] == ["IM-1"]


def test_minimum_rules_and_documents(api: Api) -> None:
    admin = api.add_user("root", Role.ADMIN)
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    office = api.add_user("office", Role.EXAM_OFFICE)
    r = api.client.post("/minimum-rules", headers=admin, json={"part": "theory", "minimum": 5, "level": 5})
    assert r.status_code == 201 and r.json()["minimum"] == 5
    rule_id = r.json()["id"]
    assert api.client.post("/minimum-rules", headers=mgr, json={"part": "theory", "minimum": 5}).status_code == 403
    assert api.client.post("/minimum-rules", headers=admin, json={"part": "theory", "minimum": -1}).status_code == 422
    rules = api.client.get("/minimum-rules", headers=mgr).json()
    assert rules["total"] == 1
    ready = api.client.get(f"/banks/{api.bank_id}/readiness", headers=office).json()
    theory = next(p for p in ready["parts"] if p["part"] == "theory")
    assert theory["minimum"] == 5 and f"本中心第 {rule_id} 号规定" in theory["minimum_source"]

    doc = api.client.get(f"/banks/{api.bank_id}/element-tables/theory/document", headers=mgr)
    assert doc.status_code == 200 and doc.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml")
    cells = [c.text for t in Document(io.BytesIO(doc.content)).tables for row in t.rows for c in row.cells]
    assert any("A-01" in c for c in cells)
    rep = api.client.get(f"/banks/{api.bank_id}/readiness/document", headers=office)
    assert rep.status_code == 200 and Document(io.BytesIO(rep.content)).paragraphs
    assert "filename*=UTF-8''" in rep.headers["content-disposition"]
    every = api.client.get("/readiness/document", headers=office)
    assert every.status_code == 200


def test_expert_register(api: Api) -> None:
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    writer = api.add_user("newbie", Role.ITEM_WRITER, expert=False)
    r = api.client.post("/experts", headers=mgr, json={"username": "newbie", "name": "新手", "title_rank": "junior"})
    assert r.status_code == 201 and r.json()["scopes"] == []
    r = api.client.put("/experts/newbie/scopes", headers=mgr, json={
        "occupation_code": "6-31-01-03", "role": "writer", "years_in_occupation": 2})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_qualified"
    assert len(r.json()["error"]["errors"]) == 2
    r = api.client.put("/experts/newbie/scopes", headers=mgr, json={
        "occupation_code": "6-31-01-03", "role": "writer", "years_in_occupation": 6, "certificate_level": 2})
    assert r.status_code == 200 and r.json()["scopes"][0]["role"] == "writer"
    me = api.client.get("/experts/me", headers=writer)
    assert me.status_code == 200 and me.json()["username"] == "newbie"
    assert api.client.get("/experts/mgr", headers=writer).status_code == 403
    # the writer may write now; suspended, at once no longer
    item = {"code": "N1", "content": {"item_type": "true_false", "stem": "36V是安全电压。", "points": 1,
                                      "element_codes": ["A-01"], "key": ["T"]}}
    assert api.client.post(f"/banks/{api.bank_id}/items", headers=writer, json=item).status_code == 201
    assert api.client.post("/experts/newbie/suspend", headers=mgr, json={"reason": "泄密"}).json()["suspended"]
    r = api.client.post(f"/banks/{api.bank_id}/items", headers=writer, json={**item, "code": "N2"})
    assert r.status_code == 403 and any("已暂停专家工作：泄密" in e for e in r.json()["error"]["errors"])
    page = api.client.get("/experts", headers=mgr, params={"suspended": True}).json()
    assert [e["username"] for e in page["items"]] == ["newbie"]
    r = api.client.delete("/experts/newbie/scopes/6-31-01-03/writer", headers=mgr, params={"reason": "调离"})
    assert r.status_code == 200 and r.json()["scopes"] == []
