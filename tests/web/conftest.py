"""Browser tests of the web interface: a live server (uvicorn in a thread, on a private migrated
database: SQLite, or a private PostgreSQL schema when ``ITEMBANK_TEST_DATABASE_URL`` is set)
and headless Chromium driven by Playwright.

Playwright cannot download browsers here: it drives Debian's ``chromium`` through
``executable_path`` (``ITEMBANK_CHROMIUM`` overrides the path). A missing Playwright or
Chromium FAILS these tests; it never skips them (CI installs both).

The world is small so that the suite stays fast: one demo bank (电工 五级, 120 theory items),
the theory minimum lowered to 60, a 20-item blueprint, users of every role (and a writer who
is not in the expert register), an exam session starting in ten minutes, so that its opening
window is open now, and one a week ahead at 09:00 (its window opens at 08:30).

Every journey runs at a desktop size (1366 x 768) and a phone width (390 px); screenshots go
to tests/web/screenshots/ (kept by CI as artifacts, not in git). ``ITEMBANK_WEB_VIEWPORTS``
(``desktop``, ``phone`` or both, comma-separated; default both) narrows that: CI runs the
journeys at the desktop size on SQLite and at the phone width on PostgreSQL, so that every
journey meets both databases and both sizes without running four times.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from pydantic import SecretStr
from sqlalchemy import Engine

import assembly as asm
from api.app import create_app
from api.web.session import COOKIE as COOKIE_NAME
from itembank import accounts
from itembank import assembly_service as asvc
from itembank.config import Settings
from itembank.db import make_sessionmaker
from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import SYSTEM_ACTOR, Level, Part, Role
from itembank.experts import ExpertRole, TitleRank, grant_scope, register_expert
from itembank.readiness import set_minimum_rule
from lifecycle.config import LifecycleSettings
from tests.conftest import url_of
from lifecycle.sessions import create_exam_plan, create_exam_session

PASSWORD = "Correct-Horse-42"
CHROMIUM = os.environ.get("ITEMBANK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 800, "height": 1100}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
SESSION_CODE = "2026-DG5-S1"
LATER_CODE = "2026-DG5-S2"
USERS: dict[str, tuple[Role, ...]] = {
    "writer1": (Role.ITEM_WRITER,), "writer2": (Role.ITEM_WRITER,), "writer3": (Role.ITEM_WRITER,),
    "reviewer1": (Role.REVIEWER,), "reviewer2": (Role.REVIEWER,),
    "manager1": (Role.BANK_MANAGER,), "office1": (Role.EXAM_OFFICE,), "office2": (Role.EXAM_OFFICE,),
    "auditor1": (Role.AUDITOR,), **{f"member{i}": (Role.COMMITTEE_MEMBER,) for i in range(1, 6)},
}
NAMES = {"writer1": "王命题", "writer2": "赵命题", "writer3": "钱新人", "reviewer1": "李审题", "reviewer2": "孙审题",
         "manager1": "陈题库", "office1": "周考务", "office2": "吴考务", "auditor1": "郑审计",
         **{f"member{i}": f"验收委员{i}" for i in range(1, 6)}}
REGISTERED = ("writer1", "writer2", "reviewer1", "reviewer2")  # writer3 is not in the expert register


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the smallest parameters (the live server runs in this process)."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@dataclass(frozen=True)
class World:
    bank_id: int
    occupation: str
    blueprint_id: int
    session_code: str
    later_code: str = LATER_CODE
    later_opens: datetime | None = None  # the later session's opening window, aware


def build_world(engine: Engine) -> World:
    """Through the services, as the API tests do: bank, users, experts, blueprint, session."""
    with make_sessionmaker(engine)() as s:
        bank = build_demo(s, seed=7, specs=(DemoBankSpec("electrician", Level.L5, n_theory=120, n_practical=20,
                                                         n_past_sessions=2, n_compromised=2),)).banks[0]
        set_minimum_rule(s, part=Part.THEORY, minimum=60, actor="admin")
        occ = bank.occupation.code
        for username, roles in USERS.items():
            # the auditor's ledger is centre-wide: the role for every occupation
            grants = [(r, None if r is Role.AUDITOR else occ) for r in roles]
            accounts.create_user(s, username=username, password=PASSWORD, roles=grants,
                                 display_name=NAMES[username], actor="test")
        accounts.create_user(s, username="admin1", password=PASSWORD, roles=[(Role.ADMIN, None)],
                             display_name="系统管理员", actor="test")
        for username in REGISTERED:
            register_expert(s, actor=SYSTEM_ACTOR, username=username, name=NAMES[username],
                            title_rank=TitleRank.SENIOR)
            for role in ExpertRole:
                grant_scope(s, actor=SYSTEM_ACTOR, username=username, occupation_code=occ, role=role,
                            years_in_occupation=10, certificate_level=Level.L2)
        rows, table_version = asvc.element_rows(s, bank=bank, part=Part.THEORY)
        bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 16, 16.0), asm.TypeRule("true_false", 4, 4.0)],
                                  name="五级理论小卷", level=5, tolerance=0.5, min_tolerance=2.0)
        stored = asvc.save_blueprint(s, bank=bank, blueprint=bp, actor="manager1",
                                     element_table_version=table_version)
        start = datetime.now(timezone.utc) + timedelta(minutes=10)  # the opening window (30 min before) is open
        create_exam_plan(s, code="PLAN-2026-DG5", occupation_code=occ, level=5, actor="office1")
        create_exam_session(s, plan_code="PLAN-2026-DG5", code=SESSION_CODE, part="theory", starts_at=start,
                            ends_at=start + timedelta(hours=2), place="实训楼A301", actor="office1")
        # a week ahead at 09:00 China Standard Time: its papers can be opened from 08:30
        cst = timezone(timedelta(hours=8))
        day = (datetime.now(cst) + timedelta(days=7)).date()
        later = datetime(day.year, day.month, day.day, 9, 0, tzinfo=cst)
        create_exam_session(s, plan_code="PLAN-2026-DG5", code=LATER_CODE, part="theory", starts_at=later,
                            ends_at=later + timedelta(hours=2), place="实训楼B204", actor="office1")
        s.commit()
        return World(bank_id=bank.id or 0, occupation=occ, blueprint_id=stored.id, session_code=SESSION_CODE,
                     later_opens=later - timedelta(minutes=30))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Live:
    url: str
    world: World
    app: object
    engine: Engine
    lifecycle: LifecycleSettings

    def session(self):  # type: ignore[no-untyped-def]
        """A database session for setting the scene through the services (commit it)."""
        return make_sessionmaker(self.engine)()


@pytest.fixture()
def live(fresh_engine: Engine, tmp_path: Path) -> Iterator[Live]:
    """The app on a private database, served by uvicorn in a background thread."""
    world = build_world(fresh_engine)
    lifecycle = LifecycleSettings(seal_master_key=SecretStr(base64.b64encode(bytes(range(32))).decode()),
                                  seal_key_file=str(tmp_path / "unused.key"), institution="苏州信息职业技术学院",
                                  _env_file=None)
    app = create_app(Settings(database_url=url_of(fresh_engine), local_worker=True, worker_heartbeat_s=1.0),
                     engine=fresh_engine, lifecycle_settings=lifecycle)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield Live(url=f"http://127.0.0.1:{port}", world=world, app=app, engine=fresh_engine,
                   lifecycle=lifecycle)
    finally:
        server.should_exit = True
        thread.join(timeout=20)



def browser_session() -> Iterator[object]:
    """Headless Debian Chromium through Playwright; FAILS (never skips) when either is missing.
    The session's one ``browser`` fixture (tests/conftest.py) runs this: Playwright's sync API
    allows one instance at a time, so the fixture must not be defined twice (web and media)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install playwright (the [test] extra); browsers are not "
                    "downloaded, Debian's chromium is used")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set ITEMBANK_CHROMIUM)")
    from playwright.sync_api import expect

    # the machines that run these are shared and slow at times: wait for pages generously
    expect.set_options(timeout=30_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        # launch() gives every run a fresh temporary profile (user-data dir)
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


# --------------------------------------------------------------------------------------
# Journeys: the two sizes, logging in, screenshots, the phone-width check


def _viewports() -> list[str]:
    names = [v.strip() for v in os.environ.get("ITEMBANK_WEB_VIEWPORTS", "").split(",") if v.strip()]
    unknown = sorted(set(names) - set(VIEWPORTS))
    if unknown:
        raise pytest.UsageError(f"ITEMBANK_WEB_VIEWPORTS: unknown size(s) {unknown}; use {sorted(VIEWPORTS)}")
    return names or list(VIEWPORTS)


@pytest.fixture(params=_viewports())
def viewport(request: pytest.FixtureRequest) -> str:
    """Each journey runs at the desktop size and at a phone's width."""
    return request.param


class Pages:
    """Browser pages of one test: ``login(user)`` opens a fresh context (own cookies) at the
    test's size; ``shot`` keeps a screenshot; ``fits`` checks there is no sideways scrolling."""

    def __init__(self, browser, live: Live, viewport: str) -> None:  # type: ignore[no-untyped-def]
        self.browser, self.live, self.viewport = browser, live, viewport
        self.contexts: list = []

    def context(self):  # type: ignore[no-untyped-def]
        ctx = self.browser.new_context(viewport=VIEWPORTS[self.viewport], locale="zh-CN", accept_downloads=True)
        self.contexts.append(ctx)
        return ctx

    def login(self, username: str, *, keyboard: bool = False):  # type: ignore[no-untyped-def]
        from playwright.sync_api import expect

        page = self.context().new_page()
        page.set_default_timeout(45_000)
        page.goto(self.live.url + "/")
        if keyboard:  # only keys: the user name field has the focus, Tab to the password, Enter
            expect(page.locator("#username")).to_be_focused()
            page.keyboard.type(username)
            page.keyboard.press("Tab")
            page.keyboard.type(PASSWORD)
            page.keyboard.press("Enter")
        else:
            page.fill("#username", username)
            page.fill("#password", PASSWORD)
            page.click("form button[type=submit]")
        expect(page.locator("h1")).to_contain_text("工作台")
        return page

    def shot(self, page, name: str) -> None:  # type: ignore[no-untyped-def]
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.viewport}.png"), full_page=True)

    def fits(self, page) -> None:  # type: ignore[no-untyped-def]
        """No horizontal overflow: the page is no wider than the window (wide tables scroll
        inside their own box)."""
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"{page.url} is {width}px wide in a {inner}px window"

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture()
def pages(browser, live: Live, viewport: str) -> Iterator[Pages]:  # type: ignore[no-untyped-def]
    p = Pages(browser, live, viewport)
    yield p
    p.close()


def tab_to(page, selector: str, *, limit: int = 80) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until ``selector`` has the focus (keyboard-only use); fails when it is never reached."""
    target = page.locator(selector).first
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} was not reached with Tab in {limit} presses")
