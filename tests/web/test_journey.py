"""One journey through the pages in a real browser: a writer's new item, review with a round
of changes and the old-vs-new diff, committee acceptance by five members, assembly by the bank
manager (blueprint edited, run in the background, papers, checks, curves), and the exam
office's sealing, two-person opening, download and incident with the backup activated; the
auditor finds it all in the ledger. Screenshots of each main page go to tests/web/screenshots/.

And the permission check: a writer who types the URLs of bank, assembly, exam-office and
ledger pages, or of another writer's item, gets the refusal page, not the page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import DESKTOP, PASSWORD, SCREENSHOTS, TABLET, Live

STEM = "某电阻两端电压 $U=10V$，通过电流 $I=2A$，由 $R=\\frac{U}{I}$ 可知其阻值为（　）。"


@pytest.fixture()
def login(browser: Browser, live: Live) -> Iterator[Callable[..., Page]]:
    contexts = []

    def _login(username: str, viewport: dict = DESKTOP) -> Page:
        ctx = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        page.goto(live.url + "/")
        expect(page).to_have_url(re.compile(r"/ui/login\?next="))  # no session: the login form
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("form button[type=submit]")
        expect(page.locator("h1")).to_contain_text("工作台")
        return page

    yield _login
    for ctx in contexts:
        ctx.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_writer_to_two_person_opening(live: Live, login: Callable[..., Page]) -> None:
    w = live.world
    bank = f"{live.url}/ui/banks/{w.bank_id}"

    # -- the writer writes a new single choice item; the preview follows the typing ----------
    page = login("writer1")
    shot(page, "01_home_writer")
    page.click("text=新建试题")
    page.fill("#f-code", "DG5-W-0001")
    page.fill("#f-stem", STEM)
    for label, text in zip("ABCD", ("2Ω", "5Ω", "10Ω", "20Ω")):
        page.fill(f"input[name=option_{label}]", text)
    page.check("input[name=element_codes][value='A-01-01']")
    preview = page.locator("#preview")
    expect(preview.locator(".cand-stem .frac")).to_have_count(1)  # the formula, rendered
    expect(preview.locator(".cand-options li")).to_have_count(4)
    expect(preview).to_contain_text("D. 20Ω")
    expect(preview).not_to_contain_text("答案")  # the candidate's view has no key
    # no key chosen yet: the live check says so next to the key field
    expect(page.locator("#err-key")).to_contain_text("单项选择题须且只能有一个答案")
    shot(page, "02_item_form_live_preview")
    # saving anyway: refused, the error next to the field, nothing typed lost
    page.click("button[value=submit]")
    expect(page.locator(".errorbox")).to_contain_text("未保存")
    expect(page.locator("#err-key")).to_contain_text("单项选择题须且只能有一个答案")
    expect(page.locator("#f-stem")).to_have_value(STEM)
    expect(page.locator("input[name=option_C]")).to_have_value("10Ω")
    expect(page.locator("input[name=element_codes][value='A-01-01']")).to_be_checked()
    page.check("input[name=key_choice][value=B]")
    expect(page.locator("#preview-status")).to_contain_text("检查通过")
    page.click("button[value=submit]")
    expect(page.locator(".flash")).to_contain_text("已提交审核")
    expect(page.locator("h1")).to_contain_text("已提交待审")
    page.context.close()

    # -- the bank manager assigns the reviewer -----------------------------------------------
    page = login("manager1")
    page.click("a[href$='items?state=submitted']")
    page.click("text=DG5-W-0001")
    page.select_option("#f-reviewer", "reviewer1")
    page.click("button:has-text('分配')")
    expect(page.locator(".flash")).to_contain_text("已分配审题专家")
    page.context.close()

    # -- the reviewer asks for a change; an empty comment is refused next to the field -------
    page = login("reviewer1")
    page.click("nav >> text=审题")
    page.click("text=DG5-W-0001")
    page.click("button:has-text('开始审核')")
    page.check("input[name=decision][value=request_changes]")
    page.click("button:has-text('提交审核结论')")
    expect(page.locator("#err-comment")).to_contain_text("退回修改时请写明需要修改的内容")
    expect(page.locator("input[name=decision][value=request_changes]")).to_be_checked()
    page.fill("#f-comment", "选项 D 与 C 区分度不足，请改为 25Ω")
    page.click("button:has-text('提交审核结论')")
    expect(page.locator(".flash")).to_contain_text("已退回修改")
    page.context.close()

    # -- the writer sees the comment and revises; the old version is kept ---------------------
    page = login("writer1")
    page.click("a[href$='items?state=changes_requested']")
    page.click("text=DG5-W-0001")
    expect(page.locator("body")).to_contain_text("请改为 25Ω")
    page.click("a.button:has-text('修改')")
    expect(page.locator("body")).to_contain_text("请改为 25Ω")  # the comment beside the form
    page.fill("input[name=option_D]", "25Ω")
    page.fill("#f-reason", "按审核意见修改选项 D")
    expect(page.locator("#preview")).to_contain_text("D. 25Ω")
    page.click("button[value=submit]")
    expect(page.locator("h1")).to_contain_text("v2")
    page.context.close()

    # -- the reviewer compares old and new and approves --------------------------------------
    page = login("reviewer1")
    page.goto(f"{bank}/items/DG5-W-0001")
    page.click("button:has-text('开始审核')")
    diff = page.locator("table.diff")
    expect(diff).to_contain_text("选项")
    expect(diff.locator("td.old")).to_contain_text("20Ω")
    expect(diff.locator("td.new")).to_contain_text("25Ω")
    shot(page, "03_review_diff")
    page.fill("#f-comment", "同意")
    page.check("input[name=decision][value=approve]")
    page.click("button:has-text('提交审核结论')")
    expect(page.locator(".flash")).to_contain_text("已审核通过")
    page.context.close()

    # -- the bank manager puts it to a committee (too few members is refused, in words) ------
    page = login("manager1")
    page.click("nav >> text=验收")
    page.click("text=新建验收批次")
    page.check("input[name=codes][value='DG5-W-0001']")
    for i in (1, 2):
        page.check(f"input[name=members][value=member{i}]")
    page.click("button:has-text('建立批次')")
    expect(page.locator("#err-members")).to_contain_text("至少 5 人")
    expect(page.locator("input[name=codes][value='DG5-W-0001']")).to_be_checked()
    for i in (3, 4, 5):
        page.check(f"input[name=members][value=member{i}]")
    page.fill("#f-meeting", "2026年第4次题库验收会")
    page.click("button:has-text('建立批次')")
    expect(page.locator(".flash")).to_contain_text("等待全体委员签署")
    batch_url = page.url.split("?")[0]
    page.context.close()

    # -- five members sign; the last signature accepts the item -------------------------------
    for i in range(1, 6):
        page = login(f"member{i}")
        page.click(f"a[href='{batch_url.removeprefix(live.url)}']")
        expect(page.locator(".cand-stem")).to_contain_text("阻值")  # members read what they sign
        page.click("button:has-text('签署')")
        expect(page.locator("#signatures")).to_contain_text(f"member{i}")
        if i == 5:
            expect(page.locator(".flash")).to_contain_text("已验收入库")
            expect(page.locator("#signatures .ok-text")).to_have_count(5)
            shot(page, "04_batch_signed")
        page.context.close()

    # -- the bank manager: banks, readiness, element table, statistics, usage ----------------
    page = login("manager1")
    page.click("nav >> text=题库")
    expect(page.locator("table")).to_contain_text("达标")
    shot(page, "05_banks_dashboard")
    page.click("text=详情")
    expect(page.locator("h2").first).to_contain_text("理论知识")
    shot(page, "06_bank_readiness")
    page.click("nav.tabs >> text=认定要素细目表")
    expect(page.locator("table")).to_contain_text("A-01-01")
    shot(page, "07_element_table")
    page.click("nav.tabs >> text=试题统计")
    expect(page.locator("table")).to_contain_text("v1")
    shot(page, "08_item_statistics")
    page.click("nav.tabs >> text=使用与曝光")
    expect(page.locator("body")).to_contain_text("使用次数分布")
    shot(page, "09_usage_exposure")

    # -- blueprint editor: a bad number is refused next to its field, then saved as v2 -------
    page.goto(f"{bank}/blueprints/{w.blueprint_id}")
    page.fill("input[name=type_count_1]", "0")
    page.click("button[value=save]")
    expect(page.locator(".errorbox")).to_contain_text("方案未保存")
    expect(page.locator("#err-type_count_1")).to_contain_text("不得小于 1")
    page.fill("input[name=type_count_1]", "4")
    page.fill("#f-uw", "0.1")  # prefer less used items
    shot(page, "10_blueprint_editor")
    page.click("button[value=save]")
    expect(page.locator(".flash")).to_contain_text("已保存为新版本")
    expect(page.locator("table")).to_contain_text("v2")

    # -- assembly in the background: progress, then papers side by side, checks, curves -----
    page.click("nav.tabs a[href$='/assemble']")
    page.select_option("#f-bp", page.locator("#f-bp option", has_text="v2 ·").get_attribute("value"))
    page.fill("#f-forms", "2")
    page.fill("#f-backups", "1")
    page.fill("#f-limit", "30")
    page.click("button:has-text('开始组卷')")
    expect(page).to_have_url(re.compile(r"/ui/runs/\d+$"))
    expect(page.locator("#papers section")).to_have_count(3, timeout=90_000)  # polled until finished
    expect(page.locator("#papers")).to_contain_text("备用1")
    expect(page.locator("#checks")).to_contain_text("单项选择题：题数")
    expect(page.locator("#checks .bad-text")).to_have_count(0)
    expect(page.locator("#solver-report")).to_contain_text("cbc")
    img = page.locator(".plot img")
    expect(img).to_be_visible()
    for _ in range(100):  # the PNG is drawn on request (wait_for_function would need eval, refused by the CSP)
        if img.evaluate("el => el.complete && el.naturalWidth"):
            break
        page.wait_for_timeout(100)
    assert img.evaluate("el => el.naturalWidth") > 600
    shot(page, "11_assembly_result")
    page.set_viewport_size(TABLET)
    shot(page, "11t_assembly_result_tablet")
    page.context.close()

    # -- the exam office: seal, one person cannot open, the second opens; download -----------
    session_url = f"{live.url}/ui/sessions/{w.session_code}"
    page = login("office1")
    page.click("nav >> text=考务")
    page.click(f"text={w.session_code}")
    page.click("button:has-text('申领并密封')")
    expect(page.locator(".flash")).to_contain_text("试卷已密封")
    page.locator("section.card", has_text="正式卷").locator("button:has-text('确认启封')").click()
    expect(page.locator(".flash")).to_contain_text("还需另一名考务人员确认")
    expect(page.locator("body")).to_contain_text("您已确认")
    expect(page.locator("a[href*='/documents/']")).to_have_count(0)  # nothing released to one person
    page.context.close()

    page = login("office2")
    page.goto(session_url)
    main = page.locator("section.card", has_text="正式卷")
    main.locator("button:has-text('确认启封')").click()
    expect(page.locator(".flash")).to_contain_text("两人已确认")
    expect(main).to_contain_text("office1")
    expect(main).to_contain_text("office2")
    with page.expect_download() as download:
        main.locator("a[href*='_paper.docx']").click()
    assert download.value.suggested_filename.endswith("_paper.docx")
    shot(page, "12_session_opened")

    # -- an incident: the opened paper is damaged; the backup is activated --------------------
    page.click("button:has-text('登记并处置')")
    expect(page.locator("#err-description")).to_contain_text("请描述发生了什么")
    page.select_option("#f-paper", index=1)
    page.select_option("#f-kind", "damaged")
    page.fill("#f-desc", "分发时发现试卷袋受潮破损，无法使用")
    page.click("button:has-text('登记并处置')")
    expect(page.locator(".flash")).to_contain_text("事件已登记")
    expect(page.locator("#incidents ~ .card").first).to_contain_text("启用备用卷")
    backup = page.locator("section.card", has_text="备用卷")
    expect(backup).to_contain_text("已密封")  # activated: now openable by two people
    shot(page, "13_incident_backup_activated")
    page.context.close()

    # -- the auditor finds the download in the ledger and the chain intact -------------------
    page = login("auditor1")
    page.click("nav >> text=台帐")
    page.fill("#f-action", "paper.download")
    page.click("button:has-text('查询')")
    expect(page.locator("#ledger")).to_contain_text("office2")
    shot(page, "14_ledger_search")
    page.click("text=校验哈希链")
    expect(page.locator("#verification")).to_contain_text("完整")
    shot(page, "15_ledger_verified")
    page.context.close()

    # -- the same pages at tablet width ------------------------------------------------------
    page = login("writer1", viewport=TABLET)
    page.goto(f"{bank}/items/new")
    page.fill("#f-stem", STEM)
    expect(page.locator("#preview .frac")).to_have_count(1)
    shot(page, "16t_item_form_tablet")
    page.context.close()
    page = login("manager1", viewport=TABLET)
    page.goto(bank)
    shot(page, "17t_bank_readiness_tablet")
    page.context.close()


WRITER_MAY_NOT = (
    "/ui/banks", "/ui/banks/{bank}", "/ui/banks/{bank}/assemble", "/ui/banks/{bank}/blueprints",
    "/ui/banks/{bank}/blueprints/{blueprint}", "/ui/banks/{bank}/statistics", "/ui/banks/{bank}/usage",
    "/ui/banks/{bank}/import", "/ui/banks/{bank}/batches/new", "/ui/batches", "/ui/reviews", "/ui/sessions",
    "/ui/sessions/{session}", "/ui/ledger", "/ui/ledger/verify",
)


def test_a_writer_cannot_reach_other_pages_by_typing_their_url(live: Live, login: Callable[..., Page]) -> None:
    w = live.world
    # writer2 writes an item; writer1 may not read it (need-to-know, 附件12 第9条)
    page = login("writer2")
    page.goto(f"{live.url}/ui/banks/{w.bank_id}/items/new")
    page.fill("#f-code", "DG5-W-0999")
    page.fill("#f-stem", "另一位专家的试题。")
    page.select_option("#f-type", "true_false")
    expect(page.locator("input[name=key_tf][value=T]")).to_be_visible()  # the form changed with the type
    page.check("input[name=key_tf][value=T]")
    page.check("input[name=element_codes][value='A-01-01']")
    page.click("button[value=save]")
    expect(page.locator(".flash")).to_contain_text("已保存为草稿")
    page.context.close()

    page = login("writer1")
    paths = [p.format(bank=w.bank_id, blueprint=w.blueprint_id, session=w.session_code) for p in WRITER_MAY_NOT]
    paths.append(f"/ui/banks/{w.bank_id}/items/DG5-W-0999")
    for path in paths:
        response = page.goto(live.url + path)
        assert response is not None and response.status == 403, (path, response and response.status)
        expect(page.locator("h1")).to_have_text("无权访问")
    shot(page, "18_writer_refused")
    # nor by posting: a form of the manager's, with the writer's own valid CSRF token
    token = page.evaluate("document.querySelector('input[name=csrf_token]').value")
    response = page.request.post(f"{live.url}/ui/banks/{w.bank_id}/assemble", form={
        "csrf_token": token, "blueprint_id": str(w.blueprint_id), "n_forms": "1", "n_backups": "0",
        "solver": "cbc", "time_limit_s": "10", "seed": "0"})
    assert response.status == 403
    # the writer's own list shows only the writer's own items
    page.goto(f"{live.url}/ui/banks/{w.bank_id}/items")
    expect(page.locator("body")).not_to_contain_text("DG5-W-0999")
    page.context.close()
