"""Every page, as the role that uses it: it answers (no error), it fits a phone's width (no
sideways scrolling of the page; wide tables scroll in their own box), and it speaks English
when the browser asks for English (issue 14: no page text left in Chinese, only the data)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from itembank import catalog_tools

from . import scene
from .conftest import NAMES, PASSWORD, SCREENSHOTS, Live, Pages

def page_list(live: Live, made: dict[str, str]) -> list[tuple[str, str]]:
    b, w = live.world.bank_id, live.world
    bank = f"/ui/banks/{b}"
    return [
        ("", "/ui/login"),
        ("writer1", "/"), ("writer1", f"{bank}/items"), ("writer1", f"{bank}/items/new"),
        ("writer1", f"{bank}/items/DG5-P-0002"), ("writer1", f"{bank}/items/DG5-P-0002/edit"),
        ("writer1", f"{bank}/items/DG5-P-0001"), ("writer1", "/ui/ledger"),  # refused: the error page
        ("reviewer1", "/"), ("reviewer1", "/ui/reviews?show=all"), ("reviewer1", f"{bank}/items/DG5-P-0001"),
        ("member1", "/"), ("member1", "/ui/batches"), ("member1", f"/ui/batches/{made['batch']}"),
        ("manager1", "/"), ("manager1", "/ui/banks"), ("manager1", bank), ("manager1", f"{bank}/elements/theory"),
        ("manager1", f"{bank}/elements/practical"), ("manager1", f"{bank}/items?state=submitted"),
        ("manager1", f"{bank}/items/DG5-P-0001"), ("manager1", f"{bank}/import"), ("manager1", f"{bank}/blueprints"),
        ("manager1", f"{bank}/blueprints/{w.blueprint_id}"), ("manager1", f"{bank}/assemble"),
        ("manager1", f"{bank}/papers"), ("manager1", f"/ui/runs/{made['run']}"), ("manager1", f"{bank}/statistics"),
        ("manager1", f"{bank}/usage"), ("manager1", f"{bank}/similarity?show=all"), ("manager1", f"{bank}/batches/new"),
        ("manager1", "/ui/batches?state=all"),
        ("manager1", "/ui/admin/experts"), ("manager1", "/ui/admin/experts/writer1"),
        ("office1", "/"), ("office1", "/ui/sessions"), ("office1", f"/ui/sessions/{w.session_code}"),
        ("office1", f"/ui/sessions/{w.later_code}"), ("office1", "/ui/plans"), ("office1", "/ui/plans/PLAN-2026-DG5"),
        ("auditor1", "/"), ("auditor1", "/ui/ledger"), ("auditor1", "/ui/ledger/verify"),
        ("admin1", "/"), ("admin1", "/ui/admin/users"), ("admin1", "/ui/admin/users/writer3"),
        ("admin1", "/ui/no-such-page"),
    ]


REFUSED = {("writer1", "/ui/ledger"): 403, ("admin1", "/ui/no-such-page"): 404}


def _visit(browser: Browser, live: Live, viewport: dict, locale: str, made: dict[str, str]) -> Iterator[tuple]:
    """(user, path, page) for every page, one browser context per user."""
    by_user: dict[str, list[str]] = {}
    for user, path in page_list(live, made):
        by_user.setdefault(user, []).append(path)
    for user, paths in by_user.items():
        ctx = browser.new_context(viewport=viewport, locale=locale)
        page = ctx.new_page()
        page.set_default_timeout(45_000)
        if user:
            page.goto(live.url + "/ui/login")
            page.fill("#username", user)
            page.fill("#password", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_url(live.url + "/")
        for path in paths:
            response = page.goto(live.url + path)
            assert response is not None
            assert response.status == REFUSED.get((user, path), 200), (user, path, response.status)
            yield user, path, page
        ctx.close()


def test_every_page_answers_and_fits(pages: Pages, live: Live, browser: Browser) -> None:
    from .conftest import VIEWPORTS

    made = scene.full_world(live)
    seen, too_wide = 0, []
    for user, path, page in _visit(browser, live, VIEWPORTS[pages.viewport], "zh-CN", made):
        try:
            pages.fits(page)
        except AssertionError as e:
            too_wide.append(str(e))
        seen += 1
        if pages.viewport == "phone":
            name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home"
            pages.shot(page, f"every-{user or 'anon'}-{name}")
    assert not too_wide, "\n".join(too_wide)
    assert seen == len(page_list(live, made))


SHOWN_IN_ENGLISH = {"/", "/ui/banks/1", "/ui/banks/1/items/DG5-P-0001", "/ui/sessions/2026-DG5-S1"}
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+")


def test_every_page_speaks_english(browser: Browser, live: Live) -> None:
    """With an English browser no page text is Chinese: a Chinese run of characters on the
    page is data (names, item text, places) unless the catalog's Chinese holds it."""
    made = scene.full_world(live)
    catalog = [m.string for m in catalog_tools._read("zh_CN") if m.id and m.string]
    ui_words = {run for text in catalog for run in CJK.findall(re.sub(r"\{[^}]*\}", " ", text)) if len(run) >= 2}
    # the regulation's citations and a few terms keep their Chinese inside English sentences
    allowed = re.compile(r"^(附件|技师|专家信息库)$")
    # data of this world that a translation's example happens to share (the batch's meeting)
    ui_words -= set(CJK.findall("2026年第4次题库验收会"))
    ui_words -= {run for name in NAMES.values() for run in CJK.findall(name)}  # people's names are data
    for user, path, page in _visit(browser, live, {"width": 1366, "height": 768}, "en-US", made):
        assert page.locator("html").get_attribute("lang") == "en", path
        text = page.locator("body").inner_text()
        leaked = sorted({run for run in CJK.findall(text) if run in ui_words and not allowed.match(run)})
        if path in SHOWN_IN_ENGLISH:
            SCREENSHOTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home"
            page.screenshot(path=str(SCREENSHOTS / f"english-{user}-{name}.png"), full_page=True)
        assert not leaked, f"{user} {path}: page text in Chinese: {leaked}"
