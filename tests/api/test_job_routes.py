"""Imports, analyses and sealed-paper batches as jobs through the API (issue 13): 202 at once,
then ``GET /jobs/{id}`` with the outcome or every problem; only the requester follows a job."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from itembank.domain import Role

from .conftest import Api
from .test_assembly_and_sealing import _blueprint_spec, _session, _stock
from .test_imports import _csv, _row


def _import(api: Api, headers: dict, data: bytes, **form: object):  # type: ignore[no-untyped-def]
    return api.client.post(f"/banks/{api.bank_id}/imports/items/jobs", headers=headers,
                           files={"file": ("bank.csv", data, "text/csv")},
                           data={k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()})


def test_an_import_job_reports_like_the_import(api: Api) -> None:
    mgr = api.add_user("mgr", Role.BANK_MANAGER)
    other = api.add_user("mgr2", Role.BANK_MANAGER)
    api.add_user("wr1", Role.ITEM_WRITER)
    r = _import(api, mgr, _csv([_row("JB-1"), _row("JB-2")]))
    assert r.status_code == 202, r.text
    job = api.client.get(f"/jobs/{r.json()['id']}", headers=mgr).json()
    assert job["kind"] == "import_items" and job["state"] == "finished" and job["progress"] == 1.0
    assert job["result"]["created"] == ["JB-1", "JB-2"] and "2" in job["message"]
    assert api.client.get(f"/banks/{api.bank_id}/items", headers=mgr).json()["total"] == 2
    assert api.client.get(f"/jobs/{job['id']}", headers=other).status_code == 403  # not theirs
    assert api.client.post(f"/jobs/{job['id']}/cancel", headers=mgr).status_code == 409  # already ended

    bad = _import(api, mgr, _csv([_row("JB-3"), _row("JB-4", element="Z-99")]))
    failed = api.client.get(f"/jobs/{bad.json()['id']}", headers=mgr).json()
    assert failed["state"] == "failed" and failed["result"]["error"]["problems"]
    assert any(p["row"] for p in failed["result"]["error"]["problems"])
    # all or nothing: JB-3 was not imported either
    assert api.client.get(f"/banks/{api.bank_id}/items", headers=mgr).json()["total"] == 2


def test_a_sealed_paper_batch_assembles_where_needed(api: Api) -> None:
    _stock(api)
    mgr = api.add_user("manager1", Role.BANK_MANAGER)
    api.client.post(f"/banks/{api.bank_id}/blueprints", headers=mgr, json={"spec": _blueprint_spec()})
    start = datetime.now(timezone.utc) + timedelta(days=2)
    for code in ("B-1", "B-2"):
        _session(api, code, start)
    office = api.add_user("office1", Role.EXAM_OFFICE, occupation="6-31-01-03")
    r = api.client.post("/sealed-paper-batches", headers=office,
                        json={"session_codes": ["B-1", "B-2", "NOPE"], "n_backups": 1, "time_limit_s": 30})
    assert r.status_code == 404  # every session is checked before the job is queued
    r = api.client.post("/sealed-paper-batches", headers=office,
                        json={"session_codes": ["B-1", "B-2"], "n_backups": 1, "time_limit_s": 30})
    assert r.status_code == 202, r.text
    job = api.client.get(f"/jobs/{r.json()['id']}", headers=office).json()
    assert job["state"] == "finished", job
    sealed = job["result"]["sessions"]
    assert set(sealed) == {"B-1", "B-2"} and all("main" in v for v in sealed.values()), sealed
    papers = [sealed[c]["main"] for c in sealed] + [b for c in sealed for b in sealed[c]["backups"]]
    assert len(set(papers)) == 4
    listed = api.client.get("/exam-sessions/B-1/sealed-papers", headers=office).json()
    assert {p["paper_code"] for p in listed} == {sealed["B-1"]["main"], *sealed["B-1"]["backups"]}
