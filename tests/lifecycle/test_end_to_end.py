"""From registration to certificate on a small demo bank: registration by .xlsx import,
plan, sessions, rooms, tickets, proctors, examiners, responses, examiner scores, a violation,
publication over 5 working days with a holiday and an objection, release, certificates, QR
verification, revocation — and no certificate for the unsuccessful (附件15 第7条)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from sqlalchemy.orm import Session

from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import ItemType, Level, Part
from itembank.ledger import query_ledger, verify_ledger
from itembank.pool import load_pool
from lifecycle.codes import parse_certificate_code, validate_certificate_code
from lifecycle.domain import CertificateStatus, Outcome, RelationKind, ViolationKind
from lifecycle.errors import CertificateRefusedError, ConflictOfInterestError, PublicationError, StaffingError
from lifecycle.publication import publish_results, record_objection, release_results, resolve_objection, set_calendar_day
from lifecycle.registration import import_applications_xlsx
from lifecycle.certificates import (
    certificate_history,
    hand_over_certificate,
    issue_certificate,
    issue_certificates_for_plan,
    print_certificate,
    revoke_certificate,
    verify_certificate,
)
from lifecycle.scoring import (
    compute_part_result,
    enter_examiner_score,
    export_responses_sparse,
    get_result,
    record_responses,
    record_violation,
    settle_disputed_score,
)
from lifecycle.sessions import (
    add_room,
    admission_tickets,
    assign_proctors,
    assign_seats,
    check_staffing,
    create_exam_plan,
    create_exam_session,
    form_examiner_group,
    issue_admission_tickets,
)
from lifecycle.staff import declare_relation, issue_examiner_card, register_staff
from lifecycle.tickets_docx import render_admission_tickets

from .conftest import at, make_id
from .test_registration import _row, _sheet

SPEC = DemoBankSpec("electrician", Level.L5, n_theory=60, n_practical=4, n_past_sessions=0, n_compromised=0)
DAY = date(2026, 12, 5)  # a Saturday: exams are often held at weekends


def test_registration_to_certificate(session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    bank = build_demo(session, seed=5, specs=(SPEC,)).banks[0]
    occ = bank.occupation.code

    # -- registration (附件1 第6–8条) -----------------------------------------------------
    plan = create_exam_plan(session, code="2026-DG5-12", occupation_code=occ, level=5, actor="office",
                            title="2026年12月电工五级认定")
    names = ["甲", "乙", "丙", "丁", "戊"]
    sheet = _sheet([_row(n, make_id(100 + i), years=2, occupation_code=occ) for i, n in enumerate(names[:4])]
                   + [_row("戊", make_id(104), years=0.5, occupation_code=occ)])
    report = import_applications_xlsx(session, data=sheet, actor="clerk", plan_code=plan.code,
                                      applied_on=date(2026, 11, 2))
    assert [a.candidate.name for a in report.refused] == ["戊"]
    apps = {a.candidate.name: a for a in report.accepted}

    # -- sessions, rooms, tickets (附件1 第9–10条) ----------------------------------------
    theory = create_exam_session(session, plan_code=plan.code, code="2026-DG5-12-T", part=Part.THEORY,
                                 starts_at=at(DAY, 9), ends_at=at(DAY, 10, 30), place="实训楼A座", actor="office")
    practical = create_exam_session(session, plan_code=plan.code, code="2026-DG5-12-P", part=Part.PRACTICAL,
                                    starts_at=at(DAY, 14), ends_at=at(DAY, 16), place="电工实训中心", actor="office")
    add_room(session, session_code=theory.code, code="T01", capacity=2, location="A201", actor="office")
    add_room(session, session_code=theory.code, code="T02", capacity=2, location="A202", actor="office")
    add_room(session, session_code=practical.code, code="P01", capacity=4, location="工位区", actor="office")
    numbers = issue_admission_tickets(session, plan_code=plan.code, actor="office")
    assert len(numbers) == 4 and len(set(numbers)) == 4
    assert assign_seats(session, session_code=theory.code, actor="office") == 4
    assert assign_seats(session, session_code=practical.code, actor="office") == 4

    # -- staff: proctors (附件7) and examiners (附件2 第9–10条, 第16条) ---------------------
    proctors = [register_staff(session, name=f"监考{i}", actor="office").id for i in range(4)]
    assign_proctors(session, session_code=theory.code, room_code="T01", chief_staff_id=proctors[0],
                    deputy_staff_id=proctors[1], actor="office")
    assign_proctors(session, session_code=theory.code, room_code="T02", chief_staff_id=proctors[2],
                    deputy_staff_id=proctors[3], actor="office")
    assign_proctors(session, session_code=practical.code, room_code="P01", chief_staff_id=proctors[0],
                    deputy_staff_id=proctors[1], actor="office")
    examiners = [register_staff(session, name=n, organisation="供电公司", actor="office").id
                 for n in ("组长王", "考评李", "考评张", "考评赵")]
    issue_examiner_card(session, staff_id=examiners[0], grade=1, issued_on=date(2022, 1, 5), actor="office",
                        settings=settings)  # the leader's first card: 3+ years of examining
    for sid in examiners:
        issue_examiner_card(session, staff_id=sid, grade=1, issued_on=date(2025, 1, 5), actor="office",
                            settings=settings, occupation_code=occ)
    # 考评赵 taught 丙: he must stand aside (附件2 第8条(七))
    declare_relation(session, staff_id=examiners[3], candidate_id=apps["丙"].candidate.id,
                     kind=RelationKind.TEACHER_STUDENT, actor="office")
    with pytest.raises(ConflictOfInterestError, match="考评赵 与 丙（师生）"):
        form_examiner_group(session, session_code=practical.code, name="第一组", leader_staff_id=examiners[0],
                            member_staff_ids=examiners[1:], actor="office")
    form_examiner_group(session, session_code=practical.code, name="第一组", leader_staff_id=examiners[0],
                        member_staff_ids=examiners[1:3], actor="office")
    assert check_staffing(session, session_code=theory.code) == []
    assert check_staffing(session, session_code=practical.code) == []

    tickets = admission_tickets(session, plan_code=plan.code, settings=settings)
    doc = Document(io.BytesIO(render_admission_tickets(tickets)))
    text = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    for words in (numbers[0], "甲", make_id(100), "6-31-01-03 电工", "——", "五级/初级工", "2026年12月05日 09:00",
                  "实训楼A座", "T01 A201", "电工实训中心"):
        assert words in text, words

    # -- theory: responses scored against the keys of the issued versions (附件1 第25条) -----
    pool = load_pool(session, bank=bank)
    objective = [it for it in pool if it.item_type in (ItemType.SINGLE_CHOICE, ItemType.TRUE_FALSE)][:20]
    version_ids = [it.version_id for it in objective]
    keys = [list(it.content.key) for it in objective]

    def wrong(it):  # type: ignore[no-untyped-def]
        return ["F"] if it.content.key == ("T",) else ["T"] if it.content.key == ("F",) else \
            [next(o.label for o in it.content.options if o.label not in it.content.key)]

    answers = {
        "甲": keys,  # 100
        "乙": [k if i < 10 else wrong(it) for i, (k, it) in enumerate(zip(keys, objective))],  # 50: fails
        "丙": [k if i < 14 else wrong(it) for i, (k, it) in enumerate(zip(keys, objective))],  # 70
        "丁": keys,
    }
    for name, resp in answers.items():
        record_responses(session, application_id=apps[name].id, session_code=theory.code,
                         paper_code="2026-DG5-12-T-A", version_ids=version_ids, responses=resp, actor="marker",
                         settings=settings)
    # 丁 is warned twice: the paper is voided (附件14 第1条)
    for _ in range(2):
        applied = record_violation(session, application_id=apps["丁"].id, session_code=theory.code,
                                   kind=ViolationKind.WARNING, description="考试期间左顾右盼", actor="监考0",
                                   settings=settings)
    assert applied is ViolationKind.PAPER_VOIDED
    for name in answers:
        compute_part_result(session, application_id=apps[name].id, session_code=theory.code, actor="marker",
                            settings=settings)
    assert get_result(session, application_id=apps["乙"].id).outcome is Outcome.FAILED
    assert get_result(session, application_id=apps["丁"].id).outcome is Outcome.FAILED

    # -- practical: three examiners score independently, mean combined --------------------
    task = next(it for it in pool if it.part is Part.PRACTICAL)
    rubric = [r.points for r in task.content.rubric]
    for name in ("甲", "乙", "丙", "丁"):
        record_responses(session, application_id=apps[name].id, session_code=practical.code,
                         paper_code="2026-DG5-12-P-A", version_ids=[task.version_id], responses=[None], actor="office",
                         settings=settings)
    full = list(rubric)
    lower = [p * 0.7 for p in rubric]
    for sid in examiners[:3]:
        for name in ("甲", "乙", "丁"):
            enter_examiner_score(session, application_id=apps[name].id, session_code=practical.code,
                                 version_id=task.version_id, staff_id=sid, rubric_scores=full, actor=f"examiner{sid}",
                                 settings=settings)
    with pytest.raises(StaffingError, match="不是考试场次 .* 本考场的考评员"):
        enter_examiner_score(session, application_id=apps["丙"].id, session_code=practical.code,
                             version_id=task.version_id, staff_id=examiners[3], rubric_scores=full, actor="x",
                             settings=settings)
    # a relation declared after the group was formed still makes the examiner stand aside
    declare_relation(session, staff_id=examiners[1], candidate_id=apps["乙"].candidate.id,
                     kind=RelationKind.RELATIVE, actor="office")
    with pytest.raises(ConflictOfInterestError, match="考评李 须回避考生 乙"):
        enter_examiner_score(session, application_id=apps["乙"].id, session_code=practical.code,
                             version_id=task.version_id, staff_id=examiners[1], rubric_scores=full, actor="x",
                             settings=settings)
    combos = [enter_examiner_score(session, application_id=apps["丙"].id, session_code=practical.code,
                                   version_id=task.version_id, staff_id=sid, rubric_scores=s, actor="e",
                                   settings=settings)
              for sid, s in zip(examiners[:3], (full, full, lower))]
    assert combos[:2] == [None, None] and combos[2] is not None and combos[2].flagged  # 30% apart
    with pytest.raises(Exception, match="考评员评分不一致，由考评组长裁定"):
        compute_part_result(session, application_id=apps["丙"].id, session_code=practical.code, actor="e",
                            settings=settings)
    settle_disputed_score(session, application_id=apps["丙"].id, session_code=practical.code,
                          version_id=task.version_id, leader_staff_id=examiners[0], score=task.points * 0.8,
                          reason="复核录像，接线有两处不规范", actor="组长王")
    for name in ("甲", "乙", "丙", "丁"):
        compute_part_result(session, application_id=apps[name].id, session_code=practical.code, actor="e",
                            settings=settings)
    results = {n: get_result(session, application_id=apps[n].id) for n in ("甲", "乙", "丙", "丁")}
    assert results["甲"].outcome is Outcome.PASSED
    assert [p.score for p in results["甲"].parts] == [100.0, 100.0]
    assert results["丙"].outcome is Outcome.PASSED and results["丙"].parts[0].score == 70.0
    assert results["丙"].parts[1].score == 80.0
    assert results["乙"].outcome is Outcome.FAILED and str(results["乙"].reasons[0]) == "理论知识：50 分，低于合格线 60 分"
    assert results["丁"].outcome is Outcome.FAILED and "因违纪试卷作废" in str(results["丁"].reasons[0])

    # -- no certificate before release, nor ever for the unsuccessful -----------------------
    with pytest.raises(CertificateRefusedError, match="成绩尚未发布"):
        issue_certificate(session, application_id=apps["甲"].id, actor="cert", settings=settings)

    # -- publication: 5 working days, a holiday skipped, an objection (附件1 第26条) --------
    set_calendar_day(session, day=date(2026, 12, 14), kind="holiday", name="示例假日", actor="admin")
    pub = publish_results(session, plan_code=plan.code, starts_on=date(2026, 12, 10), actor="office",
                          settings=settings)
    assert pub.ends_on == date(2026, 12, 18) and pub.n_results == 4  # Fri 11, Tue 15 … Fri 18
    oid = record_objection(session, plan_code=plan.code, application_id=apps["乙"].id, raised_on=date(2026, 12, 11),
                           raised_by="乙", text="对理论成绩有异议，申请复核", actor="office")
    with pytest.raises(PublicationError, match="成绩公示至 2026年12月18日"):
        release_results(session, plan_code=plan.code, on=date(2026, 12, 18), actor="office", settings=settings)
    with pytest.raises(PublicationError, match="异议尚未答复"):
        release_results(session, plan_code=plan.code, on=date(2026, 12, 21), actor="office", settings=settings)
    resolve_objection(session, objection_id=oid, resolution="复核答题记录，成绩无误", actor="office")
    release_results(session, plan_code=plan.code, on=date(2026, 12, 21), actor="office", settings=settings)

    # -- certificates (附件3) ---------------------------------------------------------------
    certs = issue_certificates_for_plan(session, plan_code=plan.code, actor="cert", settings=settings,
                                        issued_on=date(2026, 12, 22))
    assert sorted(c.holder_name for c in certs) == ["丙", "甲"]
    for name in ("乙", "丁"):
        with pytest.raises(CertificateRefusedError, match="附件15 第7条"):
            issue_certificate(session, application_id=apps[name].id, actor="cert", settings=settings)
    for c in certs:
        assert validate_certificate_code(c.code) == [] and len(c.code) == 22
        parts = parse_certificate_code(c.code)
        assert parts["year"] == "26" and parts["level"] == "5" and parts["organisation"] == "0321"
        assert c.work_type_name == "——" and c.institution == "苏州信息职业技术学院"
    assert sorted(int(parse_certificate_code(c.code)["serial"]) for c in certs) == [1, 2]
    a = next(c for c in certs if c.holder_name == "甲")
    print_certificate(session, code=a.code, actor="cert", settings=settings)
    hand_over_certificate(session, code=a.code, actor="cert", settings=settings)
    ok = verify_certificate(session, payload=a.qr_payload, settings=settings)
    assert ok.valid and "甲" in str(ok.message)
    revoke_certificate(session, code=a.code, reason="发现替考（附件1 第32条）", actor="cert", settings=settings)
    revoked = verify_certificate(session, payload=a.qr_payload, settings=settings)
    assert not revoked.valid and "已撤回" in str(revoked.message)
    assert [h[0] for h in certificate_history(session, code=a.code)] == ["generate", "print", "issue", "revoke"]
    assert query_ledger(session, object_type="certificate", object_id=a.code)[-1].action == "certificate.revoke"

    # -- responses for the analysis issue -------------------------------------------------
    sparse = export_responses_sparse(session, paper_code="2026-DG5-12-T-A")
    assert sparse.dense().shape == (4, 20)
    assert sparse.dense()[list(sparse.application_ids).index(apps["甲"].id)].sum() == 20.0
    assert verify_ledger(session).ok
    assert get_result(session, application_id=apps["甲"].id).released
    assert CertificateStatus.REVOKED.value == "revoked"
