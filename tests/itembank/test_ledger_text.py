"""The ledger in words (itembank.ledger_text): every action the code writes reads as a sentence
in both locales, with the people's display names; the raw record stays as stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from itembank import i18n
from itembank.i18n import Message, to_storable
from itembank.ledger import LedgerEntry, append
from itembank.ledger_text import (
    ACTIONS,
    OBJECT_TYPES,
    Names,
    action_choices,
    action_label,
    describe,
    describe_entries,
    object_type_choices,
    raw_record,
)

ROOT = Path(__file__).resolve().parents[2]
_LITERAL = re.compile(r"""(?:action=|NewEntry\()\s*["']([a-z_]+\.[a-z_]+)["']""")
_FAMILY = re.compile(r"""action=f["']([a-z_]+)\.\{""")


def _written_actions() -> tuple[set[str], set[str]]:
    """Action codes the code writes: literals, and the prefixes of f-string families."""
    literals: set[str] = set()
    families: set[str] = set()
    for package in ("itembank", "lifecycle", "api", "exports"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            literals.update(_LITERAL.findall(text))
            families.update(_FAMILY.findall(text))
    return literals, families


def test_every_action_the_code_writes_has_words() -> None:
    literals, families = _written_actions()
    assert len(literals) > 60 and {"import", "application", "violation", "certificate"} <= families
    assert sorted(literals - set(ACTIONS)) == []
    from lifecycle.domain import CertificateAction, ViolationKind

    expanded = {f"violation.{k.value}" for k in ViolationKind} | {f"certificate.{a.value}" for a in CertificateAction}
    expanded |= {"import.items", "import.qti", "application.accepted", "application.refused"}
    assert sorted(expanded - set(ACTIONS)) == []


def _entry(action: str, details: dict, *, actor: str = "zhangsan", object_type: str = "item",
           object_id: str = "17") -> LedgerEntry:
    return LedgerEntry(id=1, at=datetime(2026, 12, 6, 0, 30, tzinfo=UTC), actor=actor, action=action,
                       object_type=object_type, object_id=object_id, details=details, prev_hash="0" * 64,
                       hash="1" * 64)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_registered_action_renders_without_details(locale: str) -> None:
    """Old or partial entries still read: missing details become a dash, never a crash or a field name."""
    names = Names({"zhangsan": "张三"})
    with i18n.use_locale(locale):
        for code, spec in ACTIONS.items():
            text = str(describe(_entry(code, {}, object_type="bank"), names))
            assert "{" not in text and "}" not in text, (code, text)
            assert "张三（zhangsan）" in text or "{actor}" not in spec.sentence, (code, text)
            assert str(action_label(code)) != code


def test_sentences_are_chinese_with_names_and_stored_messages() -> None:
    names = Names({"zhangsan": "张三", "lisi": "李四"})
    state = _entry("item.state", {"code": "DG5-T-0001", "version": 2, "from": "draft", "to": "submitted",
                                  "reason": to_storable(Message("submitted for review"))})
    assert str(describe(state, names)) == "张三（zhangsan） 将试题 DG5-T-0001 第 2 版由“草稿”改为“已提交”：提交审核"
    assign = _entry("review.assign", {"code": "DG5-T-0001", "reviewer": "lisi"})
    assert "李四（lisi）" in str(describe(assign, names))
    login = _entry("auth.login", {}, object_type="user", object_id="zhangsan")
    assert str(describe(login, names)) == "张三（zhangsan） 登录系统"
    with i18n.use_locale("en"):
        assert str(describe(state, names)) == ("张三（zhangsan） moved item DG5-T-0001 version 2 from draft to "
                                               "submitted: submitted for review")
    # an action nobody registered is still shown, by its code, never dropped
    other = str(describe(_entry("custom.thing", {}), names))
    assert "custom.thing" in other and "张三（zhangsan）" in other


def test_unknown_people_and_the_system() -> None:
    names = Names({})
    assert names("wangwu") == "wangwu"
    assert names("") == "—"
    assert names("system") == "系统"


def test_describe_entries_looks_up_display_names_and_keeps_the_raw_record(session: Session) -> None:
    from itembank.accounts import create_user
    from itembank.domain import Role

    create_user(session, username="auditor_zhao", password="a long pass phrase 2026", display_name="赵审计",
                roles=[(Role.AUDITOR, None)], actor="cli")
    e = append(session, actor="auditor_zhao", action="auth.login", object_type="user", object_id="auditor_zhao",
               details={})
    (text,) = describe_entries(session, [e])
    assert text.actor == "赵审计（auditor_zhao）"
    assert str(text.sentence) == "赵审计（auditor_zhao） 登录系统"
    assert text.raw == raw_record(e) and text.raw["hash"] == e.hash and text.raw["action"] == "auth.login"


def test_filter_choices_cover_every_action_and_object_type_in_chinese() -> None:
    sections = action_choices()
    codes = [c.value for _label, choices in sections for c in choices]
    assert sorted(codes) == sorted(ACTIONS)
    labels = [str(label) for label, _choices in sections]
    assert all(re.search(r"[\u4e00-\u9fff]", x) for x in labels), labels
    assert [c.value for c in object_type_choices()] == list(OBJECT_TYPES)
    assert all(re.search(r"[\u4e00-\u9fff]", str(c.label)) for c in object_type_choices())
