"""Scoring and results (附件1 第25–26条), candidate violations (附件14).

Theory papers are scored from the recorded responses against the key of the issued item
versions; subjective items and practical tasks are scored by each examiner of the group
independently (附件2 第8条(五)) on the rubric's points, combined by ``scoring_rules``
(mean; large disagreement flagged for the group leader, 附件2 第10条). Each part is put on
the 100-point scale and passes at 60; levels 2 and 1 add the defence and the comprehensive
review. Responses are also the analysis issue's input (``export_responses_sparse``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank import ledger
from itembank.domain import ItemType, Level, Part
from itembank.orm import ItemVersionRecord
from itembank.orm_lifecycle import (
    AdmissionTicketRecord,
    ApplicationRecord,
    CandidateRecord,
    ExaminerScoreRecord,
    ExamResultRecord,
    ExamSessionRecord,
    PartResultRecord,
    ResponseRecord,
    SeatAssignmentRecord,
    ViolationRecord,
)
from lifecycle.config import LifecycleSettings
from lifecycle.domain import ApplicationStatus, CardKind, ExamResult, Outcome, PartResult, PartStatus, ViolationKind
from lifecycle.errors import (
    ConflictError,
    ConflictOfInterestError,
    NotFoundError,
    ScoringError,
    StaffingError,
    ValidationError,
)
from lifecycle.scoring_rules import (
    MIN_EXAMINERS,
    Combination,
    PartScore,
    combine_examiner_scores,
    decide_outcome,
    rubric_total,
    score_objective,
    to_hundred,
)
from lifecycle.sessions import _session, examiner_groups_of, local_day
from lifecycle.staff import relations_between, require_valid_card
from itembank.i18n import FieldMessage, Message, Text, from_storable, to_storable


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _application(session: Session, application_id: int) -> ApplicationRecord:
    rec = session.get(ApplicationRecord, application_id)
    if rec is None:
        raise NotFoundError(Message("There is no application number {id}.", id=application_id),
                            field="application_id", code="application_not_found")
    return rec


def _seat(session: Session, app: ApplicationRecord, srec: ExamSessionRecord) -> SeatAssignmentRecord:
    seat = session.scalar(
        select(SeatAssignmentRecord).join(AdmissionTicketRecord, AdmissionTicketRecord.id == SeatAssignmentRecord.ticket_id)
        .where(AdmissionTicketRecord.application_id == app.id, SeatAssignmentRecord.session_id == srec.id))
    if seat is None:
        raise ScoringError(Message("Application {id} has no seat in exam session {session}: the candidate did not sit it.",
                                   id=app.id, session=srec.code))
    return seat


# --------------------------------------------------------------------------------------
# Responses and objective scoring


@dataclass(frozen=True, slots=True)
class SheetRecorded:
    n_items: int
    n_scored: int  # objective items scored from the key
    objective_points: float
    pending_version_ids: tuple[int, ...]  # items waiting for examiners


def record_responses(
    session: Session,
    *,
    application_id: int,
    session_code: str,
    paper_code: str,
    version_ids: Sequence[int],
    responses: Sequence[Sequence[str] | str | None],
    actor: str,
    settings: LifecycleSettings,
) -> SheetRecorded:
    """Record one candidate's answer sheet for the issued paper ``paper_code`` whose items are
    ``version_ids`` in printed order, and score the objective items against their keys.

    Single choice and true/false items score when the answer equals the key; multiple choice
    only for exactly the key set (or half with ``settings.multiple_choice_partial_credit``).
    Practical tasks, defence topics and subjective items wait for the examiners (``None``
    responses are fine for them).
    """
    app = _application(session, application_id)
    srec = _session(session, session_code)
    if app.status != ApplicationStatus.ACCEPTED.value:
        raise ScoringError(Message("Application {id} is {status}; its answers are not scored.", id=application_id,
                                   status=ApplicationStatus(app.status)))
    _seat(session, app, srec)
    if len(responses) != len(version_ids):
        raise ValidationError(Message("{n} answers for {m} items.", n=len(responses), m=len(version_ids)), field="responses")
    if len(set(version_ids)) != len(version_ids):
        raise ValidationError(Message("Paper {paper_code}: an item version is listed twice.", paper_code=paper_code), field="version_ids")
    versions = {v.id: v for v in session.scalars(select(ItemVersionRecord).where(ItemVersionRecord.id.in_(list(version_ids))))}
    errors = [Message("position {n}: there is no item version number {id}", n=i, id=vid)
              for i, vid in enumerate(version_ids, start=1) if vid not in versions]
    errors += [Message("position {n}: item version {id} is a {part} item, but the exam session is {session_part}", n=i,
                       id=vid, part=ItemType(versions[vid].item_type).part, session_part=Part(srec.part))
               for i, vid in enumerate(version_ids, start=1)
               if vid in versions and ItemType(versions[vid].item_type).part.value != srec.part]
    if errors:
        raise ValidationError(Message("Paper {paper_code}: the answer sheet was not recorded.", paper_code=paper_code), errors=errors)
    if session.scalar(select(func.count()).select_from(ResponseRecord).where(
            ResponseRecord.application_id == app.id, ResponseRecord.session_id == srec.id)):
        raise ConflictError(Message("Application {id} already has answers recorded in exam session {session}.",
                                    id=application_id, session=session_code), code="responses_exist")
    now = _now()
    n_scored, points, pending = 0, 0.0, []
    for pos, (vid, resp) in enumerate(zip(version_ids, responses), start=1):
        v = versions[vid]
        t = ItemType(v.item_type)
        stored = [] if resp is None else ([resp] if isinstance(resp, str) else [str(x) for x in resp])
        rec = ResponseRecord(application_id=app.id, session_id=srec.id, paper_code=paper_code, position=pos,
                             item_version_id=vid, response=stored, max_points=v.points, recorded_at=now)
        if t.is_objective:
            rec.score = score_objective(t, v.key or [], stored, v.points,
                                        partial_credit=settings.multiple_choice_partial_credit)
            rec.scored_at = now
            n_scored += 1
            points += rec.score
        else:
            pending.append(vid)
        session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="responses.record", object_type="application", object_id=app.id,
                  details={"session": session_code, "paper": paper_code, "n_items": len(version_ids),
                           "objective_points": points})
    return SheetRecorded(len(version_ids), n_scored, points, tuple(pending))


# --------------------------------------------------------------------------------------
# Examiner scores


def _response(session: Session, app_id: int, session_id: int, version_id: int) -> ResponseRecord:
    rec = session.scalar(select(ResponseRecord).where(
        ResponseRecord.application_id == app_id, ResponseRecord.session_id == session_id,
        ResponseRecord.item_version_id == version_id))
    if rec is None:
        raise NotFoundError(Message("Application {id} has no recorded answer to item version {version} in this exam session.",
                                    id=app_id, version=version_id),
                            field="version_id")
    return rec


def enter_examiner_score(
    session: Session,
    *,
    application_id: int,
    session_code: str,
    version_id: int,
    staff_id: int,
    rubric_scores: Sequence[float],
    actor: str,
    settings: LifecycleSettings,
) -> Combination | None:
    """One examiner's independent scores, one per rubric point (or one total when the item
    has only a text standard). Returns the combination once enough examiners have scored
    (3 for practical and defence, 1 for subjective theory items), else None.

    The examiner must belong to an examiner group of the session (covering the candidate's
    room), hold a valid examiner card on the session's day and have no declared relation to
    the candidate (附件2 第8条(五)(七)).
    """
    app = _application(session, application_id)
    srec = _session(session, session_code)
    seat = _seat(session, app, srec)
    resp = _response(session, app.id, srec.id, version_id)
    v = session.get(ItemVersionRecord, version_id)
    assert v is not None
    if ItemType(v.item_type).is_objective:
        raise ScoringError(Message("Item version {version} is objective: it is scored from the key.", version=version_id))
    groups = [g for g in examiner_groups_of(session, session_id=srec.id, staff_id=staff_id)
              if g[1] is None or g[1] == seat.room_id]
    if not groups:
        raise StaffingError(Message("Staff member {staff} is not an examiner of exam session {session} for this room.",
                                    staff=staff_id, session=session_code))
    require_valid_card(session, staff_id=staff_id, kind=CardKind.EXAMINER, on=local_day(srec.starts_at),
                       level=srec.level)
    related = relations_between(session, staff_ids=[staff_id], candidate_ids=[app.candidate_id])
    if related:
        s, c, k = related[0]
        raise ConflictOfInterestError(Message("{staff} must stand aside from {candidate} ({relation}, 附件2 第8条(七)).", staff=s,
                                              candidate=c, relation=k))
    rubric_points = [float(r["points"]) for r in (v.rubric or [])] or [float(v.points)]
    try:
        total = rubric_total(rubric_points, [float(x) for x in rubric_scores])
    except ValueError as e:
        raise ValidationError(Message("Item version {version}: {reason}", version=version_id,
                                      reason=e.args[0] if e.args else str(e)), field="rubric_scores") from e
    if session.scalar(select(ExaminerScoreRecord.id).where(
            ExaminerScoreRecord.application_id == app.id, ExaminerScoreRecord.session_id == srec.id,
            ExaminerScoreRecord.item_version_id == version_id, ExaminerScoreRecord.staff_id == staff_id)):
        raise ConflictError(Message("Examiner {staff} already scored this item for application {id}; scores are not changed "
                                    "in place (附件15 第6条).", staff=staff_id, id=application_id), code="already_scored")
    session.add(ExaminerScoreRecord(application_id=app.id, session_id=srec.id, item_version_id=version_id,
                                    staff_id=staff_id, rubric_scores=list(map(float, rubric_scores)), total=total,
                                    entered_by=actor))
    session.flush()
    totals = list(session.scalars(select(ExaminerScoreRecord.total).where(
        ExaminerScoreRecord.application_id == app.id, ExaminerScoreRecord.session_id == srec.id,
        ExaminerScoreRecord.item_version_id == version_id)))
    ledger.append(session, actor=actor, action="score.examiner", object_type="application", object_id=app.id,
                  details={"session": session_code, "version_id": version_id, "staff_id": staff_id, "total": total})
    if len(totals) < MIN_EXAMINERS[Part(srec.part)]:
        return None
    comb = combine_examiner_scores(totals, v.points, disagreement_share=settings.disagreement_share)
    resp.score, resp.flagged, resp.scored_at = comb.score, comb.flagged, _now()
    session.flush()
    return comb


def settle_disputed_score(
    session: Session, *, application_id: int, session_code: str, version_id: int, leader_staff_id: int,
    score: float, reason: str, actor: str,
) -> None:
    """The group leader settles a flagged item (附件2 第10条: 考评组长……最终裁决当次有争议的考评结果)."""
    app = _application(session, application_id)
    srec = _session(session, session_code)
    resp = _response(session, app.id, srec.id, version_id)
    if not any(lead for _g, _r, lead in examiner_groups_of(session, session_id=srec.id, staff_id=leader_staff_id)):
        raise StaffingError(Message("Staff member {staff} leads no examiner group of exam session {session}.",
                                    staff=leader_staff_id, session=session_code))
    if not reason.strip():
        raise ValidationError(Message("Say how the disagreement was settled."), field="reason")
    if not 0 <= score <= resp.max_points:
        raise ValidationError(Message("The score {score:g} is outside 0–{max_points:g}.", score=score, max_points=resp.max_points), field="score")
    old = resp.score
    resp.score, resp.flagged, resp.scored_at = float(score), False, _now()
    session.flush()
    ledger.append(session, actor=actor, action="score.settle", object_type="application", object_id=app.id,
                  details={"session": session_code, "version_id": version_id, "from": old, "to": score,
                           "leader": leader_staff_id, "reason": reason})


# --------------------------------------------------------------------------------------
# Part results and the outcome


def _part_result(session: Session, app_id: int, part: Part) -> PartResultRecord | None:
    return session.scalar(select(PartResultRecord).where(PartResultRecord.application_id == app_id,
                                                         PartResultRecord.part == part.value))


def compute_part_result(
    session: Session, *, application_id: int, session_code: str, actor: str, settings: LifecycleSettings,
) -> PartResult:
    """Total the candidate's item scores of the session on the 100-point scale (附件1 第25条).

    Refused while an item is unscored or a flagged disagreement is unsettled. A part voided
    or cancelled for a violation stays so.
    """
    app = _application(session, application_id)
    srec = _session(session, session_code)
    part = Part(srec.part)
    existing = _part_result(session, app.id, part)
    if existing is not None and existing.status != PartStatus.SCORED.value:
        return _part_from_record(existing, srec.code)
    rows = session.scalars(select(ResponseRecord).where(ResponseRecord.application_id == app.id,
                                                        ResponseRecord.session_id == srec.id)
                           .order_by(ResponseRecord.position)).all()
    if not rows:
        raise ScoringError(Message("Application {id} has no answers in exam session {session}.", id=application_id,
                                   session=session_code))
    unscored = [r.position for r in rows if r.score is None]
    flagged = [r.position for r in rows if r.flagged]
    problems = []
    if unscored:
        problems.append(Message("the items at positions {positions} are not yet scored by enough examiners",
                                positions=[str(x) for x in unscored]))
    if flagged:
        problems.append(Message("the examiners' scores of the items at positions {positions} disagree; the group leader "
                                "settles them (附件2 第10条)", positions=[str(x) for x in flagged]))
    if problems:
        raise ScoringError(Message("Application {id}, {part}: the part cannot be totalled yet.", id=application_id,
                                   part=part), errors=problems)
    raw = float(sum(r.score for r in rows))  # type: ignore[misc]
    max_points = float(sum(r.max_points for r in rows))
    score = to_hundred(raw, max_points)
    rec = existing or PartResultRecord(application_id=app.id, part=part.value)
    rec.session_id, rec.raw_points, rec.max_points, rec.score = srec.id, raw, max_points, score
    rec.status, rec.flagged, rec.computed_at = PartStatus.SCORED.value, False, _now()
    session.add(rec)
    session.flush()
    ledger.append(session, actor=actor, action="result.part", object_type="application", object_id=app.id,
                  details={"session": session_code, "part": part.value, "raw": raw, "max": max_points, "score": score})
    decide_result(session, application_id=app.id, settings=settings)
    return _part_from_record(rec, srec.code)


def _part_from_record(rec: PartResultRecord, session_code: str) -> PartResult:
    return PartResult(Part(rec.part), session_code, rec.raw_points, rec.max_points, rec.score,
                      PartStatus(rec.status), rec.flagged, rec.reason)


def record_review(
    session: Session, *, application_id: int, passed: bool, actor: str, settings: LifecycleSettings, note: str = "",
) -> ExamResult:
    """The comprehensive review (综合评审) of levels 2 and 1, after theory and practical were
    passed (附件1 第25条)."""
    app = _application(session, application_id)
    if not Level(app.level).has_defence:
        raise ScoringError(Message("Level {level} has no comprehensive review (only levels 2 and 1 have).",
                                   level=Level(app.level)))
    for part in (Part.THEORY, Part.PRACTICAL):
        pr = _part_result(session, app.id, part)
        if pr is None or pr.status != PartStatus.SCORED.value or pr.score < settings.pass_mark:
            raise ScoringError(Message("Application {id}: the review follows passed theory and practical parts (附件1 第25条); "
                                       "{part} is not passed.", id=application_id, part=part))
    res = _result_record(session, app.id)
    res.review_passed, res.review_note = passed, note
    session.flush()
    ledger.append(session, actor=actor, action="result.review", object_type="application", object_id=app.id,
                  details={"passed": passed, "note": note})
    return decide_result(session, application_id=app.id, settings=settings)


def _result_record(session: Session, app_id: int) -> ExamResultRecord:
    res = session.scalar(select(ExamResultRecord).where(ExamResultRecord.application_id == app_id))
    if res is None:
        res = ExamResultRecord(application_id=app_id, outcome=Outcome.PENDING.value, reasons=[])
        session.add(res)
        session.flush()
    return res


def decide_result(session: Session, *, application_id: int, settings: LifecycleSettings) -> ExamResult:
    """Recompute the outcome from the part results, the review and the application's status."""
    app = _application(session, application_id)
    res = _result_record(session, app.id)
    parts = session.scalars(select(PartResultRecord).where(PartResultRecord.application_id == app.id)).all()
    if app.status == ApplicationStatus.DISQUALIFIED.value:
        outcome, reasons = Outcome.DISQUALIFIED, (Message("disqualified from the examination: {reason}",
                                                          reason=app.status_reason),)
    else:
        outcome, reasons = decide_outcome(
            app.level, {Part(p.part): PartScore(Part(p.part), p.score, PartStatus(p.status)) for p in parts},
            review_passed=res.review_passed, pass_mark=settings.pass_mark)
    stored = to_storable(list(reasons))
    if res.outcome != outcome.value or list(res.reasons or []) != stored:
        res.outcome, res.reasons, res.decided_at = outcome.value, stored, _now()
        session.flush()
    return get_result(session, application_id=app.id)


def get_result(session: Session, *, application_id: int) -> ExamResult:
    app = _application(session, application_id)
    res = session.scalar(select(ExamResultRecord).where(ExamResultRecord.application_id == app.id))
    cand = session.get(CandidateRecord, app.candidate_id)
    assert cand is not None
    parts = session.execute(select(PartResultRecord, ExamSessionRecord.code)
                            .join(ExamSessionRecord, ExamSessionRecord.id == PartResultRecord.session_id)
                            .where(PartResultRecord.application_id == app.id)).all()
    return ExamResult(
        application_id=app.id, candidate_name=cand.name,
        outcome=Outcome(res.outcome) if res else Outcome.PENDING,
        parts=tuple(sorted((_part_from_record(p, code) for p, code in parts), key=lambda x: list(Part).index(x.part))),
        review_passed=res.review_passed if res else None, reasons=tuple(from_storable(list(res.reasons or ()))) if res else (),
        released=bool(res and res.released_at is not None),
    )


# --------------------------------------------------------------------------------------
# Violations (附件14)


def record_violation(
    session: Session,
    *,
    application_id: int,
    kind: ViolationKind | str,
    description: str,
    actor: str,
    settings: LifecycleSettings,
    session_code: str | None = None,
    clause: str = "",
) -> ViolationKind:
    """Record a candidate violation and apply its consequence; returns the consequence applied.

    附件14 第1条: a warning; a second warning in the same sitting voids the paper (登记试卷作废).
    第2条: the sitting's score is cancelled (取消本场考试成绩). 第3条 and 附件1 第32条: the
    candidate is disqualified (取消考试资格). A certificate already issued is revoked when the
    outcome is no longer a pass (附件1 第32条: 撤回相应证书).
    """
    k = ViolationKind(kind)
    app = _application(session, application_id)
    if not description.strip():
        raise ValidationError(Message("Describe the violation (what, when, who saw it)."), field="description")
    srec = _session(session, session_code) if session_code else None
    if k in (ViolationKind.WARNING, ViolationKind.PAPER_VOIDED, ViolationKind.SCORE_CANCELLED) and srec is None:
        raise ValidationError(Message("A {kind} concerns one sitting: give the exam session.", kind=k), field="session_code")
    default_clause = {ViolationKind.WARNING: "附件14 第1条", ViolationKind.PAPER_VOIDED: "附件14 第1条",
                      ViolationKind.SCORE_CANCELLED: "附件14 第2条", ViolationKind.DISQUALIFIED: "附件14 第3条"}[k]
    session.add(ViolationRecord(application_id=app.id, session_id=srec.id if srec else None, kind=k.value,
                                clause=clause or default_clause, description=description, recorded_by=actor))
    session.flush()
    effective = k
    if k is ViolationKind.WARNING:
        n_warnings = session.scalar(select(func.count()).select_from(ViolationRecord).where(
            ViolationRecord.application_id == app.id, ViolationRecord.session_id == srec.id,  # type: ignore[union-attr]
            ViolationRecord.kind == ViolationKind.WARNING.value))
        if n_warnings >= 2:
            effective = ViolationKind.PAPER_VOIDED
            session.add(ViolationRecord(application_id=app.id, session_id=srec.id, kind=effective.value,  # type: ignore[union-attr]
                                        clause="附件14 第1条", recorded_by=actor,
                                        description="第二次警告仍不改正，登记试卷作废"))
    if effective in (ViolationKind.PAPER_VOIDED, ViolationKind.SCORE_CANCELLED):
        assert srec is not None
        part = Part(srec.part)
        pr = _part_result(session, app.id, part) or PartResultRecord(
            application_id=app.id, part=part.value, raw_points=0.0, max_points=0.0, score=0.0)
        pr.session_id = srec.id
        pr.status = (PartStatus.VOIDED if effective is ViolationKind.PAPER_VOIDED else PartStatus.CANCELLED).value
        pr.score, pr.reason, pr.computed_at = 0.0, f"{effective.zh}: {description}", _now()
        session.add(pr)
    elif effective is ViolationKind.DISQUALIFIED:
        app.status, app.status_reason = ApplicationStatus.DISQUALIFIED.value, description
    session.flush()
    ledger.append(session, actor=actor, action=f"violation.{effective.value}", object_type="application",
                  object_id=app.id, details={"recorded": k.value, "applied": effective.value,
                                             "session": session_code, "clause": clause or default_clause,
                                             "description": description})
    result = decide_result(session, application_id=app.id, settings=settings)
    if result.outcome is not Outcome.PASSED:
        from lifecycle.certificates import revoke_live_certificate

        revoke_live_certificate(session, application_id=app.id, reason=f"{effective.zh}: {description}", actor=actor)
    return effective


# --------------------------------------------------------------------------------------
# Responses for the analysis issue


@dataclass(frozen=True, slots=True)
class SparseResponses:
    """Scored responses in coordinate form: observation ``k`` is person ``person_index[k]``
    on item ``item_index[k]`` with ``scores[k]`` points.

    Shapes: ``application_ids`` (n_persons,), ``item_version_ids`` and ``max_points``
    (n_items,), ``person_index``, ``item_index``, ``scores`` (n_obs,). Items are in the order
    of their first appearance (paper position), persons by application id.
    """

    application_ids: np.ndarray
    item_version_ids: np.ndarray
    max_points: np.ndarray
    person_index: np.ndarray
    item_index: np.ndarray
    scores: np.ndarray

    def dense(self, fill: float = np.nan) -> np.ndarray:
        """(n_persons, n_items) matrix, ``fill`` where a person did not see the item."""
        out = np.full((len(self.application_ids), len(self.item_version_ids)), fill, dtype=float)
        out[self.person_index, self.item_index] = self.scores
        return out


def export_responses_sparse(
    session: Session, *, paper_code: str | None = None, session_code: str | None = None,
) -> SparseResponses:
    """Scored responses of a paper and/or a session, for item analysis (附件1 第15条 feedback)."""
    if paper_code is None and session_code is None:
        raise ValidationError(Message("Give a paper code or an exam session code."), field="paper_code")
    q = select(ResponseRecord.application_id, ResponseRecord.item_version_id, ResponseRecord.position,
               ResponseRecord.score, ResponseRecord.max_points).where(ResponseRecord.score.is_not(None))
    if paper_code is not None:
        q = q.where(ResponseRecord.paper_code == paper_code)
    if session_code is not None:
        q = q.where(ResponseRecord.session_id == _session(session, session_code).id)
    rows = session.execute(q.order_by(ResponseRecord.position, ResponseRecord.application_id)).all()
    persons = sorted({r[0] for r in rows})
    items: dict[int, float] = {}
    for r in rows:
        items.setdefault(r[1], r[4])
    p_idx = {a: i for i, a in enumerate(persons)}
    i_idx = {v: i for i, v in enumerate(items)}
    return SparseResponses(
        application_ids=np.array(persons, dtype=np.int64),
        item_version_ids=np.array(list(items), dtype=np.int64),
        max_points=np.array(list(items.values()), dtype=float),
        person_index=np.array([p_idx[r[0]] for r in rows], dtype=np.int64),
        item_index=np.array([i_idx[r[1]] for r in rows], dtype=np.int64),
        scores=np.array([r[3] for r in rows], dtype=float),
    )
