"""Auditors and administrators in the browser (desktop and phone): the ledger newest first,
searched with filters named in words and exported to Excel; users and roles, and the expert
register, so that a writer who is not registered is told so on the item form before typing
and can save once registered."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from itembank.ledger import query_ledger

from .conftest import Live, Pages


def test_auditor_reads_the_ledger_newest_first_filters_in_words_and_exports_excel(pages: Pages, live: Live) -> None:
    pages.login("office1").context.close()  # two more logins to find
    pages.login("writer1").context.close()
    page = pages.login("auditor1")
    page.click("nav >> text=台帐")
    ids = [int(x) for x in page.locator("#ledger tr td:first-child").all_inner_texts()]
    assert len(ids) > 5 and ids == sorted(ids, reverse=True)  # newest first
    expect(page.locator("#f-action option", has_text=re.compile("^登录$"))).to_have_count(1)  # named in words
    expect(page.locator("#f-ot option", has_text=re.compile("^试题$"))).to_have_count(1)
    page.select_option("#f-action", label="登录")
    page.click("button:has-text('查询')")
    rows = page.locator("#ledger tr:has(td)")
    expect(rows.first).to_contain_text("auditor1")
    for text in rows.locator("td:nth-child(4)").all_inner_texts():
        assert text.splitlines()[0] == "登录", text
    pages.shot(page, "audit-01-ledger")
    pages.fits(page)
    with page.expect_download() as d:
        page.click("#export-xlsx")
    assert d.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(open(d.value.path(), "rb").read()), read_only=True)
    sheet = book.worksheets[0]
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:4] == ("序号", "时间", "操作人", "操作")
    assert len(table) == 4 and all(r[4] == "auth.login" for r in table[1:])
    assert [r[2] for r in table[1:]] == ["郑审计（auditor1）", "王命题（writer1）", "周考务（office1）"]  # the names
    assert table[1][0] > table[-1][0]  # newest first there too
    with live.session() as s:
        assert query_ledger(s, action="ledger.export", actor="auditor1")
    page.click("text=校验哈希链")
    expect(page.locator("#verification")).to_contain_text("未发现问题")  # and what it cannot prove


def test_admin_manages_users_and_the_expert_register(pages: Pages, live: Live) -> None:
    occ = live.world.occupation
    # a writer with the role but not in the register is told on the form, before typing
    writer = pages.login("writer3")
    writer.goto(f"{live.url}/ui/banks/{live.world.bank_id}/items/new")
    expect(writer.locator("#not-registered")).to_contain_text("还不能保存")
    expect(writer.locator("#not-registered")).to_contain_text("专家库")
    expect(writer.locator(".actions button[value=save]")).to_be_disabled()
    pages.shot(writer, "admin-01-writer-not-registered")

    page = pages.login("admin1")
    page.click("nav >> text=系统管理")
    expect(page.locator("#users tr", has_text="writer3")).to_contain_text("未登记")
    # a new user with a role for one occupation
    page.fill("#f-username", "writer4")
    page.fill("#f-display", "冯命题")
    page.fill("#f-password", "Another-Horse-77")
    page.select_option("#f-role-0", "item_writer")
    page.select_option("#f-scope-0", occ)
    page.click("button:has-text('建立用户')")
    expect(page.locator(".flash")).to_contain_text("用户已建立")
    expect(page.locator("#register-check")).to_contain_text("未登记在专家库")
    pages.shot(page, "admin-02-user")
    pages.fits(page)
    # register writer3 and grant the occupation
    page.goto(f"{live.url}/ui/admin/users/writer3")
    page.click("a:has-text('打开专家库')")
    page.select_option("#f-username", "writer3")
    page.fill("#f-name", "钱新人")
    page.select_option("#f-rank", "intermediate")
    page.click("#register-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("专家已登记")
    page.select_option("#f-occ", occ)
    page.select_option("#f-erole", "writer")
    page.fill("#f-years", "3")  # too few years: refused, saying why
    page.click("#grant-form button[type=submit]")
    expect(page.locator(".errorbox")).to_contain_text("5")
    page.fill("#f-years", "8")
    page.click("#grant-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("已授予职业范围")
    expect(page.locator("#scopes")).to_contain_text(occ)
    pages.shot(page, "admin-03-expert")
    pages.fits(page)
    page.goto(f"{live.url}/ui/admin/users/writer3")
    expect(page.locator("#register-check")).to_contain_text("已登记在专家库")

    # the writer can now save
    writer.reload()
    expect(writer.locator("#not-registered")).to_have_count(0)
    writer.fill("#f-stem", "登记后保存的第一道草稿。")
    writer.click(".actions button[value=save]")
    expect(writer.locator(".flash")).to_contain_text("已保存为草稿")
