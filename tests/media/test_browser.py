"""The editor in a real browser (Debian Chromium): a writer uploads a wiring drawing, inserts it
at the cursor, sees it in the live preview, saves, and finds it on the item page; at 1366x768
and at a 390 px phone width. Screenshots go to tests/web/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.web.conftest import PASSWORD, SCREENSHOTS, Live

from .conftest import CIRCUIT_SVG, wiring_png

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_writer_inserts_a_picture_and_sees_it(browser: Browser, live: Live, tmp_path, size: str) -> None:  # type: ignore[no-untyped-def]
    drawing = tmp_path / "接线图.svg"
    drawing.write_bytes(CIRCUIT_SVG)
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"GIF89a" + bytes(100))
    ctx = browser.new_context(viewport=VIEWPORTS[size], locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(live.url + "/ui/login")
        page.fill("#username", "writer1")
        page.fill("#password", PASSWORD)
        page.click("form button[type=submit]")
        expect(page.locator("h1")).to_contain_text("工作台")
        page.goto(f"{live.url}/ui/banks/{live.world.bank_id}/items/new")
        code = f"DG5-PIC-{size}"
        page.fill("#f-code", code)
        page.fill("#f-stem", "如图所示，开关 S 与灯泡的接法是（　）。")
        # a refused file says why, and the form keeps what was typed
        page.set_input_files("#pic-file", str(bad))
        page.click("#picture-upload-button")
        expect(page.locator("#picture-error")).to_contain_text("GIF")
        page.set_input_files("#pic-file", str(drawing))
        page.fill("#pic-caption", "图1 照明电路")
        page.click("#picture-upload-button")
        expect(page.locator("#pic-markup")).to_have_value(re.compile(r"^!\[图1 照明电路\]\(media:[0-9a-f]{64}\)$"))
        page.click("#f-stem")
        page.click("[data-insert-picture]")
        expect(page.locator("#f-stem")).to_have_value(re.compile(r"（　）。\n!\[图1 照明电路\]\(media:[0-9a-f]{64}\)\n$"))
        picture = page.locator("#preview .pic img")
        expect(picture).to_have_count(1)
        page.wait_for_function("() => { const i = document.querySelector('#preview .pic img');"
                               " return i && i.complete && i.naturalWidth === 2000; }")
        box = picture.bounding_box()
        preview_box = page.locator("#preview").bounding_box()
        assert box and preview_box and box["width"] <= preview_box["width"] + 1  # fits its column
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no overflow
        page.screenshot(path=str(SCREENSHOTS / f"media_editor_{size}.png"), full_page=True)
        for label, text in zip("ABCD", ("并联于相线", "串联于相线", "串联于零线", "并联于零线")):
            page.fill(f"input[name=option_{label}]", text)
        page.check("input[name=key_choice][value=B]")
        page.locator("input[name=element_codes]").first.check()
        page.click("button[value=save]:not(.default-submit)")
        expect(page.locator(".flash")).to_contain_text("已保存")
        shown = page.locator(".paper-preview .pic img")
        expect(shown).to_have_count(1)
        page.wait_for_function("() => { const i = document.querySelector('.paper-preview .pic img');"
                               " return i && i.complete && i.naturalWidth > 0; }")
        expect(page.locator(".item-pictures")).to_contain_text("图1 照明电路")
        page.screenshot(path=str(SCREENSHOTS / f"media_item_page_{size}.png"), full_page=True)
    finally:
        ctx.close()
