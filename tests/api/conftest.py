"""API test fixtures: the app on the test database, inside a transaction rolled back after
the test (each route's commit becomes a savepoint), and users of every role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.jobs import InlineJobs
from itembank import accounts
from itembank.config import Settings
from itembank.domain import SYSTEM_ACTOR, Level, Part, Role
from itembank.elements import save_element_table
from itembank.experts import ExpertRole, TitleRank, grant_scope, register_expert
from itembank.occupations import create_bank, create_occupation
from lifecycle.config import LifecycleSettings
from tests.itembank.conftest import PRACTICAL_TABLE, SMALL_TABLE

PASSWORD = "Correct-Horse-42"
OCC = "6-31-01-03"
OTHER_OCC = "4-04-05-01"
LIFECYCLE = LifecycleSettings(qr_secret=SecretStr("api-test-secret"), institution="苏州信息职业技术学院",
                              organisation_code="0321", province_code="32", site_serial="000007",
                              institution_code="3205000000001", verify_url="https://cert.example.org/public/certificates/verify",
                              seal_master_key=SecretStr("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="), _env_file=None)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the smallest parameters: the API tests create many users; production
    keeps the library's recommended parameters (itembank.accounts)."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@dataclass
class Api:
    client: TestClient
    session: Session
    bank_id: int

    def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        r = self.client.post("/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def add_user(self, username: str, *roles: Role, occupation: str | None = None,
                 expert: bool | None = None) -> dict[str, str]:
        """A user with ``roles`` (for ``occupation``, or every one). Writers and reviewers are
        also put in the expert register, qualified for both test occupations, unless
        ``expert`` is False."""
        accounts.create_user(self.session, username=username, password=PASSWORD,
                             roles=[(r, occupation) for r in roles], actor="test")
        if expert or (expert is None and {Role.ITEM_WRITER, Role.REVIEWER} & set(roles)):
            self.add_expert(username)
        self.session.commit()
        return self.login(username)

    def add_expert(self, username: str) -> None:
        register_expert(self.session, actor=SYSTEM_ACTOR, username=username, name=f"专家{username}",
                        title_rank=TitleRank.SENIOR)
        for occ in (OCC, OTHER_OCC):
            for role in ExpertRole:
                grant_scope(self.session, actor=SYSTEM_ACTOR, username=username, occupation_code=occ, role=role,
                            years_in_occupation=10, certificate_level=Level.L2)
        self.session.commit()


@pytest.fixture()
def api(engine: Engine) -> Iterator[Api]:
    conn = engine.connect()
    outer = conn.begin()
    maker = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    app = create_app(Settings(database_url=engine.url.render_as_string(hide_password=False)), engine=engine, lifecycle_settings=LIFECYCLE)
    app.state.sessionmaker = maker
    app.state.jobs = InlineJobs(maker, lifecycle=LIFECYCLE)  # one shared connection: jobs run inline
    setup = maker()
    create_occupation(setup, code=OCC, name="电工", category="technical_skill")
    create_occupation(setup, code=OTHER_OCC, name="计算机程序设计员", category="knowledge_skill")
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
