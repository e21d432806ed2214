"""Sealed papers: seal, refuse early or one-person opening, two-person opening, download,
leak with backup activation and replacement, integrity, atomicity, concurrency (issue 6)."""

from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import docx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

import assembly as asm
from itembank import assembly_service as asvc
from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import Actor, BankRef, Level, Part, Role
from itembank.errors import ConflictError, PermissionDeniedError
from itembank.ledger import query_ledger, verify_ledger
from itembank.orm import ItemUsageRecord
from itembank.orm_sealing import SealedDocumentRecord, SealedPaperRecord, SealRole, SealState
from itembank.pool import load_pool
from itembank.readiness import set_minimum_rule
from lifecycle import sealing
from lifecycle.config import LifecycleSettings
from lifecycle.sessions import create_exam_plan, create_exam_session

from .conftest import CST

KEY = base64.b64encode(bytes(range(32))).decode()
START = datetime(2026, 12, 12, 9, 0, tzinfo=CST)
OFFICE1 = Actor("office1", frozenset({Role.EXAM_OFFICE}), frozenset({"6-31-01-03"}))
OFFICE2 = Actor("office2", frozenset({Role.EXAM_OFFICE}), None)
WRITER = Actor("writer1", frozenset({Role.ITEM_WRITER}))



@pytest.fixture()
def seal_settings(tmp_path) -> LifecycleSettings:  # type: ignore[no-untyped-def]
    return LifecycleSettings(seal_master_key=SecretStr(KEY), institution="苏州信息职业技术学院",
                             seal_key_file=str(tmp_path / "unused.key"), _env_file=None)


def _mini_blueprint(session: Session, bank: BankRef, n_single: int = 16, n_tf: int = 4) -> asvc.StoredBlueprint:
    rows, _ = asvc.element_rows(session, bank=bank, part=Part.THEORY)
    bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", n_single, float(n_single)),
                                     asm.TypeRule("true_false", n_tf, float(n_tf))],
                              name="mini", level=int(bank.level), tolerance=0.5, min_tolerance=2.0)
    return asvc.save_blueprint(session, bank=bank, blueprint=bp, actor="manager")


def _stock(session: Session, n_theory: int = 400) -> BankRef:
    summary = build_demo(session, seed=11, specs=(DemoBankSpec("electrician", Level.L5, n_theory=n_theory,
                                                               n_practical=20, n_past_sessions=0, n_compromised=0),))
    set_minimum_rule(session, part=Part.THEORY, minimum=n_theory // 2, actor="admin")
    return summary.banks[0]


def _exam_session(session: Session, code: str = "2026-DG5-S1", start: datetime = START) -> str:
    plan = f"PLAN-{code}"
    create_exam_plan(session, code=plan, occupation_code="6-31-01-03", level=5, actor="office1")
    create_exam_session(session, plan_code=plan, code=code, part="theory", starts_at=start,
                        ends_at=start + timedelta(hours=2), place="实训楼A301", actor="office1")
    return code


@dataclass
class Sealed:
    bank: BankRef
    result: sealing.SealingResult


@pytest.fixture()
def sealed(session: Session, seal_settings: LifecycleSettings) -> Sealed:
    bank = _stock(session)
    _mini_blueprint(session, bank)
    code = _exam_session(session)
    result = sealing.seal_papers(session, exam_session_code=code, actor=OFFICE1, settings=seal_settings,
                                 n_backups=1, time_limit_s=30)
    return Sealed(bank=bank, result=result)


def test_sealing_stores_encrypted_documents_and_records_usage(session: Session, sealed: Sealed,
                                                              seal_settings: LifecycleSettings) -> None:
    main, (backup,) = sealed.result.main, sealed.result.backups
    assert main.role is SealRole.MAIN and main.state is SealState.SEALED
    assert backup.role is SealRole.BACKUP and backup.state is SealState.STANDBY
    assert [d.kind for d in main.documents] == ["paper", "answer_key"]
    assert main.window_opens_at == START - timedelta(minutes=30)
    # the main paper's items are used once, in this session; the backup's not yet
    usage = session.execute(select(ItemUsageRecord.paper_code, func.count()).group_by(ItemUsageRecord.paper_code)).all()
    assert dict(usage) == {main.paper_code: 20}
    # nothing readable at rest: the stored bytes are not the document, and a wrong key fails
    doc = session.scalar(select(SealedDocumentRecord).where(SealedDocumentRecord.name == main.documents[0].name))
    assert not doc.ciphertext.startswith(b"PK")
    wrong = LifecycleSettings(seal_master_key=SecretStr(base64.b64encode(b"x" * 32).decode()), _env_file=None)
    assert sealing.verify_sealed(session, exam_session_code=main.exam_session_code, paper_code=main.paper_code,
                                 settings=wrong)
    assert sealing.verify_sealed(session, exam_session_code=main.exam_session_code, paper_code=main.paper_code,
                                 settings=seal_settings) == []
    seals = query_ledger(session, action="paper.seal")
    assert {e.object_id for e in seals} == {main.paper_code, backup.paper_code}
    assert seals[0].details["manifest_sha256"]


def test_opening_is_refused_before_the_window_and_by_one_person(session: Session, sealed: Sealed,
                                                                seal_settings: LifecycleSettings) -> None:
    main = sealed.result.main
    args = dict(exam_session_code=main.exam_session_code, paper_code=main.paper_code, settings=seal_settings)
    with pytest.raises(sealing.OpeningRefusedError, match="时间未到"):
        sealing.confirm_opening(session, actor=OFFICE1, now=START - timedelta(minutes=31), **args)
    view = sealing.confirm_opening(session, actor=OFFICE1, now=START - timedelta(minutes=20), **args)
    assert view.state is SealState.SEALED and [u for u, _ in view.confirmations] == ["office1"]
    with pytest.raises(sealing.OpeningRefusedError, match="须由另一名考务人员再确认"):
        sealing.confirm_opening(session, actor=OFFICE1, now=START - timedelta(minutes=19), **args)
    with pytest.raises(sealing.OpeningRefusedError, match="须由两名考务人员在启封时段内确认启封后"):
        sealing.open_document(session, name=main.documents[0].name, actor=OFFICE1,
                              exam_session_code=main.exam_session_code, paper_code=main.paper_code,
                              settings=seal_settings)
    with pytest.raises(PermissionDeniedError, match="两名启封人都必须是该职业的考务人员"):
        sealing.confirm_opening(session, actor=WRITER, now=START, **args)
    with pytest.raises(sealing.OpeningRefusedError, match="尚未启用"):
        sealing.confirm_opening(session, actor=OFFICE2, now=START, exam_session_code=main.exam_session_code,
                                paper_code=sealed.result.backups[0].paper_code, settings=seal_settings)


def test_two_person_opening_releases_the_documents(session: Session, sealed: Sealed,
                                                   seal_settings: LifecycleSettings) -> None:
    main = sealed.result.main
    args = dict(exam_session_code=main.exam_session_code, paper_code=main.paper_code, settings=seal_settings)
    sealing.confirm_opening(session, actor=OFFICE1, now=START - timedelta(minutes=10), **args)
    view = sealing.confirm_opening(session, actor=OFFICE2, now=START - timedelta(minutes=5), **args)
    assert view.state is SealState.OPENED and view.opened_at is not None
    content, info = sealing.open_document(session, name=main.documents[0].name, actor=OFFICE2, **args)
    assert info.kind == "paper"
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
    paper = asvc.get_paper(session, code=main.paper_code).paper
    assert all(it.content.stem[:12] in text for it in paper.items if it.content.stem[:12] and "（　）" not in it.content.stem[:12])
    downloads = query_ledger(session, action="paper.download")
    assert [(e.actor, e.details["document"]) for e in downloads] == [("office2", main.documents[0].name)]
    assert verify_ledger(session).ok


def test_the_window_closes(session: Session, sealed: Sealed, seal_settings: LifecycleSettings) -> None:
    main = sealed.result.main
    with pytest.raises(sealing.OpeningRefusedError, match="启封时段已于 .* 结束"):
        sealing.confirm_opening(session, actor=OFFICE1, now=START + timedelta(hours=3),
                                exam_session_code=main.exam_session_code, paper_code=main.paper_code,
                                settings=seal_settings)


def test_a_session_gets_one_sealed_paper(session: Session, sealed: Sealed, seal_settings: LifecycleSettings) -> None:
    with pytest.raises(ConflictError, match="已有密封试卷"):
        sealing.seal_papers(session, exam_session_code=sealed.result.exam_session_code, actor=OFFICE1,
                            settings=seal_settings)


def test_leak_voids_compromises_activates_backup_and_replaces_it(session: Session, sealed: Sealed,
                                                                 seal_settings: LifecycleSettings) -> None:
    main, backup = sealed.result.main, sealed.result.backups[0]
    leaked_items = {it.code for it in asvc.get_paper(session, code=main.paper_code).paper.items}
    inc = sealing.report_incident(session, exam_session_code=main.exam_session_code, paper_code=main.paper_code,
                                  kind="leak", description="试卷袋运输途中被拆启", actor=OFFICE1,
                                  settings=seal_settings, time_limit_s=30)
    assert inc.actions["voided"] == [main.exam_session_code]
    assert inc.actions["compromised_items"] == len(leaked_items)
    assert inc.actions["activated_backup"] == backup.paper_code
    replacement = inc.actions["replacement"]
    assert replacement and replacement not in (main.paper_code, backup.paper_code)
    views = {v.paper_code: v for v in sealing.sealed_papers_of(session, exam_session_code=main.exam_session_code,
                                                                 settings=seal_settings)}
    assert views[main.paper_code].state is SealState.VOID
    assert views[backup.paper_code].state is SealState.SEALED  # activated: openable by two people
    assert views[main.paper_code].state_reason == f"{inc.code} 泄密：试卷袋运输途中被拆启"
    assert views[backup.paper_code].state_reason == f"已启用（{inc.code} 泄密：试卷袋运输途中被拆启）"
    assert views[replacement].state is SealState.STANDBY
    new_items = {it.code for it in asvc.get_paper(session, code=replacement).paper.items}
    assert not new_items & leaked_items
    pool = {it.code: it for it in load_pool(session, bank=sealed.bank, part=Part.THEORY)}
    assert all(pool[c].usage.compromised for c in leaked_items)
    # the activated backup is now issued: its usage is recorded
    assert session.scalar(select(func.count()).select_from(ItemUsageRecord)
                          .where(ItemUsageRecord.paper_code == backup.paper_code)) == 20
    # the leaked paper can never be opened
    with pytest.raises(sealing.OpeningRefusedError, match="已作废"):
        sealing.confirm_opening(session, actor=OFFICE1, now=START, exam_session_code=main.exam_session_code,
                                paper_code=main.paper_code, settings=seal_settings)
    assert [i.code for i in sealing.list_incidents(session, exam_session_code=main.exam_session_code)] == [inc.code]


def test_tampered_ciphertext_is_detected(session: Session, sealed: Sealed, seal_settings: LifecycleSettings) -> None:
    main = sealed.result.main
    doc = session.scalar(select(SealedDocumentRecord).where(SealedDocumentRecord.name == main.documents[1].name))
    doc.ciphertext = doc.ciphertext[:-1] + bytes([doc.ciphertext[-1] ^ 1])
    session.flush()
    problems = sealing.verify_sealed(session, exam_session_code=main.exam_session_code, paper_code=main.paper_code,
                                     settings=seal_settings)
    assert len(problems) == 1 and main.documents[1].name in str(problems[0])


def test_a_failed_sealing_stores_nothing(session: Session, seal_settings: LifecycleSettings,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bank = _stock(session)
    _mini_blueprint(session, bank)
    code = _exam_session(session)
    calls = {"n": 0}
    real = sealing.export_paper

    def flaky(paper, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full while rendering the backup")
        return real(paper, **kw)

    monkeypatch.setattr(sealing, "export_paper", flaky)
    with pytest.raises(OSError), session.begin_nested():
        sealing.seal_papers(session, exam_session_code=code, actor=OFFICE1, settings=seal_settings, time_limit_s=30)
    assert session.scalar(select(func.count()).select_from(SealedPaperRecord)) == 0
    assert session.scalar(select(func.count()).select_from(ItemUsageRecord)) == 0
    assert not query_ledger(session, action="paper.seal")


def test_concurrent_requests_never_issue_a_paper_twice(fresh_engine: Engine, seal_settings: LifecycleSettings) -> None:
    """20 sessions of one bank request papers at once from 14 pre-assembled disjoint papers:
    14 get distinct papers with no item in two of them, 6 get a clear refusal, and every
    usage record is there."""
    maker = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    n_sessions, n_papers = 20, 14
    with maker() as s, s.begin():
        bank = _stock(s, n_theory=800)
        stored = _mini_blueprint(s, bank, n_single=12, n_tf=4)
        run = asvc.run_assembly(s, bank=bank, blueprint=stored, actor="manager",
                                params=asvc.RunParams(n_forms=n_papers, n_backups=0, time_limit_s=120))
        assert len(run.paper_codes) == n_papers, run.message
        codes = [_exam_session(s, f"S{i:02d}", START + timedelta(days=i)) for i in range(n_sessions)]
    results: dict[str, object] = {}
    barrier = threading.Barrier(n_sessions)

    def request(code: str) -> None:
        barrier.wait()
        try:
            with maker() as s, s.begin():
                r = sealing.seal_papers(s, exam_session_code=code, actor=OFFICE1, settings=seal_settings,
                                        n_backups=0, assemble_if_needed=False)
            results[code] = r.main.paper_code
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            results[code] = e

    threads = [threading.Thread(target=request, args=(c,)) for c in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    issued = [v for v in results.values() if isinstance(v, str)]
    refused = [v for v in results.values() if not isinstance(v, str)]
    assert len(issued) == n_papers and len(set(issued)) == n_papers
    assert len(refused) == n_sessions - n_papers
    assert all(isinstance(e, ConflictError) and "的试卷不足" in str(e) for e in refused)
    with maker() as s:
        per_item = s.execute(select(ItemUsageRecord.item_id, func.count()).group_by(ItemUsageRecord.item_id)).all()
        assert per_item and max(n for _, n in per_item) == 1, "an item was issued twice"
        assert sum(n for _, n in per_item) == n_papers * 16
        assert verify_ledger(s).ok
