from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank.domain import BankRef, ClassicalStats, IrtModel, IrtParams, Part, VersionState
from itembank.errors import NotFoundError, ValidationError
from itembank.items import NewItem, add_enemies, add_items, revise_item, set_version_state
from itembank.orm import ItemUsageRecord
from itembank.pool import load_pool
from itembank.usage import mark_compromised, record_usage, sessions_used, usage_history

from .conftest import practical_task, single_choice


def _stocked(session: Session, bank: BankRef, n: int = 6) -> list:
    items = [
        NewItem(f"T{i:03d}", single_choice(stem=f"第{i}题（　）。", element=("A-01", "B-01")[i % 2]),
                classical=ClassicalStats(0.6, 0.3, 200) if i % 2 else None,
                irt=IrtParams(IrtModel.THREE_PL, a=1.1, b=-0.2 + i / 10, c=0.2, se_b=0.05) if i % 3 else None)
        for i in range(n)
    ] + [NewItem("P001", practical_task())]
    return add_items(session, bank=bank, items=items, actor="t", state=VersionState.ACCEPTED)


def test_pool_has_statistics_usage_and_enemies(session: Session, bank: BankRef) -> None:
    _stocked(session, bank)
    add_enemies(session, bank=bank, pairs=[("T000", "T001")], actor="m")
    pool = load_pool(session, bank=bank, part=Part.THEORY)
    assert [it.code for it in pool] == [f"T{i:03d}" for i in range(6)]
    t1 = pool[1]
    assert t1.classical == ClassicalStats(0.6, 0.3, 200)
    assert t1.irt is not None and t1.irt.model is IrtModel.THREE_PL and t1.irt.b == pytest.approx(-0.1)
    assert pool[0].irt is None and pool[0].classical is None
    assert pool[0].enemies == ("T001",) and pool[1].enemies == ("T000",)
    assert t1.content.element_codes == ("B-01",)
    assert {it.code for it in load_pool(session, bank=bank)} >= {"P001"}


def test_only_accepted_versions_are_eligible(session: Session, bank: BankRef) -> None:
    _stocked(session, bank, n=2)
    revise_item(session, bank=bank, code="T000", content=single_choice(stem="修订后（　）。"), actor="w")
    pool = load_pool(session, bank=bank, part=Part.THEORY)
    assert [(it.code, it.version) for it in pool] == [("T000", 1), ("T001", 1)]
    set_version_state(session, bank=bank, code="T000", version=2, state=VersionState.ACCEPTED, actor="c")
    pool = load_pool(session, bank=bank, part=Part.THEORY)
    assert [(it.code, it.version) for it in pool] == [("T000", 2), ("T001", 1)]
    set_version_state(session, bank=bank, code="T001", version=1, state=VersionState.RETIRED, actor="c")
    assert [it.code for it in load_pool(session, bank=bank, part=Part.THEORY)] == ["T000"]


def test_usage_counts_and_history(session: Session, bank: BankRef) -> None:
    items = _stocked(session, bank, n=4)
    vids = [it.version_id for it in items[:3]]
    record_usage(session, version_ids=vids, paper_code="2026-01-A", session_code="2026-01",
                 used_on=date(2026, 1, 10), actor="office")
    record_usage(session, version_ids=vids[:1], paper_code="2026-02-A", session_code="2026-02",
                 used_on=date(2026, 3, 5), actor="office")
    record_usage(session, version_ids=vids[:1], paper_code="2025-09-A", session_code="2025-09",
                 used_on=date(2025, 9, 1), actor="office")
    pool = {it.code: it for it in load_pool(session, bank=bank, part=Part.THEORY)}
    assert pool["T000"].usage.count == 3
    assert pool["T000"].usage.last_used_on == date(2026, 3, 5), "an older use does not move last_used back"
    assert pool["T001"].usage.count == 1 and pool["T003"].usage.count == 0
    hist = usage_history(session, bank=bank, code="T000")
    assert [h.paper_code for h in hist] == ["2025-09-A", "2026-01-A", "2026-02-A"]
    assert [s for s, _ in sessions_used(session, bank=bank)] == ["2026-02", "2026-01", "2025-09"]


def test_usage_validates_before_writing(session: Session, bank: BankRef) -> None:
    items = _stocked(session, bank, n=2)
    before = session.scalar(select(func.count()).select_from(ItemUsageRecord))
    with pytest.raises(NotFoundError, match="999999"):
        record_usage(session, version_ids=[items[0].version_id, 999999], paper_code="X", actor="o")
    with pytest.raises(ValidationError, match="有试题版本重复列出"):
        record_usage(session, version_ids=[items[0].version_id] * 2, paper_code="X", actor="o")
    with pytest.raises(ValidationError, match="试卷编号为空") as exc:
        record_usage(session, version_ids=[items[0].version_id], paper_code=" ", actor="o")
    assert exc.value.field == "paper_code"
    assert session.scalar(select(func.count()).select_from(ItemUsageRecord)) == before


def test_compromised_items_are_flagged_and_can_be_filtered(session: Session, bank: BankRef) -> None:
    _stocked(session, bank, n=3)
    with pytest.raises(ValidationError, match="请说明试题泄密的原因"):
        mark_compromised(session, bank=bank, codes=["T000"], reason="", actor="o")
    assert mark_compromised(session, bank=bank, codes=["T000", "T002"], reason="INC-1 泄密", actor="o") == 2
    pool = load_pool(session, bank=bank, part=Part.THEORY)
    assert [it.code for it in pool if it.usage.compromised] == ["T000", "T002"]
    assert [it.code for it in load_pool(session, bank=bank, part=Part.THEORY, include_compromised=False)] == ["T001"]
