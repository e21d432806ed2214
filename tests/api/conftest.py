"""API test fixtures: the app on the test database, inside a transaction rolled back after
the test (each route's commit becomes a savepoint), and users of every role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from itembank import accounts
from itembank.config import Settings
from itembank.domain import Role
from itembank.elements import save_element_table
from itembank.occupations import create_bank, create_occupation
from itembank.domain import Level, Part
from tests.itembank.conftest import PRACTICAL_TABLE, SMALL_TABLE

PASSWORD = "Correct-Horse-42"
OCC = "6-31-01-03"


@dataclass
class Api:
    client: TestClient
    session: Session
    bank_id: int

    def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        r = self.client.post("/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def add_user(self, username: str, *roles: Role, occupation: str | None = None) -> dict[str, str]:
        accounts.create_user(self.session, username=username, password=PASSWORD,
                             roles=[(r, occupation) for r in roles], actor="test")
        self.session.commit()
        return self.login(username)


@pytest.fixture()
def api(engine: Engine) -> Iterator[Api]:
    conn = engine.connect()
    outer = conn.begin()
    maker = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    app = create_app(Settings(database_url=str(engine.url)), engine=engine)
    app.state.sessionmaker = maker
    setup = maker()
    create_occupation(setup, code=OCC, name="电工", category="technical_skill")
    create_occupation(setup, code="4-04-05-01", name="计算机程序设计员", category="knowledge_skill")
    bank = create_bank(setup, occupation_code=OCC, level=Level.L5)
    save_element_table(setup, bank=bank, part=Part.THEORY, nodes=SMALL_TABLE, actor="t")
    save_element_table(setup, bank=bank, part=Part.PRACTICAL, nodes=PRACTICAL_TABLE, actor="t")
    setup.commit()
    try:
        with TestClient(app) as client:
            yield Api(client=client, session=setup, bank_id=bank.id or 0)
    finally:
        setup.close()
        outer.rollback()
        conn.close()
