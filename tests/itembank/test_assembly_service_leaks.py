"""Issue 19 on the bank side: a replacement after a leak, and a backup added later, respect
every paper still in use for the bank and part (the run's papers, later backups, earlier
replacements, other runs' papers sealed for sessions that have not ended), and never bring
back an item of a leaked paper or an enemy of one. Checked here by an independent function
that reads the papers and enemies from the database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import combinations

from sqlalchemy import select
from sqlalchemy.orm import Session

import assembly as asm
from itembank import assembly_service as svc
from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import BankRef, Level, PaperKind, Part
from itembank.items import enemy_codes
from itembank.orm import ItemRecord
from itembank.orm_assembly import PaperStatus
from itembank.orm_lifecycle import ExamPlanRecord, ExamSessionRecord
from itembank.orm_sealing import SealedPaperRecord, SealRole, SealState
from itembank.readiness import set_minimum_rule
from itembank.usage import mark_compromised

THETAS = (-1.0, 0.0, 1.0)


def _bank(session: Session) -> BankRef:
    bank = build_demo(session, seed=21, specs=(DemoBankSpec("electrician", Level.L5, n_theory=700,
                                                            n_practical=20, n_past_sessions=2,
                                                            n_compromised=3),)).banks[0]
    set_minimum_rule(session, part=Part.THEORY, minimum=350, actor="admin")
    return bank


def _blueprint(session: Session, bank: BankRef, *, max_overlap: int) -> svc.StoredBlueprint:
    """A 20-item paper with a maximin objective: every paper wants the same most informative
    items, so only the overlap rule keeps a replacement away from the papers in use."""
    rows, _ = svc.element_rows(session, bank=bank, part=Part.THEORY)
    bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 16, 16.0), asm.TypeRule("true_false", 4, 4.0)],
                              name=f"leaks{max_overlap}", level=5, tolerance=0.5, min_tolerance=2.0,
                              irt=asm.IrtRule("maximin", thetas=THETAS), max_overlap=max_overlap)
    return svc.save_blueprint(session, bank=bank, blueprint=bp, actor="manager")


def _items(session: Session, code: str) -> set[str]:
    return {it.code for it in svc.get_paper(session, code=code).paper.items}


def _leak(session: Session, bank: BankRef, code: str, *, flag_items: bool) -> None:
    svc.set_paper_status(session, code=code, status=PaperStatus.LEAKED, reason="INC-7", actor="office")
    if flag_items:
        mark_compromised(session, bank=bank, codes=sorted(_items(session, code)), reason="INC-7", actor="office")


def _seal_for_session(session: Session, bank: BankRef, code: str, *, ends_in: timedelta) -> None:
    """Issue paper ``code`` to an exam session ending ``ends_in`` from now (negative: ended)."""
    paper = svc.get_paper(session, code=code)
    now = datetime.now(timezone.utc)
    plan = ExamPlanRecord(code=f"PLAN-{code}", bank_id=bank.id, title="plan")
    session.add(plan)
    session.flush()
    sitting = ExamSessionRecord(code=f"S-{code}", plan_id=plan.id, bank_id=bank.id, level=5, part="theory",
                                starts_at=now + ends_in - timedelta(hours=2), ends_at=now + ends_in, place="考点一")
    session.add(sitting)
    session.flush()
    session.add(SealedPaperRecord(paper_id=paper.id, exam_session_id=sitting.id, role=SealRole.MAIN,
                                  state=SealState.SEALED, wrapped_key=b"k", key_id="test", manifest={},
                                  manifest_sha256="0" * 64, sealed_by="office"))
    session.flush()


def independent_check(session: Session, *, new: str, in_use: list[str], leaked: list[str],
                      max_overlap: int) -> None:
    """The new paper against every paper in use and every leaked paper, from the database:
    blueprint rows (re-check on its own snapshot), overlap with each paper in use, no item of
    a leaked paper and no enemy of one."""
    assert svc.recheck_paper(session, code=new).ok
    items = _items(session, new)
    for code in in_use:
        shared = items & _items(session, code)
        assert len(shared) <= max_overlap, (new, code, sorted(shared))
    gone = set().union(*(_items(session, code) for code in leaked)) if leaked else set()
    for code in sorted(gone):
        item_id = session.scalar(select(ItemRecord.id).where(ItemRecord.code == code))
        gone |= set(enemy_codes(session, item_id=item_id))
    assert not items & gone, sorted(items & gone)


def test_chained_leaks_on_the_bank(session: Session) -> None:
    """Leak A, then its replacement, then paper B: no replacement brings back an item of any
    leaked paper (nor an enemy of one), even when nobody flagged the items compromised, and
    each replacement keeps the overlap rule with every paper still in use."""
    bank = _bank(session)
    stored = _blueprint(session, bank, max_overlap=0)
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m",
                           params=svc.RunParams(n_forms=2, n_backups=1, seed=1, time_limit_s=60))
    a, b, backup = run.paper_codes
    leaked: list[str] = []
    in_use = [a, b, backup]
    replacement = ""
    for victim in (a, "the replacement", b):
        code = replacement if victim == "the replacement" else victim
        _leak(session, bank, code, flag_items=False)
        leaked.append(code)
        in_use.remove(code)
        new = svc.replace_leaked_paper(session, code=code, actor="office", time_limit_s=60)
        assert new is not None and new.replaces == code
        assert new.paper.kind is PaperKind.BACKUP
        replacement = new.paper.code
        independent_check(session, new=replacement, in_use=in_use, leaked=leaked, max_overlap=0)
        # the run says which papers it respected, and the paper keeps its parallelism report
        replacement_run = svc.get_run(session, run_id=new.run_id)
        assert sorted(replacement_run.params["papers_in_use"]) == sorted(in_use)
        assert sorted(replacement_run.params["leaked_before"]) == sorted(leaked[:-1])
        par = new.checks["parallelism"]
        assert sorted(par["compared_with"]) == sorted(in_use)
        info = next(c for c in par["curves"] if c["metric"] == "information")
        assert len(info["in_use"]) == len(in_use) and len(info["new"]) == len(THETAS)
        in_use.append(replacement)
    # every pair of papers still in use keeps the rule
    for x, y in combinations(in_use, 2):
        assert not _items(session, x) & _items(session, y)


def test_a_leak_while_later_backups_and_other_runs_papers_are_in_use(session: Session) -> None:
    """Paper A leaks while a backup added later to its run and the papers of another run,
    sealed for a session that has not ended, are in use: the replacement keeps the overlap
    allowance with each of them. A paper sealed for a session that has ended, and a voided
    one, do not constrain it."""
    bank = _bank(session)
    stored = _blueprint(session, bank, max_overlap=2)
    first = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m",
                             params=svc.RunParams(n_forms=2, n_backups=0, seed=2, time_limit_s=60))
    a, b = first.paper_codes
    later = svc.assemble_backups(session, run_id=first.id, n_backups=1, actor="m", time_limit_s=60)
    (late_backup,) = later.paper_codes
    independent_check(session, new=late_backup, in_use=[a, b], leaked=[], max_overlap=2)
    # another run of the same bank and part: it took the same good items as the first run
    other = svc.run_assembly(session, bank=bank, blueprint=stored, actor="m",
                             params=svc.RunParams(n_forms=2, n_backups=0, seed=3, time_limit_s=60))
    live, ended = other.paper_codes
    assert len(_items(session, live) & _items(session, a)) > 2, "the test needs a rival for the same items"
    _seal_for_session(session, bank, live, ends_in=timedelta(days=3))
    _seal_for_session(session, bank, ended, ends_in=timedelta(days=-1))
    in_use = svc.papers_in_use(session, bank_id=bank.id, part=Part.THEORY, run_id=first.id)
    assert [p.code for p in in_use.family] == [a, b, late_backup]
    assert [p.code for p in in_use.others] == [live]

    _leak(session, bank, a, flag_items=True)
    new = svc.replace_leaked_paper(session, code=a, actor="office", time_limit_s=60)
    assert new is not None
    independent_check(session, new=new.paper.code, in_use=[b, late_backup, live], leaked=[a], max_overlap=2)
    # the ended session's paper was free to share items: the replacement is not held to it
    rec = svc.get_run(session, run_id=new.run_id)
    assert ended not in rec.params["papers_in_use"]

    # a later backup for the first run respects the replacement and the live paper too
    more = svc.assemble_backups(session, run_id=first.id, n_backups=1, actor="m", time_limit_s=60)
    (second_backup,) = more.paper_codes
    independent_check(session, new=second_backup, in_use=[b, late_backup, new.paper.code, live],
                      leaked=[a], max_overlap=2)
