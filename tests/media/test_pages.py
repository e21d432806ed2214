"""Pictures on the pages without a browser: the markup renders them (and nothing else) as
images, the editor's upload box, the preview, the item page, the review and the committee view,
and need-to-know on /ui/media."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.web.markup import render_markup
from api.web.session import COOKIE, csrf_for
from itembank import media, workflow
from itembank.domain import Actor, Role
from itembank.occupations import get_bank_by_id
from itembank.ledger import query_ledger
from tests.api.conftest import OCC, OTHER_OCC, Api
from tests.web.test_pages import _login

from .conftest import svg, wiring_png

SHA = "3f" * 32


def test_markup_shows_pictures_and_escapes_everything_else() -> None:
    html = str(render_markup(f"如图所示：\n![图1 控制电路](media:{SHA})\n求 $I_1$。"))
    assert f'<img src="/ui/media/{SHA}" alt="图1 控制电路"' in html
    assert ">图1 控制电路</span>" in html and "<sub>1</sub>" in html and html.count("<img") == 1
    hostile = str(render_markup(f'![<script>x</script>"onerror=alert(1)](media:{SHA})'))
    assert "<script>" not in hostile and '"onerror' not in hostile and "&lt;script&gt;" in hostile
    # only a full hash makes a picture; anything else stays text, and formulas keep theirs
    for text in ("![a](media:abc)", "![a](https://example.org/x.png)", "![a](/ui/media/x)", f"$![a](media:{SHA})$"):
        assert "<img" not in str(render_markup(text)), text
    assert str(render_markup("如图[1]所示(见附图)")) == "如图[1]所示(见附图)"


def _csrf(client: TestClient) -> str:
    return csrf_for(client.cookies.get(COOKIE) or "")


def _upload(client: TestClient, bank_id: int, data: bytes, name: str, caption: str = "", htmx: bool = True):  # type: ignore[no-untyped-def]
    return client.post(f"/ui/banks/{bank_id}/media", data={"csrf_token": _csrf(client), "caption": caption},
                       files={"file": (name, data, "image/png")},
                       headers={"HX-Request": "true"} if htmx else {})


def test_the_editor_offers_the_upload_and_the_upload_answers_with_the_text(api: Api) -> None:
    api.add_user("writer1", Role.ITEM_WRITER, occupation=OCC)
    c = api.client
    _login(c, "writer1")
    form = c.get(f"/ui/banks/{api.bank_id}/items/new")
    assert form.status_code == 200 and 'id="picture-result"' in form.text and "插入图片" in form.text
    assert 'hx-encoding="multipart/form-data"' in form.text and "/ui/static/pictures.js" in form.text
    r = _upload(c, api.bank_id, wiring_png(), "接线图.png", caption="图1 照明电路")
    assert r.status_code == 200, r.text
    sha = media.check_picture(wiring_png()).sha256
    assert f'value="![图1 照明电路](media:{sha})"' in r.text and f'src="/ui/media/{sha}"' in r.text
    assert "data-insert-picture" in r.text and "640 × 400" in r.text
    assert c.get("/ui/static/pictures.js").status_code == 200
    # a refused file: the reason in the box (htmx swaps only 2xx), or a 422 page without script
    bad = _upload(c, api.bank_id, svg("<script>x()</script>"), "evil.svg")
    assert bad.status_code == 200 and 'id="picture-error"' in bad.text and "脚本" in bad.text
    page = _upload(c, api.bank_id, b"GIF89a" + bytes(64), "a.gif", htmx=False)
    assert page.status_code == 422 and "GIF" in page.text and "<html" in page.text
    # the form needs the session's token
    forged = c.post(f"/ui/banks/{api.bank_id}/media", data={"csrf_token": "0" * 64},
                    files={"file": ("a.png", wiring_png(seed=1))})
    assert forged.status_code == 400
    assert len(query_ledger(api.session, action="picture.upload")) == 1


def _form(code: str, stem: str) -> dict[str, str]:
    return {"item_type": "single_choice", "code": code, "stem": stem, "points": "1", "option_A": "并联",
            "option_B": "串联", "key_choice": "B", "element_codes": "A-01", "difficulty_rating": "3",
            "estimated_time_s": "60"}


def test_preview_item_page_review_and_committee_show_the_picture(api: Api) -> None:
    api.add_user("writer1", Role.ITEM_WRITER, occupation=OCC)
    api.add_user("manager1", Role.BANK_MANAGER, occupation=OCC)
    api.add_user("reviewer1", Role.REVIEWER, occupation=OCC)
    c = api.client
    _login(c, "writer1")
    _upload(c, api.bank_id, wiring_png(), "接线图.png")
    sha = media.check_picture(wiring_png()).sha256
    stem = f"如图所示，开关与灯泡的接法是（　）。\n![图1 照明电路](media:{sha})"
    preview = c.post(f"/ui/banks/{api.bank_id}/items/preview", data={**_form("P-1", stem), "csrf_token": _csrf(c)})
    assert preview.status_code == 200 and f'<img src="/ui/media/{sha}"' in preview.text
    saved = c.post(f"/ui/banks/{api.bank_id}/items/new", data={**_form("P-1", stem), "csrf_token": _csrf(c),
                                                               "action": "submit"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    page = c.get(f"/ui/banks/{api.bank_id}/items/P-1")
    assert f'<img src="/ui/media/{sha}"' in page.text and "本版本图片：1" in page.text
    items = c.get(f"/ui/banks/{api.bank_id}/items")
    assert "[图]" in items.text and f"media:{sha}" not in items.text  # lists show a placeholder
    assert c.get(f"/ui/media/{sha}").headers["content-type"] == "image/png"

    # the bank manager assigns the reviewer, who sees the picture in the review
    c.cookies.clear()
    _login(c, "manager1")
    assert c.post(f"/ui/banks/{api.bank_id}/items/P-1/assign", data={"reviewer": "reviewer1", "csrf_token": _csrf(c)},
                  follow_redirects=False).status_code == 303
    c.cookies.clear()
    _login(c, "reviewer1")
    review = c.get(f"/ui/banks/{api.bank_id}/items/P-1")
    assert f'<img src="/ui/media/{sha}"' in review.text
    assert c.get(f"/ui/media/{sha}").status_code == 200
    reads = query_ledger(api.session, action="picture.read")
    assert [(e.actor, e.details["via"]) for e in reads] == [("writer1", "web"), ("reviewer1", "web")]

    # approved, then put to a committee: each member sees the picture in the batch
    bank = get_bank_by_id(api.session, api.bank_id)
    reviewer = Actor("reviewer1", frozenset({Role.REVIEWER}), frozenset({OCC}))
    workflow.start_review(api.session, actor=reviewer, bank=bank, code="P-1")
    workflow.record_review(api.session, actor=reviewer, bank=bank, code="P-1",
                           decision=workflow.ReviewDecision.APPROVE, comment="图文一致")
    members = [f"member{i}" for i in range(1, 6)]
    for m in members:
        api.add_user(m, Role.COMMITTEE_MEMBER, occupation=OCC)
    batch = workflow.create_acceptance_batch(api.session, actor=Actor("manager1", frozenset({Role.BANK_MANAGER})),
                                             bank=bank, codes=["P-1"], members=members)
    api.session.commit()
    c.cookies.clear()
    _login(c, "member3")
    committee = c.get(f"/ui/batches/{batch.code}")
    assert committee.status_code == 200 and f'<img src="/ui/media/{sha}"' in committee.text
    assert "本版本图片：1" in committee.text and c.get(f"/ui/media/{sha}").status_code == 200


def test_picture_pages_follow_need_to_know(api: Api) -> None:
    api.add_user("writer1", Role.ITEM_WRITER, occupation=OCC)
    api.add_user("writer9", Role.ITEM_WRITER, occupation=OTHER_OCC)
    api.add_user("auditor1", Role.AUDITOR)
    c = api.client
    _login(c, "writer1")
    _upload(c, api.bank_id, wiring_png(), "a.png")
    sha = media.check_picture(wiring_png()).sha256
    assert c.get(f"/ui/media/{sha}").status_code == 200
    c.cookies.clear()
    _login(c, "writer9")
    r = c.get(f"/ui/media/{sha}")
    assert r.status_code == 403 and "不在您的查阅范围内" in r.text
    assert _upload(c, api.bank_id, wiring_png(seed=3), "x.png").status_code == 403  # not their occupation
    c.cookies.clear()
    _login(c, "auditor1")
    assert c.get(f"/ui/media/{sha}").status_code == 403
    c.cookies.clear()
    assert c.get(f"/ui/media/{sha}", follow_redirects=False).status_code == 303  # to the login form
    assert not re.search("picture.read", str([e.action for e in query_ledger(api.session, actor="writer9")]))
