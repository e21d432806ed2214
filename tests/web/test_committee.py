"""The acceptance committee in the browser (desktop and phone): each member signs a vote after
confirming it; one member's refusal does not close the batch; it is decided when every member
has voted, by the rule shown on the page; the refusal's reason reaches the writer's review
record."""

from __future__ import annotations

from playwright.sync_api import expect

from . import scene
from .conftest import Live, Pages

STEMS = {"DG5-C-0001": "触电急救时首先应（　）。", "DG5-C-0002": "电气火灾不能使用的灭火器是（　）。"}
MEMBERS = [f"member{i}" for i in range(1, 6)]
REASON = "DG5-C-0002 的干扰项与题干不对应，请修改"


def test_votes_are_confirmed_and_the_batch_is_decided_when_all_have_voted(pages: Pages, live: Live) -> None:
    scene.approved(live, STEMS)
    code = scene.batch(live, list(STEMS), MEMBERS)
    url = f"{live.url}/ui/batches/{code}"

    # -- member1 refuses, with a reason, after confirming ----------------------------------
    page = pages.login("member1")
    page.click(f"a[href='/ui/batches/{code}']")
    expect(page.locator("#rule")).to_contain_text("须全部同意方为验收合格")
    expect(page.locator(".cand-stem").first).to_contain_text("触电急救")  # members read what they judge
    page.check("input[name=vote][value=refuse]")
    page.click("button:has-text('签署…')")  # no reason: refused next to the field, nothing signed
    expect(page.locator("#err-opinion")).to_contain_text("请写明不予验收的理由")
    page.check("input[name=vote][value=refuse]")
    page.fill("#f-opinion", REASON)
    page.check("input[name=return_codes][value='DG5-C-0002']")
    page.click("button:has-text('签署…')")
    confirm = page.locator("#confirm-vote")
    expect(confirm).to_contain_text("确认签署？")
    expect(confirm).to_contain_text("不予验收")
    expect(confirm).to_contain_text("签署后不能更改")
    expect(page.locator("#signatures")).to_contain_text("未表决")  # not signed until confirmed
    pages.shot(page, "committee-01-confirm")
    pages.fits(page)
    page.click("#confirm-sign")
    expect(page.locator(".flash")).to_contain_text("不予验收")
    expect(page.locator("h1")).to_contain_text("待表决")  # one refusal does not close the batch
    expect(page.locator("#signatures")).to_contain_text(REASON)
    page.context.close()

    # -- the others accept; the batch is decided with the last vote --------------------------
    for i, member in enumerate(MEMBERS[1:], start=2):
        page = pages.login(member)
        page.goto(url)
        page.check("input[name=vote][value=accept]")
        page.fill("#f-opinion", "同意")
        page.click("button:has-text('签署…')")
        expect(page.locator("#confirm-vote")).to_contain_text("同意批次")
        page.click("#confirm-sign")
        if i < 5:
            expect(page.locator(".flash")).to_contain_text("您已签署：同意验收")
            expect(page.locator("h1")).to_contain_text("待表决")
        else:
            expect(page.locator(".flash")).to_contain_text("全体委员已表决签署：批次未通过验收")
            expect(page.locator("h1")).to_contain_text("未通过验收")
            expect(page.locator("#signatures .ok-text")).to_have_count(4)
            expect(page.locator("#signatures .bad-text")).to_have_count(1)
            pages.shot(page, "committee-02-decided")
            pages.fits(page)
        page.context.close()

    # -- the writer reads the committee's reason in the review record ------------------------
    page = pages.login("writer1")
    page.goto(f"{live.url}/ui/banks/{live.world.bank_id}/items/DG5-C-0002")
    record = page.locator("#review-record")
    expect(record).to_contain_text("验收委员会不予验收")
    expect(record).to_contain_text(code)
    expect(record).to_contain_text(REASON)
    expect(page.locator("h1")).to_contain_text("需修改")
    pages.shot(page, "committee-03-writer-reads-the-reason")
    # the other item was not named: it stays approved for a later batch
    page.goto(f"{live.url}/ui/banks/{live.world.bank_id}/items/DG5-C-0001")
    expect(page.locator("h1")).to_contain_text("审核通过待验收")
