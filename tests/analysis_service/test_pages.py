"""The item statistics page and the review API after an analysis: misfit (infit/outfit) and
suspected miskeys listed, in the reader's language (the message catalog)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from api.app import create_app
from api.jobs import InlineJobs
from itembank import accounts
from itembank.analysis_service import analyse_session
from itembank.config import Settings
from itembank.domain import Role
from tests.api.conftest import LIFECYCLE, PASSWORD

from .conftest import World


@pytest.fixture()
def client(world_engine: tuple[Engine, str], world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app on the simulated world, inside a transaction rolled back afterwards, with a
    bank manager and a Rasch (CML) analysis of session S1 committed to its savepoint."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    eng, _where = world_engine
    conn = eng.connect()
    outer = conn.begin()
    maker = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    app = create_app(Settings(database_url=eng.url.render_as_string(hide_password=False)), engine=eng, lifecycle_settings=LIFECYCLE)
    app.state.sessionmaker = maker
    app.state.jobs = InlineJobs(maker, lifecycle=LIFECYCLE)
    setup = maker()
    accounts.create_user(setup, username="manager1", password=PASSWORD, roles=[(Role.BANK_MANAGER, None)],
                         actor="test")
    analyse_session(setup, session_code=world.s1, model="rasch", actor="manager1")
    setup.commit()
    try:
        with TestClient(app) as c:
            yield c
    finally:
        setup.close()
        outer.rollback()
        conn.close()


def _login(c: TestClient) -> None:
    page = c.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = c.post("/ui/login", data={"username": "manager1", "password": PASSWORD, "csrf_token": token, "next": "/"},
               follow_redirects=False)
    assert r.status_code == 303, r.text


def test_the_statistics_page_lists_misfit_and_suspected_miskeys(client: TestClient, world: World) -> None:
    _login(client)
    url = f"/ui/banks/{world.bank.id}/statistics?flagged=1"
    page = client.get(url)
    assert page.status_code == 200, page.text
    html = page.text
    row = next(r for r in html.split("<tr") if f"<td>{world.miskeyed.code}</td>" in r)
    # the flag words and the reasons come from the catalog: Chinese for the centre's staff
    assert "疑似答案错误" in row and "拟合不良（加权或未加权拟合均方）" in row
    assert "请核对答案" in row  # a reason, in the badge's title
    # infit / outfit beside the item: noisy (above 1.3)
    infit, outfit = (float(x) for x in re.search(r'<td class="num">([0-9.]+) / ([0-9.]+)</td>', row).groups())  # type: ignore[union-attr]
    assert outfit > 1.3
    assert re.search(r"疑似答案错误 / 拟合不良（加权或未加权拟合均方）</div><div class=\"big bad-text\">[1-9]", html)
    # the same page in English
    en = client.get(url + "&lang=en").text
    row_en = next(r for r in en.split("<tr") if f"<td>{world.miskeyed.code}</td>" in r)
    assert "suspected miskey" in row_en and "misfit (infit/outfit)" in row_en and "check the key" in row_en


def test_the_review_api_returns_the_reasons_in_the_readers_language(client: TestClient, world: World) -> None:
    r = client.post("/auth/token", data={"username": "manager1", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    zh = client.get(f"/banks/{world.bank.id}/items-needing-review", headers=headers)
    assert zh.status_code == 200, zh.text
    bad = next(i for i in zh.json()["items"] if i["code"] == world.miskeyed.code)
    assert "suspected_miskey" in bad["flags"] and "item_misfit" in bad["flags"]
    assert bad["fit"]["outfit_msq"] > 1.3 and any("请核对答案" in t for t in bad["reasons"])
    en = client.get(f"/banks/{world.bank.id}/items-needing-review", headers={**headers, "Accept-Language": "en"})
    bad_en = next(i for i in en.json()["items"] if i["code"] == world.miskeyed.code)
    assert any("check the key" in t for t in bad_en["reasons"])
