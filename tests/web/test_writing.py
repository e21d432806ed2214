"""A writer's journey in the browser, at the desktop size and at a phone's width: logging in
and entering an item with the keyboard only, the code numbered for them, Enter saving the
draft (not adding option E), an incomplete draft saved and refused at submission with every
gap listed, a login that expires while typing (登录已过期, nothing lost), and the item's
history told in words."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from itembank import occupations, workflow
from itembank.domain import Part

from .conftest import COOKIE_NAME, Live, Pages, tab_to

STEM = "某电阻两端电压 $U=10V$，通过电流 $I=2A$，其阻值为（　）。"


def _next_code(live: Live) -> str:
    with live.session() as s:
        bank = occupations.get_bank_by_id(s, live.world.bank_id)
        return workflow.next_item_code(s, bank=bank, part=Part.THEORY)


def test_writer_enters_an_item_by_keyboard_and_keeps_the_work_when_the_login_expires(pages: Pages, live: Live) -> None:
    expected_code = _next_code(live)
    page = pages.login("writer1", keyboard=True)
    pages.fits(page)
    tab_to(page, "a.button:has-text('新建试题')")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("新建试题")
    # the code is numbered for the writer, after the bank's highest (editable)
    expect(page.locator("#f-code")).to_have_value(expected_code)
    expect(page.locator("#hint-code")).to_contain_text("已自动编号")
    tab_to(page, "#f-stem")
    page.keyboard.type(STEM)
    tab_to(page, "input[name=option_A]")
    page.keyboard.type("2Ω")
    expect(page.locator("#preview")).to_contain_text("A. 2Ω")
    pages.shot(page, "writer-01-form")
    pages.fits(page)
    # Enter in a text field saves the draft (incomplete: no key, no element yet); no option E
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("已保存为草稿")
    expect(page.locator("h1")).to_contain_text(expected_code)
    expect(page.locator("h1")).to_contain_text("草稿")
    expect(page.locator(".cand-options li")).to_have_count(1)
    expect(page.locator(".paper-preview")).not_to_contain_text("E.")
    # the history says what happened, in words; readings are counted, not listed
    history = page.locator("#history")
    expect(history).to_contain_text(re.compile(r"王命题（writer1） 编写了试题 DG5-T-\d+（第 1 版，草稿）"))
    expect(history).not_to_contain_text("item.read")
    pages.shot(page, "writer-02-draft-saved")

    # submitting the incomplete draft is refused, with every gap listed
    page.click("button:has-text('提交审核')")
    errors = page.locator("#submit-errors")
    expect(errors).to_contain_text("未提交")
    expect(errors).to_contain_text("答案")
    expect(errors).to_contain_text("鉴定点")

    # editing; the login expires while typing: the save answers 登录已过期, nothing is lost
    page.click("a.button:has-text('修改')")
    for label, text in zip("BCD", ("5Ω", "10Ω", "20Ω")):
        page.fill(f"input[name=option_{label}]", text)
    page.check("input[name=key_choice][value=B]")
    page.wait_for_timeout(400)  # the page keeps what is typed (debounced)
    page.context.add_cookies([{"name": COOKIE_NAME, "value": "expired-token", "url": live.url}])
    page.click("button[value=save]:not(.default-submit)")
    expect(page.locator("#expired")).to_contain_text("登录已过期")
    pages.shot(page, "writer-03-login-expired")
    page.fill("#username", "writer1")
    page.fill("#password", "Correct-Horse-42")
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/items/{expected_code}/edit$"))
    expect(page.locator(".flash.warn")).to_contain_text("已恢复登录过期前填写的内容")
    expect(page.locator("input[name=option_D]")).to_have_value("20Ω")
    expect(page.locator("input[name=key_choice][value=B]")).to_be_checked()
    pages.shot(page, "writer-04-restored")
    # complete it and submit
    page.check("input[name=element_codes][value='A-01-01']")
    page.fill("#f-reason", "补全选项与答案")
    page.click("button[value=submit]")
    expect(page.locator(".flash")).to_contain_text("已提交审核")
    expect(page.locator("h1")).to_contain_text("已提交待审")
    pages.fits(page)


def test_a_whole_item_is_entered_and_submitted_with_the_keyboard_only(pages: Pages, live: Live) -> None:
    page = pages.login("writer2", keyboard=True)
    tab_to(page, "a.button:has-text('新建试题')")
    page.keyboard.press("Enter")
    tab_to(page, "#f-stem")
    page.keyboard.type("安全电压的额定值不包括（　）。")
    for label, text in zip("ABCD", ("36V", "24V", "12V", "110V")):
        tab_to(page, f"input[name=option_{label}]")
        page.keyboard.type(text)
    # a radio group takes one Tab; the arrow keys choose within it
    tab_to(page, "input[name=key_choice][value=A]")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(page.locator("input[name=key_choice][value=D]")).to_be_checked()
    tab_to(page, "input[name=element_codes][value='A-02-03']")
    page.keyboard.press("Space")
    expect(page.locator("#preview-status")).to_contain_text("检查通过")
    tab_to(page, "button[value=submit]:not(.default-submit)")
    pages.shot(page, "writer-05-keyboard-complete")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("已提交审核")
    expect(page.locator(".paper-preview")).to_contain_text("D. 110V")
    expect(page.locator(".keyblock")).to_contain_text("A-02-03")
