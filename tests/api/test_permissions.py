"""The permission matrix: every role against every endpoint (issue 6).

Each role gets a user holding only that role (admin holds everything by rule). A request
from a role that is not allowed must answer 403; from an allowed role anything but 401/403
(404 or 422 are fine: the request got past access control). A new route fails
``test_matrix_covers_every_route`` until it is added here.
"""

from __future__ import annotations

import pytest

from itembank.domain import Role

from .conftest import Api

ALL = frozenset(Role)
B = "/banks/{bank_id}"
MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/health"): ALL,
    ("POST", "/auth/token"): ALL,
    ("POST", "/auth/logout"): ALL,
    ("GET", "/auth/me"): ALL,
    ("GET", "/users"): frozenset({Role.ADMIN}),
    ("POST", "/users"): frozenset({Role.ADMIN}),
    ("PUT", "/users/{username}/roles"): frozenset({Role.ADMIN}),
    ("PUT", "/users/{username}/active"): frozenset({Role.ADMIN}),
    ("GET", "/occupations"): ALL,
    ("POST", "/occupations"): frozenset({Role.ADMIN, Role.BANK_MANAGER}),
    ("GET", "/banks"): ALL,
    ("POST", "/banks"): frozenset({Role.ADMIN, Role.BANK_MANAGER}),
    ("GET", B): ALL,
    ("GET", B + "/readiness"): frozenset({Role.ADMIN, Role.BANK_MANAGER, Role.EXAM_OFFICE, Role.AUDITOR}),
    ("GET", B + "/element-tables/{part}"): frozenset(
        {Role.ADMIN, Role.BANK_MANAGER, Role.ITEM_WRITER, Role.REVIEWER, Role.COMMITTEE_MEMBER}),
    ("POST", B + "/element-tables/{part}"): frozenset({Role.ADMIN, Role.BANK_MANAGER}),
    ("GET", B + "/items"): frozenset({Role.ADMIN, Role.BANK_MANAGER, Role.ITEM_WRITER}),
    ("POST", B + "/items"): frozenset({Role.ADMIN, Role.BANK_MANAGER, Role.ITEM_WRITER}),
    ("GET", B + "/items/{code}"): frozenset({Role.ADMIN, Role.BANK_MANAGER, Role.ITEM_WRITER}),
    ("PUT", B + "/items/{code}"): frozenset({Role.ADMIN, Role.BANK_MANAGER, Role.ITEM_WRITER}),
    ("GET", B + "/items/{code}/versions"): frozenset({Role.ADMIN, Role.BANK_MANAGER, Role.ITEM_WRITER}),
    ("GET", "/ledger"): frozenset({Role.ADMIN, Role.AUDITOR}),
    ("GET", "/ledger/verify"): frozenset({Role.ADMIN, Role.AUDITOR}),
}
PUBLIC = {("GET", "/health"), ("POST", "/auth/token")}


def _routes(api: Api) -> set[tuple[str, str]]:
    """Every operation of the OpenAPI schema (what the app really serves)."""
    paths = api.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_matrix_covers_every_route(api: Api) -> None:
    assert _routes(api) == set(MATRIX)


def _fill(path: str, api: Api) -> str:
    return (path.replace("{bank_id}", str(api.bank_id)).replace("{part}", "theory")
            .replace("{code}", "Q0001").replace("{username}", "nobody"))


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_against_each_endpoint(api: Api, role: Role) -> None:
    headers = api.add_user(f"u_{role.value}", role)
    # an item the endpoints can address (created by a writer of its own)
    writer = api.add_user("owner_writer", Role.ITEM_WRITER) if role is not Role.ITEM_WRITER else headers
    from .test_items import ITEM

    assert api.client.post(f"/banks/{api.bank_id}/items", headers=writer, json=ITEM).status_code == 201
    wrong = []
    for (method, path), allowed in sorted(MATRIX.items()):
        if (method, path) in PUBLIC or path == "/auth/logout":
            continue
        r = api.client.request(method, _fill(path, api), headers=headers, json={})
        denied = r.status_code == 403
        if (role in allowed) == denied or r.status_code == 401:
            wrong.append(f"{method} {path}: {r.status_code} {r.text[:120]}")
    assert not wrong, f"role {role.value}:\n" + "\n".join(wrong)
