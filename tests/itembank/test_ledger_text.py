"""The ledger in words (itembank.ledger_text): every action the code writes reads as a sentence
in both locales, with the people's display names; the raw record stays as stored."""

from __future__ import annotations

import ast
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
PACKAGES = ("itembank", "lifecycle", "api", "exports")


def _name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _writes_ledger(call: ast.Call, wrappers: set[str]) -> bool:
    """``ledger.append(...)``, ``ledger.NewEntry(...)`` / ``NewEntry(...)``, or a function that
    passes its ``action`` parameter on to ``ledger.append``."""
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "ledger":
        return f.attr in ("append", "NewEntry")
    return _name(call) == "NewEntry" or _name(call) in wrappers


def _written_actions() -> tuple[set[str], set[str], list[str], set[str]]:
    """Every action code the code writes to the ledger, read from the syntax of every call that
    writes it: literals (also both arms of a conditional, module constants), the prefixes of
    f-string families, and the calls whose action could not be read (they fail the test)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for package in PACKAGES
             for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts}
    wrappers = set()
    for tree in trees.values():
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and "action" in [
                    a.arg for a in fn.args.args + fn.args.kwonlyargs]:
                for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                    if _writes_ledger(call, set()) and any(
                            k.arg == "action" and isinstance(k.value, ast.Name) and k.value.id == "action"
                            for k in call.keywords):
                        wrappers.add(fn.name)
    assert "ledger_item_read" in wrappers
    literals: set[str] = set()
    families: set[str] = set()
    unread: list[str] = []
    object_types: set[str] = set()
    for path, tree in trees.items():
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     and isinstance(n.value, ast.Constant) for t in n.targets if isinstance(t, ast.Name)}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and _writes_ledger(n, wrappers)):
            value = next((k.value for k in call.keywords if k.arg == "action"), None)
            if value is None and _name(call) == "NewEntry" and call.args:
                value = call.args[0]
            kind = next((k.value for k in call.keywords if k.arg == "object_type"), None)
            if kind is None and _name(call) == "NewEntry" and len(call.args) > 1:
                kind = call.args[1]
            if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                object_types.add(kind.value)
            elif isinstance(kind, ast.Name) and kind.id in constants:
                object_types.add(constants[kind.id])
            todo = [value] if value is not None else []
            if not todo:
                unread.append(f"{path.relative_to(ROOT)}:{call.lineno}")
            while todo:
                v = todo.pop()
                if isinstance(v, ast.Constant) and isinstance(v.value, str):
                    literals.add(v.value)
                elif isinstance(v, ast.IfExp):
                    todo += [v.body, v.orelse]
                elif isinstance(v, ast.JoinedStr) and isinstance(v.values[0], ast.Constant):
                    families.add(str(v.values[0].value))
                elif isinstance(v, ast.Name) and v.id in constants:
                    literals.add(constants[v.id])
                elif not (isinstance(v, ast.Name) and v.id == "action"):  # a wrapper's own parameter
                    unread.append(f"{path.relative_to(ROOT)}:{call.lineno}: {ast.unparse(v)}")
    return literals, families, unread, object_types


def test_every_action_the_code_writes_has_words() -> None:
    literals, families, unread, object_types = _written_actions()
    assert unread == [], "ledger actions the test cannot read; write them as literals or register the family"
    assert len(literals) > 80
    assert sorted(literals - set(ACTIONS)) == []
    from lifecycle.domain import CertificateAction, ViolationKind

    expanded = {  # the families the code writes with a value in the code, each value
        "violation.": {f"violation.{k.value}" for k in ViolationKind},
        "certificate.": {f"certificate.{a.value}" for a in CertificateAction},
        "import.": {"import.items", "import.qti"},
        "application.": {"application.accepted", "application.refused"},  # the status of a new application
    }
    assert families == set(expanded), f"a new family of ledger actions: expand it here {families - set(expanded)}"
    assert sorted(set().union(*expanded.values()) - set(ACTIONS)) == []
    # and nothing is registered that no code writes (stale words hide a renamed action)
    assert sorted(a for a in ACTIONS if a not in literals and not any(a.startswith(f) for f in families)) == []
    # every kind of object the ledger records has a name (the drop-down, the object column)
    assert len(object_types) > 15 and sorted(object_types - set(OBJECT_TYPES)) == []


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


def test_a_stored_bank_label_shows_its_level_in_the_readers_words() -> None:
    """Entries keep the bank's label as written (in the writer's language); its level's title is
    a catalog word and reads in the reader's."""
    names = Names({})
    for stored in ("6-31-01-03 电工 五级/初级工", "6-31-01-03 电工 Level 5 (junior worker)"):
        e = _entry("blueprint.save", {"bank": stored, "part": "theory", "name": "标准方案", "version": 1},
                   object_type="bank", object_id="3")
        with i18n.use_locale("en"):
            assert "bank 6-31-01-03 电工 Level 5 (junior worker)" in str(describe(e, names))
        with i18n.use_locale("zh_CN"):
            assert "6-31-01-03 电工 五级/初级工" in str(describe(e, names)), str(describe(e, names))
