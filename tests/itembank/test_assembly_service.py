"""The bank side of assembly: blueprints stored and versioned, runs recorded, papers with
their exact item versions, re-checks, readiness, backups later, leak replacement."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

import assembly as asm
from itembank import assembly_service as svc
from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import BankRef, Level, PaperKind, Part
from itembank.errors import BankNotReadyError, ConflictError, NotFoundError, ValidationError
from itembank.items import revise_item, set_version_state
from itembank.ledger import query_ledger
from itembank.orm_assembly import PaperStatus, RunState
from itembank.readiness import set_minimum_rule
from itembank.usage import mark_compromised


def _bank(session: Session, n_theory: int = 700, ready: bool = True) -> BankRef:
    bank = build_demo(session, seed=21, specs=(DemoBankSpec("electrician", Level.L5, n_theory=n_theory,
                                                            n_practical=20, n_past_sessions=2,
                                                            n_compromised=3),)).banks[0]
    if ready:
        set_minimum_rule(session, part=Part.THEORY, minimum=n_theory // 2, actor="admin")
    return bank


def _mini(session: Session, bank: BankRef, name: str = "mini") -> svc.StoredBlueprint:
    rows, _ = svc.element_rows(session, bank=bank, part=Part.THEORY)
    bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 16, 16.0), asm.TypeRule("true_false", 4, 4.0)],
                              name=name, level=5, tolerance=0.5, min_tolerance=2.0,
                              exposure=asm.ExposureRule(exclude_recent_sessions=1))
    return svc.save_blueprint(session, bank=bank, blueprint=bp, actor="manager")


def test_blueprints_are_versioned_and_derived_from_the_element_table(session: Session) -> None:
    bank = _bank(session)
    first = _mini(session, bank)
    second = _mini(session, bank)
    assert (first.version, second.version) == (1, 2)
    assert svc.load_blueprint(session, bank=bank, part=Part.THEORY, name="mini").version == 2
    assert svc.load_blueprint(session, bank=bank, part=Part.THEORY, name="mini", version=1).id == first.id
    std = svc.derive_standard_blueprint(session, bank=bank, part=Part.THEORY, actor="manager")
    assert std.blueprint.n_items == 100 and std.element_table_version == 1
    codes = {r.code for r in std.blueprint.elements}
    assert {"A-01-01", "B-06"} <= codes
    with pytest.raises(NotFoundError, match="没有组卷方案“nope”") as nf:
        svc.load_blueprint(session, bank=bank, part=Part.THEORY, name="nope")
    assert nf.value.code == "blueprint_not_found"
    with pytest.raises(ValidationError, match="组卷方案有误，未能保存"):
        svc.save_blueprint(session, bank=bank, blueprint={"name": "x", "version": 1, "item_types": []}, actor="m")


def test_a_run_records_papers_with_their_versions_and_rechecks_clean(session: Session) -> None:
    bank = _bank(session)
    stored = _mini(session, bank)
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="manager",
                           params=svc.RunParams(n_forms=2, n_backups=1, seed=3, time_limit_s=60))
    assert run.state is RunState.FINISHED and run.outcome in ("optimal", "feasible")
    assert len(run.paper_codes) == 3 and run.report["report"]["rel_gap"] is not None
    views = [svc.get_paper(session, code=c) for c in run.paper_codes]
    assert [v.paper.kind for v in views] == [PaperKind.FORM, PaperKind.FORM, PaperKind.BACKUP]
    assert [v.paper.form_label for v in views] == ["A", "B", "备用1"]
    all_items = [it.code for v in views for it in v.paper.items]
    assert len(all_items) == len(set(all_items)) == 60, "disjoint by default"
    # printed order groups types in the national template's order: 一、单项选择题 二、判断题
    types = [it.item_type.value for it in views[0].paper.items]
    assert types == ["single_choice"] * 16 + ["true_false"] * 4
    for v in views:
        assert svc.recheck_paper(session, code=v.paper.code).ok
        assert all(r["ok"] is not False for r in v.checks["rows"])
    # a later revision does not change the stored paper: it keeps the versions it was built from
    item = views[0].paper.items[0]
    revise_item(session, bank=bank, code=item.code, content=item.content.__class__(
        **{**{f: getattr(item.content, f) for f in item.content.__dataclass_fields__}, "stem": item.content.stem + "（修订）"}),
        actor="writer")
    set_version_state(session, bank=bank, code=item.code, version=2, state=item.state.ACCEPTED, actor="committee")
    again = svc.get_paper(session, code=views[0].paper.code)
    assert again.paper.items[0].version == 1 and again.paper.items[0].content == item.content
    assert svc.recheck_paper(session, code=views[0].paper.code).ok
    assert [e.action for e in query_ledger(session, object_type="assembly_run")] == ["assembly.request", "assembly.finish"]


def test_same_seed_same_papers(session: Session) -> None:
    bank = _bank(session)
    stored = _mini(session, bank)
    a = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(n_forms=2, n_backups=0, seed=9))
    b = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(n_forms=2, n_backups=0, seed=9))
    items = lambda run: [[it.code for it in svc.get_paper(session, code=c).paper.items] for c in run.paper_codes]  # noqa: E731
    assert items(a) == items(b)


def test_exposure_and_compromised_items_stay_out(session: Session) -> None:
    bank = _bank(session)
    stored = _mini(session, bank)
    pool = svc.load_bank_pool(session, bank=bank, part=Part.THEORY)
    compromised = {c for c, it in pool.items.items() if it.usage.compromised}
    last = max(pool.session_dates)
    recent = {c for c, it in pool.items.items() if it.usage.last_used_on == last}
    assert compromised and recent
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(n_forms=2, n_backups=0))
    used = {it.code for c in run.paper_codes for it in svc.get_paper(session, code=c).paper.items}
    assert not used & compromised
    assert not used & recent, "items used in the last session are excluded by the blueprint"


def test_official_runs_need_a_ready_bank_practice_is_ledgered(session: Session) -> None:
    bank = _bank(session, ready=False)
    stored = _mini(session, bank)
    with pytest.raises(BankNotReadyError, match="1200"):
        svc.run_assembly(session, bank=bank, blueprint=stored, actor="m", params=svc.RunParams())
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="trainer",
                           params=svc.RunParams(n_forms=1, n_backups=0, practice=True))
    assert run.practice and run.paper_codes
    assert query_ledger(session, action="readiness.override")[-1].actor == "trainer"


def test_bad_parameters_are_listed(session: Session) -> None:
    bank = _bank(session)
    stored = _mini(session, bank)
    with pytest.raises(ValidationError) as exc:
        svc.run_assembly(session, bank=bank, blueprint=stored, actor="m",
                         params=svc.RunParams(n_forms=0, n_backups=11, solver="gurobi", time_limit_s=0))
    assert [e.field for e in exc.value.errors] == ["n_forms", "n_backups", "solver", "time_limit_s"]
    text = "\n".join(exc.value.listed())
    assert "试卷数：0 有误，正式试卷为 1 到 20 份" in text and "求解器：“gurobi”不是可用的求解器" in text


def test_an_infeasible_blueprint_finishes_with_a_diagnosis(session: Session) -> None:
    bank = _bank(session)
    rows, _ = svc.element_rows(session, bank=bank, part=Part.THEORY)
    bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 16, 16.0), asm.TypeRule("true_false", 4, 4.0)],
                              name="greedy", level=5, tolerance=0.5, min_tolerance=2.0)
    bp = bp.with_changes(elements=tuple(
        r if r.code != "A-01-02" else asm.ElementRule(code=r.code, min=6, max=8, parent_code=r.parent_code,
                                                      importance=r.importance, weight=r.weight)
        for r in bp.elements))
    stored = svc.save_blueprint(session, bank=bank, blueprint=bp, actor="m")
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m",
                           params=svc.RunParams(n_forms=3, n_backups=0, time_limit_s=60))
    assert run.outcome == "infeasible" and not run.paper_codes
    assert "A-01-02" in str(run.message) or any("A-01-02" in str(d) for d in run.report["diagnosis"])
    assert str(run.message).startswith("无解：本题库无法满足组卷方案：未组出试卷。")


def test_backups_later_against_the_fixed_papers(session: Session) -> None:
    bank = _bank(session)
    stored = _mini(session, bank)
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(n_forms=2, n_backups=0))
    later = svc.assemble_backups(session, run_id=run.id, n_backups=1, actor="m")
    assert len(later.paper_codes) == 1
    backup = svc.get_paper(session, code=later.paper_codes[0])
    assert backup.paper.kind is PaperKind.BACKUP
    fixed = {it.code for c in run.paper_codes for it in svc.get_paper(session, code=c).paper.items}
    assert not fixed & {it.code for it in backup.paper.items}


def test_leak_replacement_excludes_the_leaked_items(session: Session) -> None:
    bank = _bank(session)
    stored = _mini(session, bank)
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(n_forms=2, n_backups=0))
    leaked = svc.get_paper(session, code=run.paper_codes[0])
    with pytest.raises(ConflictError, match="请先将其标记为泄密"):
        svc.replace_leaked_paper(session, code=leaked.paper.code, actor="office")
    svc.set_paper_status(session, code=leaked.paper.code, status=PaperStatus.LEAKED, reason="INC-1", actor="office")
    mark_compromised(session, bank=bank, codes=[it.code for it in leaked.paper.items], reason="INC-1", actor="office")
    new = svc.replace_leaked_paper(session, code=leaked.paper.code, actor="office")
    assert new is not None and new.replaces == leaked.paper.code
    assert not {it.code for it in new.paper.items} & {it.code for it in leaked.paper.items}
    other = svc.get_paper(session, code=run.paper_codes[1])
    assert not {it.code for it in new.paper.items} & {it.code for it in other.paper.items}
    assert svc.get_paper(session, code=run.paper_codes[1]).status is PaperStatus.ASSEMBLED, "sealed papers unchanged"


def test_a_centre_sets_its_section_order(session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bank = _bank(session)
    stored = _mini(session, bank)
    monkeypatch.setenv("ITEMBANK_SECTION_ORDER", "true_false")
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m",
                           params=svc.RunParams(n_forms=1, n_backups=0, seed=3, time_limit_s=60))
    types = [it.item_type.value for it in svc.get_paper(session, code=run.paper_codes[0]).paper.items]
    assert types == ["true_false"] * 4 + ["single_choice"] * 16
    monkeypatch.setenv("ITEMBANK_SECTION_ORDER", "true_false,no_such_type")
    with pytest.raises(ValidationError) as e:
        svc.run_assembly(session, bank=bank, blueprint=stored, actor="m", params=svc.RunParams(n_forms=1, n_backups=0))
    assert e.value.text.params["value"] == "no_such_type"


def test_practical_papers_allow_the_time_their_tasks_take(session: Session) -> None:
    """考核时间 of every practical paper and backup: the standard blueprint fixes it (180 min
    at level 5) and assembly holds main and backup papers to it, their tasks adding up to it;
    without a fixed time, each paper allows what its tasks take. A run cannot print another
    time."""
    bank = _bank(session)
    stored = svc.derive_standard_blueprint(session, bank=bank, part=Part.PRACTICAL, actor="m")
    assert stored.blueprint.time_total_s == 180 * 60
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m",
                           params=svc.RunParams(n_forms=1, n_backups=1, seed=3, time_limit_s=60))
    assert len(run.paper_codes) == 2, run.message
    for code in run.paper_codes:
        paper = svc.get_paper(session, code=code).paper
        total = sum(it.content.time_limit_min for it in paper.items)  # type: ignore[misc]
        assert paper.time_allowed_min == total == 180
    free = svc.save_blueprint(session, bank=bank, blueprint=stored.blueprint.with_changes(time_total_s=None),
                              actor="m")
    run = svc.run_assembly(session, bank=bank, blueprint=free, actor="m",
                           params=svc.RunParams(n_forms=1, n_backups=1, seed=3, time_limit_s=60))
    for code in run.paper_codes:
        paper = svc.get_paper(session, code=code).paper
        assert paper.time_allowed_min == sum(it.content.time_limit_min for it in paper.items)  # type: ignore[misc]
    with pytest.raises(ValidationError) as e:
        svc.run_assembly(session, bank=bank, blueprint=stored, actor="m",
                         params=svc.RunParams(n_forms=1, n_backups=0, seed=4, time_allowed_min=300))
    assert [x.field for x in e.value.errors] == ["time_allowed_min"]
