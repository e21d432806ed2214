"""The blueprint editor fixes a paper's 考核时间 (issue 15): the standard practical blueprint
comes with the level's fixed time, the bank manager changes it on the page, and a run cannot
print another time than the blueprint's."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from itembank import assembly_service as svc
from itembank.domain import Part, Role
from itembank.occupations import get_bank_by_id
from tests.api.test_similarity import _ui_login

from .conftest import Api


class _Form(HTMLParser):
    """The named inputs of a page's forms as a browser would post them (checked boxes only,
    each select's selected option)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[-1] = (self._textarea, self.fields[-1][1] + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _data(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in fields:
        out.setdefault(k, []).append(v)
    return out


def test_the_fixed_time_is_set_on_the_blueprint_page(api: Api) -> None:
    mgr = api.add_user("manager1", Role.BANK_MANAGER, occupation="6-31-01-03")
    derived = api.client.post(f"/banks/{api.bank_id}/blueprints/derive", headers=mgr, json={"part": "practical"})
    assert derived.status_code == 201, derived.text
    bp_id = derived.json()["id"]
    _ui_login(api.client, "manager1")
    page = api.client.get(f"/ui/banks/{api.bank_id}/blueprints/{bp_id}")
    assert page.status_code == 200 and "固定考核时间（分钟）" in page.text
    assert re.search(r'name="time_total_min" value="180"', page.text)  # level 5: 180 min
    parser = _Form()
    parser.feed(page.text)
    fields = [(k, "150" if k == "time_total_min" else v) for k, v in parser.fields if k != "action"]
    saved = api.client.post(f"/ui/banks/{api.bank_id}/blueprints/{bp_id}", data=_data([*fields, ("action", "save")]),
                            follow_redirects=False)
    assert saved.status_code == 303, saved.text
    bank = get_bank_by_id(api.session, api.bank_id)
    latest = svc.load_blueprint(api.session, bank=bank, part=Part.PRACTICAL, name=derived.json()["name"])
    assert latest.version == 2 and latest.blueprint.time_total_s == 150 * 60
    # emptied: no fixed time (each practical paper allows what its tasks take)
    fields = [(k, "" if k == "time_total_min" else v) for k, v in fields]
    api.client.post(f"/ui/banks/{api.bank_id}/blueprints/{bp_id}", data=_data([*fields, ("action", "save")]))
    latest = svc.load_blueprint(api.session, bank=bank, part=Part.PRACTICAL, name=derived.json()["name"])
    assert latest.version == 3 and latest.blueprint.time_total_s is None
    # a run may not print another time than the blueprint's
    started = api.client.post(f"/banks/{api.bank_id}/assembly-runs", headers=mgr,
                              json={"blueprint_id": latest.id, "time_allowed_min": 120, "practice": True})
    assert started.status_code == 422, started.text
    assert any("由组卷方案" in e for e in started.json()["error"]["errors"]), started.json()
