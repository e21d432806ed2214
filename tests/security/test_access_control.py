"""Access control, case by case (issue 12): each test failed on the code before the fix.

Grants are (role, occupation) pairs: a role's scope never spreads to the user's other roles.
Both the API and the pages are asked; the property test (test_permission_property.py) then
draws random accounts and requests against an oracle."""

from __future__ import annotations

from itembank.domain import Role
from itembank.ledger import query_ledger

from .conftest import OCC, OTHER_OCC, Api, World, page_csrf, page_headers, seal_unopened

# --------------------------------------------------------------------------------------
# Pooled scopes (the three cases of the issue, mirrored)


def test_exam_office_of_x_and_manager_of_y_reads_nothing_of_x(world: World) -> None:
    h = world.add_user("pool1", [(Role.EXAM_OFFICE, OCC), (Role.BANK_MANAGER, OTHER_OCC)])
    x, y = world.sides[OCC], world.sides[OTHER_OCC]
    for url in (f"/banks/{x.bank_id}/items/{x.item_code}", f"/papers/{x.paper_code}",
                f"/assembly-runs/{x.run_id}", f"/banks/{x.bank_id}/exports/qti"):
        r = world.client.get(url, headers=h)
        assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied", url
    assert world.client.get(f"/banks/{x.bank_id}/items", headers=h).status_code == 403
    # own grants still work, pair by pair
    assert world.client.get(f"/banks/{y.bank_id}/items/{y.item_code}", headers=h).status_code == 200
    assert world.client.get(f"/exam-sessions/{x.session_code}/sealed-papers", headers=h).status_code == 200
    # the pages refuse alike
    page = page_headers(h)
    for url in (f"/ui/banks/{x.bank_id}/items", f"/ui/banks/{x.bank_id}/items/{x.item_code}", f"/ui/runs/{x.run_id}"):
        assert world.client.get(url, headers=page, follow_redirects=False).status_code == 403, url
    assert world.client.get(f"/ui/banks/{y.bank_id}/items", headers=page).status_code == 200


def test_unscoped_examiner_and_manager_of_y_cannot_export_x(world: World) -> None:
    h = world.add_user("pool2", [(Role.EXAMINER, None), (Role.BANK_MANAGER, OTHER_OCC)])
    x, y = world.sides[OCC], world.sides[OTHER_OCC]
    r = world.client.get(f"/banks/{x.bank_id}/exports/qti", headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert world.client.get(f"/banks/{y.bank_id}/exports/qti", headers=h).status_code == 200


def test_exam_office_of_y_and_examiner_cannot_download_x(world: World) -> None:
    h = world.add_user("pool3", [(Role.EXAM_OFFICE, OTHER_OCC), (Role.EXAMINER, None)])
    x, y = world.sides[OCC], world.sides[OTHER_OCC]
    url = f"/exam-sessions/{x.session_code}/sealed-papers/{x.paper_code}/documents/{x.document}"
    r = world.client.get(url, headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    page = f"/ui/sessions/{x.session_code}/papers/{x.paper_code}/documents/{x.document}"
    assert world.client.get(page, headers=page_headers(h)).status_code == 403
    mine = f"/exam-sessions/{y.session_code}/sealed-papers/{y.paper_code}/documents/{y.document}"
    assert world.client.get(mine, headers=h).status_code == 200
    # lists show only the occupations a role is held for: Y's session, not X's
    codes = {s["code"] for s in world.client.get("/exam-sessions", headers=h).json()["items"]}
    assert y.session_code in codes and x.session_code not in codes


# --------------------------------------------------------------------------------------
# Two-person opening


def test_administrator_is_never_the_second_opener(api: Api) -> None:
    paper = seal_unopened(api)
    office = api.add_user("office_x", Role.EXAM_OFFICE, occupation=OCC)
    admin = api.add_user("root", Role.ADMIN)
    url = f"/exam-sessions/{paper.session_code}/sealed-papers/{paper.paper_code}/open"
    assert api.client.post(url, headers=office).json()["state"] == "sealed"
    r = api.client.post(url, headers=admin)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    # nor through the page
    r = api.client.post(f"/ui/sessions/{paper.session_code}/papers/{paper.paper_code}/confirm",
                        headers=page_headers(admin), data={"csrf_token": page_csrf(admin)}, follow_redirects=False)
    assert r.status_code == 403
    listed = api.client.get(f"/exam-sessions/{paper.session_code}/sealed-papers", headers=office).json()
    main = next(p for p in listed if p["paper_code"] == paper.paper_code)
    assert main["state"] == "sealed" and [c[0] for c in main["confirmations"]] == ["office_x"]


def test_exam_office_of_another_occupation_is_no_opener(api: Api) -> None:
    paper = seal_unopened(api)
    first = api.add_user("office_x", Role.EXAM_OFFICE, occupation=OCC)
    foreign = api.add_user("office_y", Role.EXAM_OFFICE, occupation=OTHER_OCC)
    url = f"/exam-sessions/{paper.session_code}/sealed-papers/{paper.paper_code}/open"
    api.client.post(url, headers=first)
    r = api.client.post(url, headers=foreign)
    assert r.status_code == 403


def test_override_is_a_separate_act_with_a_reason_in_the_ledger(api: Api) -> None:
    paper = seal_unopened(api)
    office = api.add_user("office_x", Role.EXAM_OFFICE, occupation=OCC)
    admin = api.add_user("root", Role.ADMIN)
    base = f"/exam-sessions/{paper.session_code}/sealed-papers/{paper.paper_code}"
    # not before an exam-office user confirmed in person
    r = api.client.post(f"{base}/open/override", headers=admin, json={"reason": "第二名考务人员突发疾病，无法到场"})
    assert r.status_code == 409
    api.client.post(f"{base}/open", headers=office)
    # no silent pass: a reason is required
    assert api.client.post(f"{base}/open/override", headers=admin, json={"reason": "ok"}).status_code == 422
    # only an administrator
    assert api.client.post(f"{base}/open/override", headers=office,
                           json={"reason": "第二名考务人员突发疾病，无法到场"}).status_code == 403
    r = api.client.post(f"{base}/open/override", headers=admin, json={"reason": "第二名考务人员突发疾病，无法到场"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "opened" and body["override"]["by"] == "root"
    assert [c[0] for c in body["confirmations"]] == ["office_x"]
    (entry,) = query_ledger(api.session, action="paper.open_override", object_id=paper.paper_code)
    assert entry.actor == "root" and entry.details["reason"] == "第二名考务人员突发疾病，无法到场"
    assert entry.details["confirmed_by"] == ["office_x"]
    assert not query_ledger(api.session, action="paper.open", object_id=paper.paper_code)


# --------------------------------------------------------------------------------------
# Confidential reads are ledgered


def test_run_report_and_curves_reads_are_ledgered(world: World) -> None:
    x = world.sides[OCC]
    h = world.add_user("mgr_ledger", [(Role.BANK_MANAGER, OCC)])
    from sqlalchemy.orm import Session

    def entries(action: str) -> list:
        with Session(world.engine) as s:
            return [e for e in query_ledger(s, action=action, actor="mgr_ledger")]

    run = world.client.get(f"/assembly-runs/{x.run_id}", headers=h).json()
    (read,) = entries("papers.view")
    assert read.object_id == str(x.run_id) and read.details["papers"] == run["paper_codes"]
    assert world.client.get(f"/assembly-runs/{x.run_id}/report", headers=h).status_code == 200
    (report,) = entries("assembly_run.report")
    assert report.details["papers"] == run["paper_codes"]
    assert world.client.get(f"/assembly-runs/{x.run_id}/curves", headers=h).status_code == 200
    assert len(entries("assembly_run.curves")) == 1


def test_item_reviews_read_is_ledgered(api: Api) -> None:
    from tests.api.test_items import ITEM

    w = api.add_user("wr1", Role.ITEM_WRITER)
    base = f"/banks/{api.bank_id}/items"
    api.client.post(base, headers=w, json=ITEM)
    assert api.client.get(f"{base}/Q0001/reviews", headers=w).status_code == 200
    (entry,) = query_ledger(api.session, action="item.reviews_read", actor="wr1")
    assert entry.object_type == "item" and entry.details["code"] == "Q0001"


# --------------------------------------------------------------------------------------
# Unknown and foreign item codes answer alike (no enumeration)


def test_unknown_and_foreign_item_codes_answer_alike(api: Api) -> None:
    from tests.api.test_items import ITEM

    mine, other = api.add_user("wr1", Role.ITEM_WRITER), api.add_user("wr2", Role.ITEM_WRITER)
    base = f"/banks/{api.bank_id}/items"
    assert api.client.post(base, headers=other, json={**ITEM, "code": "Q0002"}).status_code == 201
    body = {"content": ITEM["content"], "reason": "改"}

    def answer(code: str, *, page: bool = False):  # type: ignore[no-untyped-def]
        if page:
            r = api.client.get(f"/ui/banks/{api.bank_id}/items/{code}/edit", headers=page_headers(mine))
            return r.status_code, r.text.replace(code, "CODE")
        r = api.client.put(f"{base}/{code}", headers=mine, json=body)
        err = r.json()["error"]
        return r.status_code, err["code"], err["message"].replace(code, "CODE")

    assert answer("Q0002") == answer("Q9999")
    assert answer("Q0002")[0] == 403
    assert answer("Q0002", page=True) == answer("Q9999", page=True)
    for act in ("submit",):
        a = api.client.post(f"{base}/Q0002/{act}", headers=mine, json={})
        b = api.client.post(f"{base}/Q9999/{act}", headers=mine, json={})
        assert (a.status_code, a.json()["error"]["code"]) == (b.status_code, b.json()["error"]["code"]) == \
            (403, "permission_denied")


# --------------------------------------------------------------------------------------
# Analyses: the scope is checked before anything runs


def test_analysis_refused_before_running_for_a_foreign_manager(world: World) -> None:
    x = world.sides[OCC]
    h = world.add_user("mgr_y_ana", [(Role.BANK_MANAGER, OTHER_OCC)])
    r = world.client.post("/analyses", headers=h, json={"session_code": x.session_code})
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    # a foreign paper and an unknown one answer alike
    a = world.client.post("/analyses", headers=h, json={"paper_codes": [x.paper_code]})
    b = world.client.post("/analyses", headers=h, json={"paper_codes": ["NO-SUCH-PAPER"]})
    assert (a.status_code, a.json()["error"]["code"]) == (b.status_code, b.json()["error"]["code"]) == \
        (404, "not_found")
    # the manager of X gets past the scope check (and hears about the responses)
    own = world.add_user("mgr_x_ana", [(Role.BANK_MANAGER, OCC)])
    r = world.client.post("/analyses", headers=own, json={"session_code": x.session_code})
    assert r.status_code != 403


# --------------------------------------------------------------------------------------
# The staff register


def test_staff_register_is_the_centre_wide_exam_office_s(world: World) -> None:
    scoped = world.add_user("office_scoped", [(Role.EXAM_OFFICE, OTHER_OCC)])
    centre = world.add_user("office_centre", [(Role.EXAM_OFFICE, None)])
    shown = world.client.get(f"/staff/{world.staff_id}", headers=scoped).json()["id_number"]
    assert shown != world.staff_id_number and shown.endswith(world.staff_id_number[-4:])
    listed = world.client.get("/staff", headers=scoped).json()["items"]
    assert all(world.staff_id_number != s["id_number"] for s in listed)
    assert world.client.get(f"/staff/{world.staff_id}", headers=centre).json()["id_number"] == \
        world.staff_id_number
    r = world.client.post("/staff", headers=scoped, json={"name": "孙监考"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert world.client.post("/staff", headers=centre, json={"name": "孙监考"}).status_code == 201


def test_scoped_auditor_does_not_read_the_centre_ledger(world: World) -> None:
    scoped = world.add_user("aud_scoped", [(Role.AUDITOR, OCC)])
    r = world.client.get("/ledger", headers=scoped)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert world.client.get("/ui/ledger", headers=page_headers(scoped)).status_code == 403
    centre = world.add_user("aud_centre", [(Role.AUDITOR, None)])
    assert world.client.get("/ledger", headers=centre).status_code == 200


def test_admin_grants_are_for_every_occupation(api: Api) -> None:
    admin = api.add_user("root", Role.ADMIN)
    r = api.client.post("/users", headers=admin, json={
        "username": "halfadmin", "password": "Rb7#kq2Lp!x9Vw", "roles": [{"role": "admin", "occupation_code": OCC}]})
    assert r.status_code == 422 and "roles" in r.text
