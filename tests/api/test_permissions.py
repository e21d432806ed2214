"""The permission matrix: every role against every endpoint (issue 6).

Each role gets a user holding only that role (admin holds everything by rule). A request from
a role that is not allowed must answer 403 with the code ``role_required`` (refused before
anything is read); from an allowed role anything but 401 and ``role_required`` (404 or 422
are fine: the request got past access control by role; a need-to-know refusal about one
object, code ``permission_denied``, is tested object by object in test_need_to_know.py).
A new route fails ``test_matrix_covers_every_route`` until it is added here, and
``test_matrix_matches_the_routes_declarations`` until its ``require(...)`` agrees.
"""

from __future__ import annotations

import importlib

import pytest

from api.app import ROUTERS
from itembank.domain import Role

from .conftest import Api

A, BM, IW, RV, CM, EO, EX, AU = (Role.ADMIN, Role.BANK_MANAGER, Role.ITEM_WRITER, Role.REVIEWER,
                                 Role.COMMITTEE_MEMBER, Role.EXAM_OFFICE, Role.EXAMINER, Role.AUDITOR)
ALL = frozenset(Role)


def only(*roles: Role) -> frozenset[Role]:
    return frozenset({A, *roles})


CONTENT = only(BM, IW, RV, CM)  # need-to-know readers of item content (itembank.visibility)
OFFICE = only(EO)
OFFICE_AUDIT = only(EO, AU)
B = "/banks/{bank_id}"
I = B + "/items/{code}"  # noqa: E741
MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/health"): ALL,
    ("POST", "/auth/token"): ALL,
    ("POST", "/auth/logout"): ALL,
    ("GET", "/auth/me"): ALL,
    ("GET", "/users"): only(),
    ("POST", "/users"): only(),
    ("PUT", "/users/{username}/roles"): only(),
    ("PUT", "/users/{username}/active"): only(),
    ("POST", "/users/{username}/unlock"): only(),
    ("GET", "/occupations"): ALL,
    ("POST", "/occupations"): only(BM),
    ("GET", "/banks"): ALL,
    ("POST", "/banks"): only(BM),
    ("GET", B): ALL,
    ("GET", B + "/readiness"): only(BM, EO, AU),
    ("GET", B + "/element-tables/{part}"): CONTENT,
    ("POST", B + "/element-tables/{part}"): only(BM),
    # items and the workflow
    ("GET", B + "/items"): CONTENT,
    ("POST", B + "/items"): only(IW),
    ("GET", I): CONTENT,
    ("PUT", I): only(IW),
    # pictures of items (issue 17): need-to-know is checked per picture
    ("POST", B + "/media"): only(IW, BM),
    ("GET", "/media/{sha256}"): CONTENT,
    ("GET", I + "/versions"): CONTENT,
    ("POST", I + "/submit"): only(IW),
    ("POST", I + "/reviewers"): only(BM),
    ("DELETE", I + "/reviewers/{reviewer}"): only(BM),
    ("POST", I + "/review/start"): only(RV),
    ("POST", I + "/reviews"): only(RV),
    ("GET", I + "/reviews"): CONTENT,
    ("GET", I + "/diff"): CONTENT,
    ("GET", I + "/history"): only(BM, IW, RV, CM, AU),
    ("POST", I + "/retire"): only(BM),
    ("GET", "/review-queue"): only(RV),
    # committee acceptance
    ("GET", B + "/batches"): only(BM, CM, AU),
    ("POST", B + "/batches"): only(BM),
    ("GET", "/batches/{batch_code}"): only(BM, CM, AU),
    ("GET", "/batches/{batch_code}/items"): only(BM, CM),
    ("POST", "/batches/{batch_code}/signatures"): only(CM),
    ("POST", "/batches/{batch_code}/reject"): only(BM, CM),
    # expert register
    ("GET", "/experts"): only(BM),
    ("POST", "/experts"): only(BM),
    ("GET", "/experts/me"): ALL,
    ("GET", "/experts/{username}"): only(BM),
    ("PUT", "/experts/{username}/scopes"): only(BM),
    ("DELETE", "/experts/{username}/scopes/{occupation_code}/{role}"): only(BM),
    ("POST", "/experts/{username}/suspend"): only(BM),
    ("POST", "/experts/{username}/reinstate"): only(BM),
    # imports, exports, templates, minimums, documents
    ("POST", B + "/imports/items"): only(BM),
    ("POST", B + "/imports/qti"): only(BM),
    ("POST", B + "/imports/elements"): only(BM),
    ("GET", B + "/exports/qti"): only(BM),
    ("GET", "/templates/{name}"): ALL,
    ("GET", "/minimum-rules"): only(BM, AU),
    ("POST", "/minimum-rules"): only(),
    ("GET", B + "/element-tables/{part}/document"): CONTENT,
    ("GET", B + "/readiness/document"): only(BM, EO, AU),
    ("GET", "/readiness/document"): only(BM, EO, AU),
    # registration
    ("GET", "/candidates"): OFFICE,
    ("POST", "/candidates"): OFFICE,
    ("GET", "/candidates/{candidate_id}"): OFFICE,
    ("GET", "/applications"): OFFICE,
    ("POST", "/applications"): OFFICE,
    ("GET", "/applications/{application_id}"): OFFICE,
    ("POST", "/applications/{application_id}/plan"): OFFICE,
    ("POST", "/applications/{application_id}/withdraw"): OFFICE,
    ("POST", "/applications/import"): OFFICE,
    ("GET", "/eligibility-rules"): OFFICE,
    # exam plans and sessions
    ("GET", "/exam-plans"): OFFICE_AUDIT,
    ("POST", "/exam-plans"): OFFICE,
    ("GET", "/exam-plans/{plan_code}"): OFFICE_AUDIT,
    ("POST", "/exam-plans/{plan_code}/tickets"): OFFICE,
    ("GET", "/exam-plans/{plan_code}/tickets"): OFFICE,
    ("GET", "/exam-plans/{plan_code}/tickets/document"): OFFICE,
    ("GET", "/exam-sessions"): OFFICE_AUDIT,
    ("POST", "/exam-sessions"): OFFICE,
    ("GET", "/exam-sessions/{session_code}"): OFFICE_AUDIT,
    ("POST", "/exam-sessions/{session_code}/rooms"): OFFICE,
    ("POST", "/exam-sessions/{session_code}/seats"): OFFICE,
    ("PUT", "/exam-sessions/{session_code}/rooms/{room_code}/proctors"): OFFICE,
    ("POST", "/exam-sessions/{session_code}/examiner-groups"): OFFICE,
    ("GET", "/exam-sessions/{session_code}/examiner-groups"): only(EO, EX),
    # staff
    ("GET", "/staff"): OFFICE,
    ("POST", "/staff"): OFFICE,
    ("GET", "/staff/{staff_id}"): OFFICE,
    ("POST", "/staff/{staff_id}/cards"): OFFICE,
    ("POST", "/staff/{staff_id}/trainings"): OFFICE,
    ("POST", "/staff/{staff_id}/relations"): OFFICE,
    ("PUT", "/staff/{staff_id}/account"): only(),
    ("POST", "/staff-cards/{number}/revoke"): OFFICE,
    ("GET", "/staff-cards/lapsed"): OFFICE_AUDIT,
    # scoring and results
    ("POST", "/exam-sessions/{session_code}/responses"): OFFICE,
    ("POST", "/exam-sessions/{session_code}/scores"): only(EX),
    ("POST", "/exam-sessions/{session_code}/scores/settle"): only(EX),
    ("POST", "/applications/{application_id}/part-results"): OFFICE,
    ("POST", "/applications/{application_id}/comprehensive-review"): OFFICE,
    ("GET", "/applications/{application_id}/result"): OFFICE_AUDIT,
    ("GET", "/exam-plans/{plan_code}/results"): OFFICE_AUDIT,
    ("POST", "/applications/{application_id}/violations"): OFFICE,
    ("GET", "/violations"): OFFICE_AUDIT,
    # publication
    ("POST", "/exam-plans/{plan_code}/publication"): OFFICE,
    ("GET", "/exam-plans/{plan_code}/publication"): OFFICE_AUDIT,
    ("POST", "/exam-plans/{plan_code}/publication/objections"): OFFICE,
    ("POST", "/objections/{objection_id}/resolve"): OFFICE,
    ("POST", "/exam-plans/{plan_code}/publication/release"): OFFICE,
    ("GET", "/calendar"): OFFICE_AUDIT,
    ("PUT", "/calendar/{day}"): OFFICE,
    ("DELETE", "/calendar/{day}"): OFFICE,
    # certificates
    ("POST", "/certificates"): OFFICE,
    ("POST", "/exam-plans/{plan_code}/certificates"): OFFICE,
    ("GET", "/certificates"): OFFICE_AUDIT,
    ("GET", "/certificates/{code}"): OFFICE_AUDIT,
    ("GET", "/certificates/{code}/history"): OFFICE_AUDIT,
    ("GET", "/certificates/{code}/qr"): OFFICE,
    ("POST", "/certificates/{code}/print"): OFFICE,
    ("POST", "/certificates/{code}/hand-over"): OFFICE,
    ("POST", "/certificates/{code}/void"): OFFICE,
    ("POST", "/certificates/{code}/reissue"): OFFICE,
    ("POST", "/certificates/{code}/correct"): OFFICE,
    ("POST", "/certificates/{code}/revoke"): OFFICE,
    ("GET", "/public/certificates/verify"): ALL,
    # retention
    ("GET", "/retention"): only(AU),
    ("POST", "/retention/{plan_code}/reviews"): only(),
    ("POST", "/retention/{plan_code}/holds"): only(),
    ("DELETE", "/retention/holds/{hold_id}"): only(),
    ("POST", "/retention/destruction"): only(),
    # blueprints, assembly runs, papers (bank managers)
    ("GET", B + "/blueprints"): only(BM),
    ("POST", B + "/blueprints"): only(BM),
    ("POST", B + "/blueprints/derive"): only(BM),
    ("GET", B + "/blueprints/{blueprint_id}"): only(BM),
    ("POST", B + "/assembly-runs"): only(BM),
    ("GET", B + "/assembly-runs"): only(BM),
    ("GET", "/assembly-runs/{run_id}"): only(BM),
    ("POST", "/assembly-runs/{run_id}/backups"): only(BM),
    ("POST", "/assembly-runs/{run_id}/cancel"): only(BM),
    # jobs (issue 13)
    ("POST", B + "/imports/items/jobs"): only(BM),
    ("POST", "/analyses/jobs"): only(BM),
    ("POST", "/sealed-paper-batches"): only(EO),
    ("GET", "/jobs/{job_id}"): only(BM, EO),
    ("POST", "/jobs/{job_id}/cancel"): only(BM, EO),
    ("GET", "/assembly-runs/{run_id}/report"): only(BM),
    ("GET", "/assembly-runs/{run_id}/curves"): only(BM),
    ("GET", B + "/papers"): only(BM),
    ("GET", "/papers/{paper_code}"): only(BM),
    ("GET", "/papers/{paper_code}/recheck"): only(BM),
    ("GET", "/papers/{paper_code}/documents/{kind}"): only(BM),
    # sealed papers and incidents (exam office only: nobody else touches a sealed paper)
    ("POST", "/exam-sessions/{session_code}/sealed-papers"): OFFICE,
    ("GET", "/exam-sessions/{session_code}/sealed-papers"): OFFICE,
    ("POST", "/exam-sessions/{session_code}/sealed-papers/{paper_code}/open"): OFFICE,
    ("POST", "/exam-sessions/{session_code}/sealed-papers/{paper_code}/open/override"): only(),
    ("GET", "/exam-sessions/{session_code}/sealed-papers/{paper_code}/documents/{document}"): OFFICE,
    ("POST", "/exam-sessions/{session_code}/incidents"): OFFICE,
    ("GET", "/exam-sessions/{session_code}/incidents"): OFFICE,
    # analyses
    ("POST", "/analyses"): only(BM),
    ("GET", "/analyses/{calibration_id}"): only(BM),
    ("GET", B + "/items-needing-review"): only(BM),
    ("GET", I + "/calibrations"): only(BM),
    # ledger
    ("GET", "/ledger"): only(AU),
    ("GET", "/ledger/verify"): only(AU),
    ("POST", "/ledger/verify"): only(AU),
    ("POST", "/ledger/checkpoints"): only(AU),
    ("GET", "/ledger/checkpoints/latest"): only(AU),
}
PUBLIC = {("GET", "/health"), ("POST", "/auth/token"), ("GET", "/public/certificates/verify")}
# operations that change the caller's own session or would act on real data with {} as body
SKIP = {("POST", "/auth/logout")}
FILL = {"{bank_id}": None, "{part}": "theory", "{code}": "Q0001", "{username}": "nobody", "{reviewer}": "nobody",
        "{batch_code}": "YS-NONE", "{occupation_code}": "6-31-01-03", "{role}": "writer", "{name}": "items.csv",
        "{candidate_id}": "999999", "{application_id}": "999999", "{plan_code}": "NO-PLAN",
        "{session_code}": "NO-SESSION", "{room_code}": "R1", "{staff_id}": "999999", "{number}": "000000000000000000",
        "{objection_id}": "999999", "{day}": "2030-01-01", "{hold_id}": "999999",
        "{blueprint_id}": "999999", "{run_id}": "999999", "{paper_code}": "NO-PAPER", "{kind}": "paper",
        "{document}": "paper.docx", "{calibration_id}": "999999", "{sha256}": "0" * 64}


def _routes(api: Api) -> set[tuple[str, str]]:
    """Every operation of the OpenAPI schema (what the app really serves)."""
    paths = api.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_matrix_covers_every_route(api: Api) -> None:
    assert _routes(api) == set(MATRIX)


def _declared_roles(dependant) -> set[Role] | None:  # type: ignore[no-untyped-def]
    for dep in dependant.dependencies:
        if hasattr(dep.call, "allowed_roles"):
            return set(dep.call.allowed_roles)
        found = _declared_roles(dep)
        if found is not None:
            return found
    return None


def test_matrix_matches_the_routes_declarations() -> None:
    """What each route's ``require(...)`` says agrees with the matrix (admin always passes;
    a route without ``require`` is open to every logged-in user or public)."""
    wrong = []
    for name in ROUTERS:
        module = importlib.import_module(f"api.routes.{name}")
        for attr in ("router", "queue_router", "public_router"):
            for route in getattr(getattr(module, attr, None), "routes", []):
                declared = _declared_roles(route.dependant)
                expected = ALL if declared is None else frozenset({A, *declared})
                for method in route.methods:
                    if MATRIX.get((method, route.path)) != expected:
                        wrong.append(f"{method} {route.path}: declares {sorted(r.value for r in expected)}")
    assert not wrong, "\n".join(wrong)


def _fill(path: str, api: Api) -> str:
    for key, value in FILL.items():
        path = path.replace(key, str(api.bank_id) if value is None else value)
    return path


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_against_each_endpoint(api: Api, role: Role) -> None:
    headers = api.add_user(f"u_{role.value}", role)
    # an item the endpoints can address (created by a writer of its own)
    writer = api.add_user("owner_writer", Role.ITEM_WRITER) if role is not Role.ITEM_WRITER else headers
    from .test_items import ITEM

    assert api.client.post(f"/banks/{api.bank_id}/items", headers=writer, json=ITEM).status_code == 201
    wrong = []
    for (method, path), allowed in sorted(MATRIX.items()):
        if (method, path) in PUBLIC | SKIP:
            continue
        r = api.client.request(method, _fill(path, api), headers=headers, json={})
        code = r.json().get("error", {}).get("code") if r.headers.get("content-type", "").startswith(
            "application/json") and r.status_code >= 400 else None
        refused_by_role = r.status_code == 403 and code == "role_required"
        if (role in allowed) == refused_by_role or r.status_code == 401 or r.status_code >= 500:
            wrong.append(f"{method} {path}: {r.status_code} {r.text[:160]}")
    assert not wrong, f"role {role.value}:\n" + "\n".join(wrong)


def test_public_operations_need_no_login(api: Api) -> None:
    assert api.client.get("/health").status_code == 200
    r = api.client.get("/public/certificates/verify", params={"c": "X"})
    assert r.status_code == 200 and r.json()["valid"] is False
    for method, path in sorted(set(MATRIX) - PUBLIC - SKIP):
        r = api.client.request(method, _fill(path, api), json={})
        assert r.status_code == 401, f"{method} {path}: {r.status_code}"
