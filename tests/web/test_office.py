"""The exam office in the browser (desktop and phone): exam plans and sessions made on their
pages; the session list's sealed/opened column; papers labelled A and 备用1 in every session;
确认启封 disabled until the window, saying from when; a leak registered only after its
consequences are confirmed, then told exactly (backup activated, replacement made or not, what
to do); the bank manager told on the bank page and the home page that the leak took the bank
below its minimum; the two-person opening of the activated backup."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from itembank.domain import Part
from itembank.i18n import format_datetime
from itembank.readiness import set_minimum_rule

from .conftest import Live, Pages


def test_plans_sessions_opening_window_and_a_leak(pages: Pages, live: Live) -> None:
    w = live.world
    page = pages.login("office1")

    # -- exam plans and sessions have pages ------------------------------------------------
    page.click("a[href='/ui/plans']")
    expect(page.locator("#plans")).to_contain_text("PLAN-2026-DG5")
    page.fill("#f-code", "PLAN-2026-12-DG5")
    page.select_option("#f-bank", str(w.bank_id))
    page.fill("#f-title", "2026年12月电工五级认定")
    page.click("button:has-text('建立计划')")
    expect(page.locator(".flash")).to_contain_text("考试计划已建立")
    page.fill("#f-code", "2026-12-DG5-T1")
    page.fill("#f-start", "2026-12-20T09:00")
    page.fill("#f-end", "2026-12-20T08:00")  # ends before it starts: said next to the field
    page.fill("#f-place", "实训楼C105")
    page.click("button:has-text('建立场次')")
    expect(page.locator("#err-ends_at")).to_contain_text("结束时间须晚于开始时间")
    expect(page.locator("#f-place")).to_have_value("实训楼C105")
    page.fill("#f-end", "2026-12-20T11:00")
    page.click("button:has-text('建立场次')")
    expect(page.locator(".flash")).to_contain_text("考试场次已建立")
    expect(page.locator("#plan-sessions")).to_contain_text("2026年12月20日 09:00")
    pages.shot(page, "office-01-plan")
    pages.fits(page)

    # -- the session list says which sessions have sealed or opened papers ---------------------
    page.goto(f"{live.url}/ui/sessions")
    row = page.locator("#sessions tr", has_text=w.session_code)
    expect(row).to_contain_text("未申领")

    # -- a session in a week: sealed; 确认启封 is off until its window, which it names ---------
    page.goto(f"{live.url}/ui/sessions/{w.later_code}")
    page.click("button:has-text('申领并密封')")
    expect(page.locator(".flash")).to_contain_text("试卷已密封")
    main = page.locator("section.card", has_text="正式卷")
    expect(main.locator("h3")).to_contain_text("A")
    confirm = main.locator("button:has-text('确认启封')")
    expect(confirm).to_be_disabled()
    when = format_datetime(w.later_opens, "zh_CN")
    assert when.endswith("08:30")
    expect(main).to_contain_text(f"{when} 起可启封")
    expect(page.locator("section.card", has_text="备用卷").locator("h3")).to_contain_text("备用1")
    pages.shot(page, "office-02-not-yet")
    pages.fits(page)

    # -- the session starting now: sealed, labelled A and 备用1 -----------------------------
    with live.session() as s:  # the bank just meets a higher minimum: a leak of 20 items takes it below
        set_minimum_rule(s, part=Part.THEORY, minimum=110, actor="admin")
        s.commit()
    page.goto(f"{live.url}/ui/sessions/{w.session_code}")
    page.click("button:has-text('申领并密封')")
    expect(page.locator(".flash")).to_contain_text("试卷已密封")
    main = page.locator("section.card", has_text="正式卷")
    expect(main.locator("h3")).to_contain_text(re.compile(r"^A "))
    expect(page.locator("section.card", has_text="备用卷").locator("h3")).to_contain_text("备用1")
    expect(main.locator("button:has-text('确认启封')")).to_be_enabled()
    page.goto(f"{live.url}/ui/sessions")
    expect(page.locator("#sessions tr", has_text=w.session_code)).to_contain_text("已密封，待启封")
    page.goto(f"{live.url}/ui/sessions/{w.session_code}")

    # -- a leak: first what it will do, then what it did -----------------------------------
    page.select_option("#f-paper", index=1)
    page.select_option("#f-kind", "leak")
    page.fill("#f-desc", "考前发现正式卷照片在微信群中传播")
    page.click("button:has-text('登记…')")
    panel = page.locator("[aria-labelledby=confirm-incident]")
    expect(panel).to_contain_text("确认登记此事件？")
    expect(panel).to_contain_text("道试题标记为泄密")
    expect(panel).to_contain_text("启用本场次的备用卷")
    expect(panel).to_contain_text("此操作不能撤销")
    expect(page.locator("#incidents + p")).to_contain_text("无")  # nothing registered yet
    pages.shot(page, "office-03-confirm-leak")
    pages.fits(page)
    page.click("#confirm-incident-button")
    outcome = page.locator(".card.reported")
    expect(outcome).to_contain_text("事件已登记，处置结果如下")
    expect(outcome).to_contain_text("道试题已标记为泄密")
    expect(outcome).to_contain_text("本场次已启用备用卷 备用1")
    expect(outcome).to_contain_text(re.compile("已另组一份不含泄密试题的新备用卷|未能另组新备用卷"))
    expect(outcome.locator(".todo")).to_contain_text("确认启封")
    pages.shot(page, "office-04-leak-outcome")
    pages.fits(page)

    # -- the two-person opening of the activated backup --------------------------------------
    backup = page.locator("section.card", has_text="备用1")
    backup.locator("button:has-text('确认启封')").click()
    expect(page.locator(".flash")).to_contain_text("还需另一名考务人员确认")
    page.context.close()
    page = pages.login("office2")
    page.goto(f"{live.url}/ui/sessions/{w.session_code}")
    page.locator("section.card", has_text="备用1").locator("button:has-text('确认启封')").click()
    expect(page.locator(".flash")).to_contain_text("两人已确认")
    page.context.close()

    # -- the bank manager is told, on the home page and the bank page ------------------------
    page = pages.login("manager1")
    alerts = page.locator("#bank-alerts")
    expect(alerts).to_contain_text("低于最低题量 110 道")
    expect(alerts).to_contain_text("标记为泄密")
    pages.shot(page, "office-05-home-alert")
    pages.fits(page)
    page.click("#bank-alerts a")
    expect(page.locator("#bank-alerts")).to_contain_text("INC-")
    expect(page.locator("h1")).to_contain_text("未达标")


def test_a_leak_that_cannot_be_replaced_says_so_and_what_to_do(pages: Pages, live: Live) -> None:
    """The issue's case: the replacement backup is infeasible; the page must say that none was
    made, why, and what to do (not promise one)."""
    from itembank import assembly_service as asvc
    from itembank import occupations
    from itembank.pool import load_pool
    from itembank.usage import mark_compromised
    from lifecycle import sealing

    from . import scene

    w = live.world
    with live.session() as s:
        bank = occupations.get_bank_by_id(s, w.bank_id)
        result = sealing.seal_papers(s, exam_session_code=w.session_code, actor=scene.actor(s, "office1"),
                                     settings=live.lifecycle, n_backups=1)
        on_papers = {it.code for p in (result.main, *result.backups)
                     for it in asvc.get_paper(s, code=p.paper_code).paper.items}
        rest = [it.code for it in load_pool(s, bank=bank, part=Part.THEORY) if it.code not in on_papers]
        mark_compromised(s, bank=bank, codes=rest, reason="测试：其余试题此前已泄密", actor="manager1")
        s.commit()
    page = pages.login("office1")
    page.goto(f"{live.url}/ui/sessions/{w.session_code}")
    page.select_option("#f-paper", index=1)
    page.select_option("#f-kind", "leak")
    page.fill("#f-desc", "试卷袋封条破损，疑似被拆看")
    page.click("button:has-text('登记…')")
    page.click("#confirm-incident-button")
    outcome = page.locator(".card.reported")
    expect(outcome).to_contain_text("未能另组新备用卷")
    expect(outcome).not_to_contain_text("已另组一份")
    expect(outcome.locator(".todo")).to_contain_text("请题库管理人员补充试题")
    pages.shot(page, "office-06-no-replacement")
    pages.fits(page)
