"""The permission property: for random accounts (several roles, each with its own scope) and
random requests, every answer of the real app (API and pages) equals the answer of a small,
independent oracle of the permission matrix (附件12 第9条 need-to-know; 附件11 第23条).

The oracle knows nothing of ``Actor``: a grant is a (role, occupation or None) pair, and

- ``holds(R, O)``: admin, or a grant (R, None) or (R, O);
- an operation names its roles; without any of them anywhere: 403 ``role_required``;
- an object of occupation O: one of the roles must be held *for O*, else 403 ``permission_denied``;
- a centre-wide register (the ledger): one of the roles for every occupation;
- lists show exactly the occupations one of the roles is held for;
- item content: only bank managers of O see the bank's items (the drawn users wrote,
  review and sign nothing), the staff register shows full ID numbers only to the exam office of
  every occupation.

The world (tests/security/conftest.py) mirrors two occupations, so that a leak from one to the
other shows as a wrong answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from itembank.domain import Role

from .conftest import OCC, OTHER_OCC, World

A, BM, IW, RV, CM, EO, EX, AU = (Role.ADMIN, Role.BANK_MANAGER, Role.ITEM_WRITER, Role.REVIEWER,
                                 Role.COMMITTEE_MEMBER, Role.EXAM_OFFICE, Role.EXAMINER, Role.AUDITOR)
CONTENT = {BM, IW, RV, CM}
OCCUPATIONS = (OCC, OTHER_OCC)
GrantSet = frozenset[tuple[Role, str | None]]


# --------------------------------------------------------------------------------------
# The oracle


def holds(grants: GrantSet, role: Role, occ: str) -> bool:
    return (A, None) in grants or (role, None) in grants or (role, occ) in grants


def anywhere(grants: GrantSet, roles: set[Role]) -> bool:
    return (A, None) in grants or any(r in roles for r, _ in grants)


def everywhere(grants: GrantSet, roles: set[Role]) -> bool:
    return (A, None) in grants or any((r, None) in grants for r in roles)


def gate(grants: GrantSet, roles: set[Role], occ: str | None) -> tuple[int, str | None]:
    """The answer of an operation needing ``roles`` on an object of ``occ`` (None: the roles
    anywhere; "*": for every occupation)."""
    if not anywhere(grants, roles):
        return 403, "role_required"
    if occ == "*":
        return (200, None) if everywhere(grants, roles) else (403, "permission_denied")
    if occ is not None and not any(holds(grants, r, occ) for r in roles):
        return 403, "permission_denied"
    return 200, None


@dataclass(frozen=True)
class Probe:
    """One request and what the oracle expects of its answer."""

    name: str
    method: str
    path: Callable[[World, str], str]
    roles: frozenset[Role]
    scope: str  # "occ": the object's occupation; "*": every occupation; "any": the role anywhere
    page: bool = False
    # extra checks on a 200 body: (world, occupation, grants, response) -> problem or None
    body: Callable[[World, str, GrantSet, object], str | None] | None = None

    def expect(self, grants: GrantSet, occ: str) -> tuple[int, str | None]:
        return gate(grants, set(self.roles), occ if self.scope == "occ" else ("*" if self.scope == "*" else None))


def _items_total(world: World, occ: str, grants: GrantSet, r) -> str | None:  # type: ignore[no-untyped-def]
    want = world.sides[occ].n_items if holds(grants, BM, occ) else 0
    got = r.json()["total"]
    return None if got == want else f"sees {got} items of {occ}, the oracle says {want}"


def _listed_occupations(attr: str, roles: set[Role]):  # type: ignore[no-untyped-def]
    """The codes listed (``Side.<attr>``: session or plan codes) are those of exactly the
    occupations one of ``roles`` is held for."""
    def check(world: World, occ: str, grants: GrantSet, r) -> str | None:  # type: ignore[no-untyped-def]
        codes = {row["code"] for row in r.json()["items"]}
        mine = {getattr(s, attr) for s in world.sides.values()}
        want = {getattr(s, attr) for o, s in world.sides.items() if any(holds(grants, role, o) for role in roles)}
        got = codes & mine
        return None if got == want else f"lists {sorted(got)}, the oracle says {sorted(want)}"
    return check


def _staff_number(world: World, occ: str, grants: GrantSet, r) -> str | None:  # type: ignore[no-untyped-def]
    shown = r.json()["id_number"]
    full = everywhere(grants, {EO})
    if full:
        return None if shown == world.staff_id_number else f"ID number {shown!r}, the oracle says in full"
    ok = shown.endswith(world.staff_id_number[-4:]) and world.staff_id_number[:6] not in shown
    return None if ok else f"ID number {shown!r}: the oracle says masked"


def _item_detail(grants: GrantSet, occ: str) -> tuple[int, str | None]:
    if not anywhere(grants, CONTENT):
        return 403, "role_required"
    return (200, None) if holds(grants, BM, occ) else (403, "permission_denied")


S = lambda f: f  # noqa: E731  (readability of the table below)
PROBES: tuple[Probe, ...] = (
    Probe("items list", "GET", S(lambda w, o: f"/banks/{w.sides[o].bank_id}/items"), frozenset(CONTENT), "occ",
          body=_items_total),
    Probe("item", "GET", S(lambda w, o: f"/banks/{w.sides[o].bank_id}/items/{w.sides[o].item_code}"),
          frozenset(CONTENT), "item"),
    Probe("item versions", "GET",
          S(lambda w, o: f"/banks/{w.sides[o].bank_id}/items/{w.sides[o].item_code}/versions"),
          frozenset(CONTENT), "item"),
    Probe("readiness", "GET", S(lambda w, o: f"/banks/{w.sides[o].bank_id}/readiness"), frozenset({BM, EO, AU}),
          "occ"),
    Probe("element table", "GET", S(lambda w, o: f"/banks/{w.sides[o].bank_id}/element-tables/theory"),
          frozenset(CONTENT), "occ"),
    Probe("qti export", "GET", S(lambda w, o: f"/banks/{w.sides[o].bank_id}/exports/qti"), frozenset({BM}), "occ"),
    Probe("runs", "GET", S(lambda w, o: f"/banks/{w.sides[o].bank_id}/assembly-runs"), frozenset({BM}), "occ"),
    Probe("run", "GET", S(lambda w, o: f"/assembly-runs/{w.sides[o].run_id}"), frozenset({BM}), "occ"),
    Probe("paper", "GET", S(lambda w, o: f"/papers/{w.sides[o].paper_code}"), frozenset({BM}), "occ"),
    Probe("blueprints", "GET", S(lambda w, o: f"/banks/{w.sides[o].bank_id}/blueprints"), frozenset({BM}), "occ"),
    Probe("batches", "GET", S(lambda w, o: f"/banks/{w.sides[o].bank_id}/batches"), frozenset({BM, CM, AU}), "occ"),
    Probe("session", "GET", S(lambda w, o: f"/exam-sessions/{w.sides[o].session_code}"), frozenset({EO, AU}), "occ"),
    Probe("sealed papers", "GET", S(lambda w, o: f"/exam-sessions/{w.sides[o].session_code}/sealed-papers"),
          frozenset({EO}), "occ"),
    Probe("sealed document", "GET", S(lambda w, o: f"/exam-sessions/{w.sides[o].session_code}/sealed-papers/"
                                                   f"{w.sides[o].paper_code}/documents/{w.sides[o].document}"),
          frozenset({EO}), "occ"),
    Probe("plan", "GET", S(lambda w, o: f"/exam-plans/{w.sides[o].plan_code}"), frozenset({EO, AU}), "occ"),
    Probe("tickets", "GET", S(lambda w, o: f"/exam-plans/{w.sides[o].plan_code}/tickets"), frozenset({EO}), "occ"),
    Probe("sessions list", "GET", S(lambda w, o: "/exam-sessions"), frozenset({EO, AU}), "any",
          body=_listed_occupations("session_code", {EO, AU})),
    Probe("plans list", "GET", S(lambda w, o: "/exam-plans"), frozenset({EO, AU}), "any",
          body=_listed_occupations("plan_code", {EO, AU})),
    Probe("staff member", "GET", S(lambda w, o: f"/staff/{w.staff_id}"), frozenset({EO}), "any",
          body=_staff_number),
    Probe("ledger", "GET", S(lambda w, o: "/ledger?limit=1"), frozenset({AU}), "*"),
    Probe("users", "GET", S(lambda w, o: "/users"), frozenset({A}), "any"),
    # pages: the same checks (status only: a refusal is a 403 page)
    Probe("items page", "GET", S(lambda w, o: f"/ui/banks/{w.sides[o].bank_id}/items"), frozenset(CONTENT), "occ",
          page=True),
    Probe("item page", "GET", S(lambda w, o: f"/ui/banks/{w.sides[o].bank_id}/items/{w.sides[o].item_code}"),
          frozenset(CONTENT), "item", page=True),
    Probe("session page", "GET", S(lambda w, o: f"/ui/sessions/{w.sides[o].session_code}"), frozenset({EO, AU}),
          "occ", page=True),
    Probe("document page", "GET", S(lambda w, o: f"/ui/sessions/{w.sides[o].session_code}/papers/"
                                                f"{w.sides[o].paper_code}/documents/{w.sides[o].document}"),
          frozenset({EO}), "occ", page=True),
    Probe("run page", "GET", S(lambda w, o: f"/ui/runs/{w.sides[o].run_id}"), frozenset({BM}), "occ", page=True),
    Probe("ledger page", "GET", S(lambda w, o: "/ui/ledger"), frozenset({AU}), "*", page=True),
)


def expected(probe: Probe, grants: GrantSet, occ: str) -> tuple[int, str | None]:
    if probe.scope == "item":
        return _item_detail(grants, occ)
    return probe.expect(grants, occ)


# --------------------------------------------------------------------------------------
# Drawing accounts and requests

_NON_ADMIN = [r for r in Role if r is not A]
grant = st.tuples(st.sampled_from(_NON_ADMIN), st.sampled_from((None, OCC, OTHER_OCC)))
accounts_ = st.builds(
    lambda gs, admin: frozenset(gs) | ({(A, None)} if admin else set()),
    st.sets(grant, min_size=1, max_size=4),
    st.sampled_from([False] * 9 + [True]),  # an administrator now and then
)
requests_ = st.lists(st.tuples(st.sampled_from(PROBES), st.sampled_from(OCCUPATIONS)), min_size=4, max_size=10)
_serial = itertools.count()


def _answer(world: World, probe: Probe, occ: str, headers: dict[str, str]) -> tuple[int, str | None, object]:
    path = probe.path(world, occ)
    if probe.page:
        token = headers["Authorization"].split(" ", 1)[1]
        r = world.client.request(probe.method, path, headers={"Cookie": f"itembank_session={token}"},
                                 follow_redirects=False)
        return r.status_code, None, r
    r = world.client.request(probe.method, path, headers=headers)
    code = None
    if r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json"):
        code = r.json().get("error", {}).get("code")
    return r.status_code, code, r


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(grants=accounts_, asks=requests_)
def test_every_answer_matches_the_oracle(world: World, grants: GrantSet, asks: list[tuple[Probe, str]]) -> None:
    username = f"prop{next(_serial)}"
    headers = world.add_user(username, sorted(grants, key=lambda g: (g[0].value, g[1] or "")))
    note(f"{username}: {sorted((r.value, o or '*') for r, o in grants)}")
    wrong = []
    for probe, occ in asks:
        want_status, want_code = expected(probe, grants, occ)
        status, code, r = _answer(world, probe, occ, headers)
        if probe.page:
            ok = status == want_status
        else:
            ok = (status, code) == (want_status, want_code)
        if ok and status == 200 and probe.body is not None:
            problem = probe.body(world, occ, grants, r)
            if problem:
                wrong.append(f"{probe.name} [{occ}]: {problem}")
        elif not ok:
            wrong.append(f"{probe.name} [{occ}]: answered {status} {code}, the oracle says {want_status} {want_code}")
    assert not wrong, "\n".join(wrong)


def test_the_oracle_is_not_vacuous(world: World) -> None:
    """The mirrored cases of the issue: pooled scopes would pass them, pair by pair refuses."""
    cases = [
        ({(EO, OCC), (BM, OTHER_OCC)}, "item", OCC, (403, "permission_denied")),
        ({(EX, None), (BM, OTHER_OCC)}, "qti export", OCC, (403, "permission_denied")),
        ({(EO, OTHER_OCC), (EX, None)}, "sealed document", OCC, (403, "permission_denied")),
        ({(BM, OCC)}, "item", OCC, (200, None)),
        ({(EO, OCC)}, "sealed document", OCC, (200, None)),
    ]
    by_name = {p.name: p for p in PROBES}
    for i, (gs, name, occ, want) in enumerate(cases):
        grants = frozenset(gs)
        assert expected(by_name[name], grants, occ) == want
        headers = world.add_user(f"vac{i}", sorted(grants, key=lambda g: (g[0].value, g[1] or "")))
        status, code, _ = _answer(world, by_name[name], occ, headers)
        assert (status, code) == want, (name, sorted(gs))
