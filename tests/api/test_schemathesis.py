"""Property-based tests of every operation of the OpenAPI schema with schemathesis: generated
requests (valid and invalid) must never make the server fail (no 5xx), logged in as an
administrator and not logged in at all. Bounded to a few examples per operation so the whole
run takes about a minute; ``ITEMBANK_SCHEMATHESIS_EXAMPLES`` raises it for a longer hunt.

The schema is read from the app at import (no database needed for that); the module's
fixture then binds the app to the test database inside one transaction rolled back at the
end, with an occupation, a bank and its element tables for generated requests to reach.
(``schemathesis.pytest.from_fixture`` would load it lazily, but needs a pytest internal that
pytest 9 removed.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
import schemathesis  # the test extra (pyproject.toml) installs it; CI must not skip this file
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from api.app import create_app
from api.jobs import InlineJobs
from itembank import accounts
from itembank.config import Settings
from itembank.domain import Level, Part, Role
from itembank.elements import save_element_table
from itembank.occupations import create_bank, create_occupation
from tests.itembank.conftest import PRACTICAL_TABLE, SMALL_TABLE

from .conftest import LIFECYCLE, OCC, PASSWORD

N_EXAMPLES = int(os.environ.get("ITEMBANK_SCHEMATHESIS_EXAMPLES", "6"))
LOGOUT = ("POST", "/auth/logout")  # revokes the token it is sent with: each call gets its own


APP: FastAPI = create_app(Settings(database_url="sqlite://"), lifecycle_settings=LIFECYCLE)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def schema_app(engine: Engine) -> Iterator[tuple[FastAPI, dict[str, str], Callable[[], dict[str, str]]]]:
    """The app inside one transaction for the whole module, with some data and an admin."""
    conn = engine.connect()
    outer = conn.begin()
    maker = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    app = APP
    app.state.engine = engine
    app.state.sessionmaker = maker
    app.state.jobs = InlineJobs(maker)  # one shared connection: jobs run inline
    s = maker()
    create_occupation(s, code=OCC, name="电工", category="technical_skill")
    bank = create_bank(s, occupation_code=OCC, level=Level.L5)
    save_element_table(s, bank=bank, part=Part.THEORY, nodes=SMALL_TABLE, actor="t")
    save_element_table(s, bank=bank, part=Part.PRACTICAL, nodes=PRACTICAL_TABLE, actor="t")
    accounts.create_user(s, username="fuzz_admin", password=PASSWORD, roles=[(Role.ADMIN, None)], actor="t")
    s.commit()
    user = accounts.get_user(s, username="fuzz_admin")

    def fresh() -> dict[str, str]:
        token = accounts.issue_token(s, user=user).token
        s.commit()
        return {"Authorization": f"Bearer {token}"}

    try:
        with TestClient(app):
            yield app, fresh(), fresh
    finally:
        s.close()
        outer.rollback()
        conn.close()


# explicit: schemathesis's boundary cases of every parameter (empty, longest, largest ...);
# generate: random valid and invalid requests
EXAMPLES = settings(max_examples=N_EXAMPLES, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
# without a token every operation but the public ones stops at 401: a few random requests do
QUICK = settings(max_examples=3, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
                 suppress_health_check=list(HealthCheck))


@schema.parametrize()
@EXAMPLES
def test_no_server_errors_as_admin(case, schema_app) -> None:  # type: ignore[no-untyped-def]
    _, headers, fresh = schema_app
    if (case.method.upper(), case.path) == LOGOUT:
        headers = fresh()
    case.call_and_validate(headers=headers, checks=[not_a_server_error])


@schema.parametrize()
@QUICK
def test_no_server_errors_without_login(case, schema_app) -> None:  # type: ignore[no-untyped-def]
    response = case.call_and_validate(checks=[not_a_server_error])
    assert response.status_code < 500
