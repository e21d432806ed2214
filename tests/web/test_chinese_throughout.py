"""Chinese throughout (issue 14, "Done means"): as every role, and as one person with several,
every page reachable from the home page, every document it offers and every document the demo
writes, and the answers of each error family (422, 403, 404, 409, 429, 503) of the API and of
the pages, hold no English word outside the short allowlist of ``tests/words.py`` beyond what
the text is made of: people's user names and the words of the items' own content (data).

The pages are read through the app with Starlette's test client (the server renders them; the
browser journeys of test_every_page.py read them in a browser, also in English). The English
locale is checked here too, on a page, an error page and an API error."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from api.app import create_app
from api.jobs import InlineJobs
from itembank import accounts
from itembank.config import Settings
from itembank.domain import Part, Role
from itembank.orm import ItemVersionRecord
from lifecycle.config import LifecycleSettings
from tests.conftest import private_engine
from tests.words import english_words

from . import crawl, scene
from .conftest import PASSWORD, USERS, World, build_world

# one person with several roles: what each role adds must read in Chinese beside the others
MULTI = ("multi1", "蒋多岗", ((Role.BANK_MANAGER, True), (Role.REVIEWER, True), (Role.EXAM_OFFICE, True),
                              (Role.AUDITOR, False)))
EXAMINER = ("examiner1", "冯考评")
ACCOUNTS = (*USERS, "admin1", EXAMINER[0], MULTI[0])
# user names in the examples of the import template (itembank.imports.items_template)
EXAMPLE_USERS = {"zhangsan", "lisi"}


@dataclass
class Here:
    """The world of this module (what ``Live`` is to the browser tests, without a server)."""

    engine: Engine
    world: World
    lifecycle: LifecycleSettings
    app: object
    made: dict[str, str]
    data_words: set[str]

    def session(self):  # type: ignore[no-untyped-def]
        return sessionmaker(self.engine, expire_on_commit=False)()


@pytest.fixture(scope="module")
def here(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Here]:
    mp = pytest.MonkeyPatch()
    mp.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    directory = tmp_path_factory.mktemp("chinese")
    engines = private_engine(directory)
    engine = next(engines)
    try:
        world = build_world(engine)
        lifecycle = LifecycleSettings(seal_master_key=SecretStr(base64.b64encode(bytes(range(32))).decode()),
                                      seal_key_file=str(directory / "unused.key"), institution="苏州信息职业技术学院",
                                      _env_file=None)
        maker = sessionmaker(engine, expire_on_commit=False)
        with maker() as s:
            occ = world.occupation
            accounts.create_user(s, username=EXAMINER[0], password=PASSWORD, roles=[(Role.EXAMINER, occ)],
                                 display_name=EXAMINER[1], actor="test")
            accounts.create_user(s, username=MULTI[0], password=PASSWORD, display_name=MULTI[1], actor="test",
                                 roles=[(r, occ if scoped else None) for r, scoped in MULTI[2]])
            s.commit()
        app = create_app(Settings(database_url=engine.url.render_as_string(hide_password=False), local_worker=False),
                         engine=engine, lifecycle_settings=lifecycle)
        app.state.jobs = InlineJobs(maker, lifecycle=lifecycle)
        h = Here(engine, world, lifecycle, app, {}, set())
        h.made = scene.full_world(h, seal_later=True)  # type: ignore[arg-type]
        _more_states(h)
        with maker() as s:
            h.data_words = _content_words(s)
        yield h
    finally:
        mp.undo()
        next(engines, None)


def _more_states(h: Here) -> None:
    """What else the pages show: an item sent back for changes, a committee member's refusal,
    an incident (a damaged paper: its backup activated) and the backup opened by two people."""
    from itembank import occupations, workflow
    from lifecycle import sealing

    scene.submitted(h, {"DG5-P-0003": "低压验电笔可用于检测（　）以下的电压。"})  # type: ignore[arg-type]
    with h.session() as s:
        bank = occupations.get_bank_by_id(s, h.world.bank_id)
        m, r = scene.actor(s, "manager1"), scene.actor(s, "reviewer1")
        workflow.assign_reviewer(s, actor=m, bank=bank, code="DG5-P-0003", reviewer="reviewer1")
        workflow.start_review(s, actor=r, bank=bank, code="DG5-P-0003")
        workflow.record_review(s, actor=r, bank=bank, code="DG5-P-0003", decision="request_changes",
                               comment="选项 D 与题干不符，请修改。")
        workflow.vote_batch(s, actor=scene.actor(s, "member1"), batch_code=h.made["batch"], accept=False,
                            opinion="个别试题表述不够严谨。")
        code = h.world.session_code
        papers = sealing.sealed_papers_of(s, exam_session_code=code, settings=h.lifecycle)
        main = next(p for p in papers if p.role.value == "main")
        sealing.report_incident(s, exam_session_code=code, paper_code=main.paper_code, kind="damaged",
                                description="试卷袋在运送途中受潮破损。", actor=scene.actor(s, "office1"),
                                settings=h.lifecycle, replace=False)
        backup = next(p for p in sealing.sealed_papers_of(s, exam_session_code=code, settings=h.lifecycle)
                      if p.role.value == "backup")
        for office in ("office1", "office2"):
            sealing.confirm_opening(s, exam_session_code=code, paper_code=backup.paper_code,
                                    actor=scene.actor(s, office), settings=h.lifecycle)
        s.commit()


def _content_words(session) -> set[str]:  # type: ignore[no-untyped-def]
    """The English of the items' own content (electrical symbols such as QF and KM, units such
    as kW, device names such as LED): data the writers typed, not the pages' or documents' words."""
    words: set[str] = set()
    for row in session.execute(select(ItemVersionRecord.stem, ItemVersionRecord.options, ItemVersionRecord.analysis,
                                      ItemVersionRecord.rubric, ItemVersionRecord.equipment)):
        words.update(english_words(json.dumps(list(row), ensure_ascii=False, default=str)))
    return words


def _allowed(h: Here) -> set[str]:
    return set(ACCOUNTS) | EXAMPLE_USERS | h.data_words | {"demo", "test", "admin"}  # actors of the set-up


def _client(h: Here, user: str | None, *, locale: str = "zh-CN") -> TestClient:
    c = TestClient(h.app, headers={"Accept-Language": locale})  # type: ignore[arg-type]
    if user:
        page = c.get("/ui/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = c.post("/ui/login", data={"username": user, "password": PASSWORD, "csrf_token": token, "next": "/"},
                   follow_redirects=False)
        assert r.status_code == 303, (user, r.status_code, r.text[:300])
    return c


def _csrf(c: TestClient, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text).group(1)  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------
# Every page, as every role


def test_every_role_reads_every_page_it_reaches_in_chinese(here: Here) -> None:
    problems, broken, reached = [], [], {}
    allow, downloads = _allowed(here), set()
    for user in ("", *ACCOUNTS):
        result = crawl.crawl(_client(here, user or None), user or "anonymous", allow,
                             start="/" if user else "/ui/login", downloads=downloads)
        problems += result.problems()
        broken += [f"{user} {v.path}: {v.status}" for v in result.visits if v.status >= 400]
        reached[user] = result
    assert broken == [], "links that lead to a refusal or a missing page:\n" + "\n".join(broken)
    assert problems == [], "English on the pages:\n" + "\n".join(problems)
    # the crawl went where each role works (a crawl that reached nothing would pass)
    b = here.world.bank_id
    expect = {
        "writer1": {f"/ui/banks/{b}/items", f"/ui/banks/{b}/items/new"},
        "reviewer1": {"/ui/reviews"},
        "member1": {"/ui/batches", f"/ui/batches/{here.made['batch']}"},
        "manager1": {f"/ui/banks/{b}/assemble", f"/ui/runs/{here.made['run']}", f"/ui/banks/{b}/statistics",
                     f"/ui/banks/{b}/blueprints/{here.world.blueprint_id}", "/ui/admin/experts"},
        "office1": {"/ui/sessions", f"/ui/sessions/{here.world.session_code}", "/ui/plans"},
        "office2": {f"/ui/sessions/{here.world.session_code}"},
        "auditor1": {"/ui/ledger", "/ui/ledger/verify"},
        "admin1": {"/ui/admin/users"},
        MULTI[0]: {"/ui/ledger", "/ui/reviews", "/ui/sessions", f"/ui/banks/{b}/assemble"},
        EXAMINER[0]: {"/"},
    }
    for user, paths in expect.items():
        assert paths <= {p.split("?")[0] for p in reached[user].paths}, (user, paths - reached[user].paths)
    kinds = {v.kind for r in reached.values() for v in r.visits}
    assert {"html", "xlsx", "docx"} <= kinds, kinds  # downloads read too
    opened = f"/ui/sessions/{here.world.session_code}/papers/"  # the opened backup's documents
    assert {"/ui/ledger/export.xlsx", "/ui/templates/items.xlsx", "/ui/templates/items.csv"} <= downloads
    assert any(d.startswith("/ui/papers/") for d in downloads) and any(d.startswith(opened) for d in downloads)
    assert any(d.endswith("/report.docx") for d in downloads), downloads
    assert sum(len(r.visits) for r in reached.values()) > 200


# --------------------------------------------------------------------------------------
# Every error family, on the API and on the pages


def _token(c: TestClient, user: str) -> dict[str, str]:
    r = c.post("/auth/token", data={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _api_words(body: dict) -> str:
    e = body["error"]
    return "\n".join([e["message"], *e.get("errors", []), *(d.get("message", "") for d in e.get("details", [])),
                      *(p.get("message", "") for p in e.get("problems", []))])


def _locked(*args, **kwargs):  # type: ignore[no-untyped-def]
    import sqlite3

    from sqlalchemy.exc import OperationalError

    orig = sqlite3.OperationalError("database is locked")
    orig.sqlite_errorcode = 5  # type: ignore[attr-defined]  # SQLITE_BUSY: the busy timeout ran out
    raise OperationalError("SELECT", None, orig)


def _sealed_later_paper(h: Here) -> str:
    from lifecycle import sealing

    with h.session() as s:
        return sealing.sealed_papers_of(s, exam_session_code=h.world.later_code, settings=h.lifecycle)[0].paper_code


def _errors(h: Here, monkeypatch: pytest.MonkeyPatch, locale: str) -> tuple[dict, dict]:
    """Each family provoked on the API and on the pages: {status: (body words, response)}."""
    from api.routes import items as item_routes
    from api.web import pages_items

    w, b = h.world, h.world.bank_id
    anon = _client(h, None, locale=locale)
    api, pages = {}, {}
    mgr, writer, office = (_token(anon, u) for u in ("manager1", "writer1", "office1"))
    later = _sealed_later_paper(h)

    r = anon.post("/banks", headers=mgr, json={"occupation_code": w.occupation, "level": 9})
    api[422] = r
    api[403] = anon.get("/ledger", headers=writer)
    api[404] = anon.get("/banks/99999", headers=mgr)
    api[409] = anon.post(f"/exam-sessions/{w.later_code}/sealed-papers/{later}/open", headers=office)
    for _ in range(12):
        api[429] = anon.post("/auth/token", data={"username": f"nobody-{locale}", "password": "not the password"})
        if api[429].status_code == 429:
            break
    with monkeypatch.context() as m:
        m.setattr(item_routes, "page_items", _locked)
        api[503] = anon.get(f"/banks/{b}/items", headers=mgr)

    auditor, writer_p, manager_p, office_p = (_client(h, u, locale=locale)
                                              for u in ("auditor1", "writer1", "manager1", "office1"))
    pages[422] = auditor.get("/ui/ledger", params={"since": "the day before"})
    pages[403] = writer_p.get("/ui/ledger")
    token = _csrf(writer_p, f"/ui/banks/{b}/items/new")
    pages["422 form"] = writer_p.post(f"/ui/banks/{b}/items/new", data={  # submitted with nothing filled in
        "csrf_token": token, "item_type": "single_choice", "code": "DG5-T-9999", "action": "submit"})
    pages["422 address"] = writer_p.get(f"/ui/banks/{b}/elements/oral")
    pages[404] = manager_p.get("/ui/banks/99999")
    pages["404 no route"] = manager_p.get("/ui/no-such-page")
    token = _csrf(office_p, f"/ui/sessions/{w.later_code}")
    pages[409] = office_p.post(f"/ui/sessions/{w.later_code}/papers/{later}/confirm", data={"csrf_token": token},
                               follow_redirects=False)
    login = _client(h, None, locale=locale)
    for _ in range(12):
        token = _csrf(login, "/ui/login")
        pages[429] = login.post("/ui/login", data={"username": f"nobody-page-{locale}", "password": "not it",
                                                   "csrf_token": token, "next": "/"}, follow_redirects=False)
        if pages[429].status_code == 429:
            break
    with monkeypatch.context() as m:
        m.setattr(pages_items, "page_items", _locked)
        pages[503] = manager_p.get(f"/ui/banks/{b}/items")
    return api, pages


def test_every_error_family_answers_in_chinese_on_the_api_and_the_pages(here: Here,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    api, pages = _errors(here, monkeypatch, "zh-CN")
    # the user names the throttling test logs in with; the codes an address takes (listed when wrong)
    allow = _allowed(here) | {"nobody", "page"} | {p.value for p in Part}
    for status, r in api.items():
        assert r.status_code == status, (status, r.status_code, r.text[:300])
        words = _api_words(r.json())
        assert re.search(r"[\u4e00-\u9fff]", words), (status, words)
        assert english_words(words, allow) == [], (status, words)
    for status, r in pages.items():
        code = int(str(status).split()[0])
        assert r.status_code == code, (status, r.status_code, r.text[:300])
        kind, english = crawl.words_of(r, allow)
        assert kind == "html" and english == [], (status, english)
        assert '<html lang="zh' in r.text, status
    for r in (api[429], api[503], pages[429], pages[503]):
        assert int(r.headers["Retry-After"]) > 0
    # the opening window in the centre's time, as the page shows times: 08:30 before a 09:00 start
    assert "时间未到" in _api_words(api[409].json()) and "08:30 起方可启封" in _api_words(api[409].json())
    assert "数据库" in _api_words(api[503].json())
    assert "未保存" in pages["422 form"].text and "题干为空" in pages["422 form"].text  # by the field


def test_errors_and_pages_still_speak_english_when_asked(here: Here, monkeypatch: pytest.MonkeyPatch) -> None:
    api, pages = _errors(here, monkeypatch, "en-US")
    for status, r in api.items():
        assert r.status_code == status
        words = re.sub(r"附件\s*\d+|第\s*\d+\s*条", "", _api_words(r.json()))  # the regulation's citations stay
        assert not re.search(r"[\u4e00-\u9fff]", words) and english_words(words), (status, words)
    for status, r in pages.items():
        assert '<html lang="en"' in r.text, status
    assert "Too early" in _api_words(api[409].json()) and ", 08:30" in _api_words(api[409].json())
    home = _client(here, "manager1", locale="en-US").get("/")
    assert '<html lang="en"' in home.text and "Level 5 (junior worker)" in home.text


# --------------------------------------------------------------------------------------
# Every document the demo writes


@dataclass
class Demo:
    documents: list[Path]
    data_words: set[str]  # the English of the demo items' own content (symbols, units): data


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """``itembank demo`` in a directory of its own (its SQLite file and output folder)."""
    import os

    from click.testing import CliRunner

    from api.cli import main
    from itembank.db import make_engine

    directory = tmp_path_factory.mktemp("demo")
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        r = CliRunner().invoke(main, ["--database-url", f"sqlite:///{directory / 'demo.db'}", "demo"],
                               env={"LANG": "C", "LC_ALL": None})
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, r.output
    assert english_words(r.output, {"demo"}) == [], r.output  # what the demo prints, too
    engine = make_engine(url=f"sqlite:///{directory / 'demo.db'}")
    with sessionmaker(engine)() as s:
        words = _content_words(s)
    engine.dispose()
    return Demo(sorted((directory / "itembank-demo-out").rglob("*.docx")), words)


def test_every_document_the_demo_writes_is_chinese(demo: Demo) -> None:
    from docx import Document

    kinds = {re.sub(r"^.*_", "", p.stem) for p in demo.documents}
    assert {"paper", "key", "tasks", "scoring", "assembly-report"} <= kinds, kinds
    problems = []
    for path in demo.documents:
        words = crawl.docx_words(path.read_bytes())
        assert sum(len(w) for w in words) > 200, path.name
        if path.stem.endswith(("paper", "key", "assembly-report")):
            assert Document(str(path)).tables, f"{path.name} has tables to read"  # and they were read
        english = english_words("\n".join(words), demo.data_words)
        if english:
            problems.append(f"{path.parent.name}/{path.name}: {sorted(set(english))}")
    assert problems == [], "\n".join(problems)
