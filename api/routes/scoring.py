"""Scoring and results (附件1 第25–26条), candidate violations (附件14).

The exam office records answer sheets (objective items are scored from the key), computes part
results and records the comprehensive review and violations. Examiners enter their own
independent scores (附件2 第8条(五)), only as the staff member their account is linked to and
only in the sessions where they sit in an examiner group; a group leader settles disputed
items (第10条)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import LifecycleSettingsDep, PagingDep, SessionDep, check_scope, require
from api.schemas.common import MAX_ID, CodePath, IdPath, Page, Text
from api.schemas.lifecycle import (
    CombinationOut,
    ComprehensiveReviewIn,
    ExaminerScoreIn,
    PartResultIn,
    PartResultOut,
    ResponsesIn,
    ResultOut,
    SettleIn,
    SheetOut,
    ViolationAppliedOut,
    ViolationIn,
    ViolationOut,
)
from itembank.domain import Actor, Role
from itembank.errors import PermissionDeniedError
from itembank.i18n import Message
from lifecycle import listing, registration, scoring, sessions
from lifecycle.accounts import staff_id_for_account
from lifecycle.domain import Outcome, ViolationKind

router = APIRouter(tags=["scoring"])
OfficeDep = Annotated[Actor, require(Role.EXAM_OFFICE)]
ExaminerDep = Annotated[Actor, require(Role.EXAMINER)]
ReaderDep = Annotated[Actor, require(Role.EXAM_OFFICE, Role.AUDITOR)]


def _office_session(session, actor: Actor, code: str):  # type: ignore[no-untyped-def]
    s = sessions.get_exam_session(session, code=code)
    check_scope(actor, s.occupation.code, Role.EXAM_OFFICE)
    return s


def _office_application(session, actor: Actor, application_id: int, *roles: Role):  # type: ignore[no-untyped-def]
    app = registration.get_application(session, application_id=application_id)
    check_scope(actor, app.occupation.code, *(roles or (Role.EXAM_OFFICE,)))
    return app


def _examiner(session, actor: Actor, session_code: str, *, leader: bool = False) -> int:  # type: ignore[no-untyped-def]
    """The staff id the examiner acts as, after checking they sit in (or lead) an examiner
    group of the session."""
    s = sessions.get_exam_session(session, code=session_code)
    check_scope(actor, s.occupation.code, Role.EXAMINER)
    staff_id = staff_id_for_account(session, username=actor.username)
    if staff_id is None:
        raise PermissionDeniedError(Message("{user} is not linked to a staff member (an examiner's record); ask an administrator to "
                                            "link the account.", user=actor.username))
    groups = listing.examiner_groups(session, session_code=session_code, staff_id=staff_id)
    if leader:
        groups = [g for g in groups if g.leader_staff_id == staff_id]
    if not groups:
        raise PermissionDeniedError(Message("{user} leads no examiner group of exam session {session}; examiners score only for their "
                                            "own groups (附件2 第8条).", user=actor.username, session=session_code)
                                    if leader else
                                    Message("{user} sits in no examiner group of exam session {session}; examiners score "
                                            "only for their own groups (附件2 第8条).", user=actor.username,
                                            session=session_code))
    return staff_id


@router.post("/exam-sessions/{session_code}/responses", response_model=SheetOut, status_code=201,
             summary="Record a candidate's answer sheet")
def record_responses(session_code: CodePath, body: ResponsesIn, session: SessionDep, actor: OfficeDep,
                     settings: LifecycleSettingsDep) -> SheetOut:
    """The answers to the issued paper's item versions in printed order; objective items are
    scored from the key at once, the others wait for the examiners."""
    _office_session(session, actor, session_code)
    sheet = scoring.record_responses(session, application_id=body.application_id, session_code=session_code,
                                     paper_code=body.paper_code, version_ids=body.version_ids,
                                     responses=body.responses, actor=actor.username, settings=settings)
    session.commit()
    return SheetOut(n_items=sheet.n_items, n_scored=sheet.n_scored, objective_points=sheet.objective_points,
                    pending_version_ids=list(sheet.pending_version_ids))


@router.post("/exam-sessions/{session_code}/scores", response_model=CombinationOut, status_code=201,
             summary="Enter my score for a candidate's item (examiner)")
def enter_score(session_code: CodePath, body: ExaminerScoreIn, session: SessionDep, actor: ExaminerDep,
                settings: LifecycleSettingsDep) -> CombinationOut:
    """Your independent score, one number per rubric point. Scores are never changed in place
    (附件15 第6条). The answer says whether enough examiners have scored the item."""
    staff_id = _examiner(session, actor, session_code)
    comb = scoring.enter_examiner_score(session, application_id=body.application_id, session_code=session_code,
                                        version_id=body.version_id, staff_id=staff_id,
                                        rubric_scores=body.rubric_scores, actor=actor.username, settings=settings)
    session.commit()
    if comb is None:
        return CombinationOut(complete=False)
    return CombinationOut(complete=True, score=comb.score, n_examiners=comb.n_examiners, spread=comb.spread,
                          flagged=comb.flagged, threshold=comb.threshold)


@router.post("/exam-sessions/{session_code}/scores/settle", response_model=CombinationOut,
             summary="Settle a disputed item (group leader)")
def settle(session_code: CodePath, body: SettleIn, session: SessionDep, actor: ExaminerDep) -> CombinationOut:
    """The group leader's final decision on a flagged item (附件2 第10条), with the reason."""
    staff_id = _examiner(session, actor, session_code, leader=True)
    scoring.settle_disputed_score(session, application_id=body.application_id, session_code=session_code,
                                  version_id=body.version_id, leader_staff_id=staff_id, score=body.score,
                                  reason=body.reason, actor=actor.username)
    session.commit()
    return CombinationOut(complete=True, score=body.score, flagged=False)


@router.post("/applications/{application_id}/part-results", response_model=PartResultOut,
             summary="Compute a candidate's part result")
def part_result(application_id: IdPath, body: PartResultIn, session: SessionDep, actor: OfficeDep,
                settings: LifecycleSettingsDep) -> PartResultOut:
    """The session's item scores totalled on the 100-point scale (附件1 第25条); refused while
    an item is unscored or a disagreement unsettled."""
    _office_application(session, actor, application_id)
    pr = scoring.compute_part_result(session, application_id=application_id, session_code=body.session_code,
                                     actor=actor.username, settings=settings)
    session.commit()
    return PartResultOut(part=pr.part, session_code=pr.session_code, raw_points=pr.raw_points,
                         max_points=pr.max_points, score=pr.score, status=pr.status, flagged=pr.flagged,
                         reason=pr.reason)


@router.post("/applications/{application_id}/comprehensive-review", response_model=ResultOut,
             summary="Record the comprehensive review (levels 2 and 1)")
def comprehensive_review(application_id: IdPath, body: ComprehensiveReviewIn, session: SessionDep,
                         actor: OfficeDep, settings: LifecycleSettingsDep) -> ResultOut:
    _office_application(session, actor, application_id)
    result = scoring.record_review(session, application_id=application_id, passed=body.passed, note=body.note,
                                   actor=actor.username, settings=settings)
    session.commit()
    return ResultOut.of(result)


@router.get("/applications/{application_id}/result", response_model=ResultOut, summary="A candidate's result")
def get_result(application_id: IdPath, session: SessionDep, actor: ReaderDep) -> ResultOut:
    _office_application(session, actor, application_id, Role.EXAM_OFFICE, Role.AUDITOR)
    return ResultOut.of(scoring.get_result(session, application_id=application_id))


@router.get("/exam-plans/{plan_code}/results", response_model=Page[ResultOut], summary="The results of a plan")
def plan_results(plan_code: CodePath, session: SessionDep, actor: ReaderDep, paging: PagingDep,
                 outcome: Outcome | None = None) -> dict:
    plan = sessions.get_exam_plan(session, code=plan_code)
    check_scope(actor, plan.occupation.code, Role.EXAM_OFFICE, Role.AUDITOR)
    found, total = listing.page_results(session, plan_code=plan_code, outcome=outcome.value if outcome else None,
                                        offset=paging.offset, limit=paging.limit)
    return paging.page([ResultOut.of(r) for r in found], total)


@router.post("/applications/{application_id}/violations", response_model=ViolationAppliedOut, status_code=201,
             summary="Record a candidate violation")
def record_violation(application_id: IdPath, body: ViolationIn, session: SessionDep, actor: OfficeDep,
                     settings: LifecycleSettingsDep) -> ViolationAppliedOut:
    """附件14: a warning (a second one in the sitting voids the paper), the paper voided, the
    sitting's score cancelled, or the candidate disqualified; a certificate already made is
    revoked when the outcome is no longer a pass (附件1 第32条)."""
    _office_application(session, actor, application_id)
    applied = scoring.record_violation(session, application_id=application_id, kind=body.kind,
                                       description=body.description, session_code=body.session_code,
                                       clause=body.clause, actor=actor.username, settings=settings)
    session.commit()
    return ViolationAppliedOut(recorded=body.kind, applied=ViolationKind(applied))


@router.get("/violations", response_model=Page[ViolationOut], summary="List candidate violations")
def list_violations(session: SessionDep, actor: ReaderDep, paging: PagingDep,
                    plan_code: Annotated[Text | None, Query(max_length=64)] = None,
                    application_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> dict:
    found, total = listing.page_violations(session, plan_code=plan_code, application_id=application_id,
                                           occupation_codes=actor.occupations_for(Role.EXAM_OFFICE, Role.AUDITOR), offset=paging.offset,
                                           limit=paging.limit)
    return paging.page([ViolationOut.of(v) for v in found], total)
