"""Near-duplicate and cueing matches shown to people (issue 15): to the writer in the API's
answer and in the form's live preview, to the reviewer on the item page, to the bank manager
in the similarity report, where chosen pairs are confirmed as enemies. Need-to-know holds: a
writer learns that their item matches another writer's item, never that item's code or text."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from itembank.domain import Role
from itembank.ledger import query_ledger
from itembank.occupations import get_bank_by_id
from itembank.similarity_service import enemy_pairs
from tests.api.conftest import PASSWORD

from .conftest import Api

KEYED = {  # a single-choice item whose stem, filled with its key, is a statement
    "code": "Q0001",
    "content": {
        "item_type": "single_choice", "stem": "我国规定的安全电压额定值不包括（　）。", "points": 1,
        "element_codes": ["A-01"],
        "options": [{"label": "A", "text": "36V"}, {"label": "B", "text": "24V"}, {"label": "C", "text": "12V"},
                    {"label": "D", "text": "110V"}],
        "key": ["D"], "difficulty_rating": 2,
    },
}
CUE = {  # a true/false item stating Q0001's answer word for word
    "code": "Q0002",
    "content": {"item_type": "true_false", "stem": "我国规定的安全电压额定值不包括110V。", "points": 1,
                "element_codes": ["A-01"], "key": ["T"], "difficulty_rating": 2},
}
DISTINCT = {
    "code": "Q0003",
    "content": {"item_type": "true_false", "stem": "兆欧表测量绝缘电阻前，应先切断被测设备的电源并放电。", "points": 1,
                "element_codes": ["A-01"], "key": ["T"], "difficulty_rating": 2},
}


def _ui_login(c: TestClient, username: str) -> str:
    c.cookies.clear()
    page = c.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = c.post("/ui/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    home = c.get("/ui/items")
    return re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]


def _submitted(api: Api, headers: dict[str, str], item: dict) -> dict:
    base = f"/banks/{api.bank_id}/items"
    r = api.client.post(base, headers=headers, json=item)
    assert r.status_code == 201, r.text
    s = api.client.post(f"{base}/{item['code']}/submit", headers=headers, json={})
    assert s.status_code == 200, s.text
    return r.json()


def test_writer_reviewer_and_manager_see_the_matches_and_the_manager_confirms_them(api: Api) -> None:
    w1 = api.add_user("writer1", Role.ITEM_WRITER, occupation="6-31-01-03")
    w2 = api.add_user("writer2", Role.ITEM_WRITER, occupation="6-31-01-03")
    api.add_user("reviewer1", Role.REVIEWER, occupation="6-31-01-03")
    mgr = api.add_user("manager1", Role.BANK_MANAGER, occupation="6-31-01-03")
    base = f"/banks/{api.bank_id}/items"
    first = _submitted(api, w1, KEYED)
    assert first["similar"] == [] and first["similar_total"] == 0

    # writer2 states Q0001's answer: told so, without Q0001's code or text (not theirs)
    r = api.client.post(base, headers=w2, json=CUE)
    assert r.status_code == 201, r.text
    hits = r.json()["similar"]
    assert r.json()["similar_total"] == 1 and len(hits) == 1
    hit = hits[0]
    assert hit["kind"] == "statement_is_key" and hit["code"] is None and hit["other_text"] is None
    assert hit["text"] == CUE["content"]["stem"] and hit["place"] == "题干" and hit["score"] >= 0.9
    assert "答案" in hit["description"]
    # a distinct item matches nothing
    assert api.client.post(base, headers=w2, json=DISTINCT).json()["similar"] == []

    # writer1 revises their own item into a near copy of it: they see their own item by code
    own = {**KEYED, "code": "Q0004"}
    r = api.client.post(base, headers=w1, json=own)
    mine = [h for h in r.json()["similar"] if h["code"] == "Q0001"]
    assert mine and mine[0]["kind"] == "near_duplicate" and "110V" in mine[0]["other_text"]
    assert api.client.post(f"{base}/Q0004/submit", headers=w1, json={}).status_code == 200  # drafts are not compared

    # the live preview of the item form shows the match while writing
    token = _ui_login(api.client, "writer2")
    form = {"csrf_token": token, "item_type": "true_false", "code": "Q0009", "stem": CUE["content"]["stem"],
            "points": "1", "key_tf": "T", "element_codes": "A-01", "difficulty_rating": "2"}
    preview = api.client.post(f"/ui/banks/{api.bank_id}/items/preview", data=form)
    assert preview.status_code == 200, preview.text
    assert "题库中的相似试题" in preview.text and "道出了另一题的答案" in preview.text
    assert "Q0001" not in preview.text and "你无权查看其内容" in preview.text
    plain = {**form, "stem": DISTINCT["content"]["stem"] + "（新）"}
    assert "题库中的相似试题" not in api.client.post(f"/ui/banks/{api.bank_id}/items/preview", data=plain).text

    # the reviewer of Q0002 sees the match on the item page (Q0001 is not assigned to them)
    api.client.post(f"{base}/Q0002/submit", headers=w2, json={})
    assert api.client.post(f"{base}/Q0002/reviewers", headers=mgr, json={"reviewer": "reviewer1"}).status_code == 200
    _ui_login(api.client, "reviewer1")
    page = api.client.get(f"/ui/banks/{api.bank_id}/items/Q0002")
    assert page.status_code == 200 and "题库中的相似试题" in page.text and "你无权查看其内容" in page.text

    # the bank manager: the report lists the pairs with both texts, ledgered; confirming records enemies
    token = _ui_login(api.client, "manager1")
    report = api.client.get(f"/ui/banks/{api.bank_id}/similarity")
    assert report.status_code == 200, report.text
    assert 'value="Q0001|Q0002"' in report.text and "我国规定的安全电压额定值不包括110V。" in report.text
    assert 'value="Q0001|Q0004"' in report.text
    entries = query_ledger(api.session, action="similarity.report", actor="manager1")
    assert entries and ["Q0001", "Q0002"] in entries[-1].details["pairs"]
    done = api.client.post(f"/ui/banks/{api.bank_id}/similarity/confirm",
                           data={"csrf_token": token, "part": "theory", "pairs": ["Q0001|Q0002"]},
                           follow_redirects=False)
    assert done.status_code == 303, done.text
    bank = get_bank_by_id(api.session, api.bank_id)
    assert ("Q0001", "Q0002") in enemy_pairs(api.session, bank=bank)
    after = api.client.get(f"/ui/banks/{api.bank_id}/similarity").text
    assert 'value="Q0001|Q0002"' not in after and 'value="Q0001|Q0004"' in after
    # a pair the check does not find is refused, naming it; nothing is recorded
    bad = api.client.post(f"/ui/banks/{api.bank_id}/similarity/confirm",
                          data={"csrf_token": token, "part": "theory", "pairs": ["Q0002|Q0003"]})
    assert bad.status_code == 422 and "Q0002 与 Q0003" in bad.text
    assert ("Q0002", "Q0003") not in enemy_pairs(api.session, bank=bank)
