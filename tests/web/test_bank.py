"""The bank manager in the browser (desktop and phone): an import checked and then confirmed
without choosing the file again; the blueprint editor reporting every mistake at once, with
element names and a line explaining each control, "保存为 v2" keeping the blueprint's name and
"另存为新方案" starting a new one; an assembly run whose papers, keys and report download as
Word and PDF from the run page and the bank page, each download in the ledger."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from itembank.ledger import query_ledger

from .conftest import Live, Pages


def _csv(page, live: Live) -> bytes:  # type: ignore[no-untyped-def]
    """The items template's example row, with a new code, an element of this bank's table and
    a registered writer."""
    template = page.request.get(f"{live.url}/ui/templates/items.csv").body().decode("utf-8-sig").splitlines()
    header, example = template[0], template[1]
    row = example.removesuffix(",zhangsan") + ",writer1"
    rest = row.split(",", 1)[1].replace(",A-01,", ",A-01-01,")
    return f"{header}\nIMP-0001,{rest}\n".encode("utf-8")


def test_import_blueprint_assembly_and_downloads(pages: Pages, live: Live) -> None:
    bank = f"{live.url}/ui/banks/{live.world.bank_id}"
    page = pages.login("manager1")

    # -- import: check first, then confirm the checked file ----------------------------------
    page.goto(f"{bank}/import")
    expect(page.locator("input[name=dry_run]")).to_be_checked()
    page.set_input_files("#f-file", files=[{"name": "items.csv", "mimeType": "text/csv", "buffer": _csv(page, live)}])
    page.click("button:has-text('上传并检查')")
    expect(page.locator(".flash")).to_contain_text("检查通过（试导入，未写入）")
    confirm = page.locator("#confirm-import")
    expect(confirm).to_contain_text("items.csv")
    pages.shot(page, "bank-01-import-checked")
    pages.fits(page)
    page.click("#confirm-import-button")
    expect(page.locator(".flash")).to_contain_text("已导入")
    expect(page.locator(".flash")).to_contain_text("新增 1")
    expect(page.locator("#confirm-import")).to_have_count(0)
    page.goto(f"{bank}/items?q=IMP-0001")
    expect(page.locator("table")).to_contain_text("IMP-0001")

    # -- the blueprint editor: three mistakes, all reported at once --------------------------
    page.goto(f"{bank}/blueprints/{live.world.blueprint_id}")
    name = page.locator("h1 .muted").inner_text().split(" v")[0]
    expect(page.locator("table").last).to_contain_text("职业道德")  # element names beside the codes
    expect(page.locator("body")).to_contain_text("θ 是考生能力的刻度")  # each control explained
    expect(page.locator("body")).to_contain_text("p 是以往考试中答对该题的考生比例")
    expect(page.locator("#save-version")).to_have_text("保存为 v2")
    page.fill("input[name=type_count_0]", "0")
    page.fill("#f-rmin", "7")
    page.fill("input[name=el_min_0]", "5")
    page.fill("input[name=el_max_0]", "1")
    page.click("#save-version")
    expect(page.locator("#bp-errors")).to_contain_text("共 3 处需要修改")
    expect(page.locator("#err-type_count_0")).to_contain_text("不得小于 1")
    expect(page.locator("#err-mean_rating_min")).to_contain_text("不得大于 5")
    expect(page.locator("#err-el_max_0")).to_contain_text("上限小于下限")
    expect(page.locator("#f-rmin")).to_have_value("7")  # what was typed is kept
    pages.shot(page, "bank-02-blueprint-errors")
    pages.fits(page)
    page.fill("input[name=type_count_0]", "16")
    page.fill("#f-rmin", "")
    page.fill("input[name=el_min_0]", "0")
    page.fill("input[name=el_max_0]", "")
    page.fill("#f-uw", "0.1")
    page.click("#save-version")
    expect(page.locator(".flash")).to_contain_text("已保存为新版本")
    rows = page.locator("table tr", has_text=name)
    expect(rows).to_have_count(2)  # v1 and v2 of the same blueprint, not a new one
    expect(rows.first).to_contain_text("v2")
    # save as a new blueprint under another name: v1 of that name
    page.locator("table tr", has_text=name).first.locator("a[href*='/blueprints/']").click()
    page.click("summary:has-text('另存为新方案')")
    page.fill("#f-newname", "12月认定方案")
    page.click("button[value=save_as]")
    expect(page.locator(".flash")).to_contain_text("已另存为新方案")
    expect(page.locator("table tr", has_text="12月认定方案")).to_contain_text("v1")

    # -- assembly; downloads from the run page -----------------------------------------------
    page.click("nav.tabs a[href$='/assemble']")
    expect(page.locator("body")).to_contain_text("两种整数规划求解器")
    page.select_option("#f-bp", page.locator("#f-bp option", has_text="v2 ·").get_attribute("value"))
    page.fill("#f-forms", "1")
    page.fill("#f-backups", "1")
    page.fill("#f-limit", "30")
    page.click("button:has-text('开始组卷')")
    expect(page).to_have_url(re.compile(r"/ui/runs/\d+$"))
    expect(page.locator("#papers section")).to_have_count(2, timeout=120_000)
    downloads = page.locator("#downloads")
    expect(downloads).to_contain_text("组卷报告")
    pages.shot(page, "bank-03-run-downloads")
    pages.fits(page)
    paper_link = downloads.locator("a[href$='/documents/paper.docx']").first
    code = paper_link.get_attribute("href").split("/")[3]
    with page.expect_download() as d:
        paper_link.click()
    assert d.value.suggested_filename.endswith("_paper.docx")
    with page.expect_download(timeout=180_000) as d:
        downloads.locator("a[href$='/documents/answer_key.pdf']").first.click(no_wait_after=True, timeout=180_000)
    assert d.value.suggested_filename.endswith("_key.pdf")
    assert open(d.value.path(), "rb").read(5) == b"%PDF-"
    with page.expect_download() as d:
        downloads.locator("a[href$='/report.docx']").click()
    assert d.value.suggested_filename.endswith(".docx")

    # -- and from the bank page --------------------------------------------------------------
    page.goto(bank)
    section = page.locator("#papers")
    expect(section).to_contain_text(code)
    pages.shot(page, "bank-04-bank-page-papers")
    pages.fits(page)
    with page.expect_download() as d:
        section.locator(f"a[href='/ui/papers/{code}/documents/answer_key.docx']").click()
    assert d.value.suggested_filename.endswith("_key.docx")

    with live.session() as s:  # every download is in the ledger, with its format
        exported = query_ledger(s, object_type="paper", object_id=code, action="paper.exported")
        assert sorted(e.details["format"] for e in exported) == ["docx", "docx", "pdf"]
        assert {e.actor for e in exported} == {"manager1"}
        assert query_ledger(s, action="run.document", actor="manager1")
