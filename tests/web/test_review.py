"""Reviewing in the browser (desktop and phone): the bank manager assigns a reviewer to several
submitted items in one step; the reviewer sends one back; the writer's revision ("220V" ->
"220 V", with a note) shows character by character with the note; after the decision the
reviewer goes on with 下一题."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from itembank import occupations, workflow

from . import scene
from .conftest import Live, Pages

STEMS = {"DG5-R-0001": "我国安全电压的上限为（　）220V 以下。", "DG5-R-0002": "照明电路的额定电压一般为（　）。",
         "DG5-R-0003": "三相四线制中线电压为（　）。"}


def test_bulk_assignment_character_diff_and_next_item(pages: Pages, live: Live) -> None:
    scene.submitted(live, STEMS)
    bank = f"{live.url}/ui/banks/{live.world.bank_id}"

    # -- the bank manager: every submitted item to one reviewer, in one step -----------------
    page = pages.login("manager1")
    page.goto(f"{bank}/items?state=submitted")
    expect(page.locator("#bulk-assign")).to_be_visible()
    page.check("#tick-all")
    for code in STEMS:
        expect(page.locator(f"#tick-{code}")).to_be_checked()
    page.select_option("#f-bulk-reviewer", "reviewer1")
    pages.shot(page, "review-01-bulk-assignment")
    pages.fits(page)
    page.click("#bulk-assign button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("已将 3 道试题分配给 reviewer1")
    for code in STEMS:
        expect(page.locator("table")).to_contain_text(code)
    page.context.close()

    # -- the reviewer sends the first one back ---------------------------------------------
    first, second = list(STEMS)[:2]
    page = pages.login("reviewer1")
    page.click("nav >> text=审题")
    expect(page.locator("table")).to_contain_text(second)
    page.click(f"text={first}")
    page.click("button:has-text('开始审核')")
    page.check("input[name=decision][value=request_changes]")
    page.fill("#f-comment", "数值与单位之间应有空格：220 V")
    page.click("button:has-text('提交审核结论')")
    expect(page.locator(".flash")).to_contain_text("已退回修改")

    # -- the writer revises (their own journey is tested elsewhere) -------------------------
    with live.session() as s:
        b = occupations.get_bank_by_id(s, live.world.bank_id)
        w = scene.actor(s, "writer1")
        workflow.revise(s, actor=w, bank=b, code=first, content=scene.content("我国安全电压的上限为（　）220 V 以下。"),
                        reason="按审核意见在数值与单位之间加空格")
        workflow.submit(s, actor=w, bank=b, code=first)
        s.commit()

    # -- the reviewer sees exactly what changed, and the writer's note; then 下一题 -----------
    page.goto(f"{bank}/items/{first}")
    page.click("button:has-text('开始审核')")
    diff = page.locator("#diff")
    expect(diff.locator(".revision-note")).to_contain_text("按审核意见在数值与单位之间加空格")
    inserted = diff.locator("td.new ins.ws")
    expect(inserted).to_have_count(1)
    expect(inserted).to_have_text("␣")  # the added space, made visible
    expect(diff.locator("td.old del")).to_have_count(0)  # nothing was removed
    expect(diff.locator("td.old")).to_contain_text("220V")
    pages.shot(page, "review-02-character-diff")
    pages.fits(page)
    page.check("input[name=decision][value=approve]")
    page.click("button:has-text('提交审核结论')")
    expect(page.locator(".flash")).to_contain_text("已审核通过")
    nxt = page.locator("#next-item")
    expect(nxt).to_contain_text(second)
    pages.shot(page, "review-03-next-item")
    nxt.click()
    expect(page).to_have_url(re.compile(rf"/items/{second}$"))
    expect(page.locator("button:has-text('开始审核')")).to_be_visible()
