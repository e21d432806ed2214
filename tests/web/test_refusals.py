"""A writer who types the addresses of other roles' pages, or of another writer's item, gets
the refusal page (403), not the page; nor can they post a manager's form with their own
valid CSRF token."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from . import scene
from .conftest import DESKTOP, PASSWORD, Live

WRITER_MAY_NOT = (
    "/ui/banks", "/ui/banks/{bank}", "/ui/banks/{bank}/assemble", "/ui/banks/{bank}/blueprints",
    "/ui/banks/{bank}/blueprints/{blueprint}", "/ui/banks/{bank}/statistics", "/ui/banks/{bank}/usage",
    "/ui/banks/{bank}/similarity",
    "/ui/banks/{bank}/import", "/ui/banks/{bank}/papers", "/ui/banks/{bank}/batches/new", "/ui/batches",
    "/ui/reviews", "/ui/sessions", "/ui/sessions/{session}", "/ui/plans", "/ui/ledger", "/ui/ledger/verify",
    "/ui/ledger/export.xlsx", "/ui/admin/users", "/ui/admin/experts",
)


def test_a_writer_cannot_reach_other_pages_by_typing_their_url(browser: Browser, live: Live) -> None:
    w = live.world
    scene.submitted(live, {"DG5-W-0999": "另一位专家的试题。"}, writer="writer2")
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(45_000)
    page.goto(live.url + "/ui/login")
    page.fill("#username", "writer1")
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(live.url + "/")  # logged in: the dashboard
    paths = [p.format(bank=w.bank_id, blueprint=w.blueprint_id, session=w.session_code) for p in WRITER_MAY_NOT]
    paths.append(f"/ui/banks/{w.bank_id}/items/DG5-W-0999")
    for path in paths:
        response = page.goto(live.url + path)
        assert response is not None and response.status == 403, (path, response and response.status)
        expect(page.locator("h1")).to_have_text("无权访问")
    token = page.evaluate("document.querySelector('input[name=csrf_token]').value")
    response = page.request.post(f"{live.url}/ui/banks/{w.bank_id}/assemble", form={
        "csrf_token": token, "blueprint_id": str(w.blueprint_id), "n_forms": "1", "n_backups": "0",
        "solver": "cbc", "time_limit_s": "10", "seed": "0"})
    assert response.status == 403
    response = page.request.post(f"{live.url}/ui/banks/{w.bank_id}/items/assign", form={
        "csrf_token": token, "codes": "DG5-W-0999", "reviewer": "reviewer1"})
    assert response.status == 403
    page.goto(f"{live.url}/ui/banks/{w.bank_id}/items")
    expect(page.locator("body")).not_to_contain_text("DG5-W-0999")
    ctx.close()
