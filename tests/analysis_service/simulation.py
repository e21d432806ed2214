"""Simulated exam sessions on a small demo bank, for the analysis-service tests.

Plans, sessions and rooms are made with lifecycle's services. Candidates, applications,
admission tickets and seats are inserted in bulk (registration is not what these tests are
about and the services take ~12 ms a candidate). Answer sheets are simulated from known
item parameters with a fixed seed: the first ``n_services`` sheets of each paper go through
``lifecycle.scoring.record_responses`` (key scoring, ledger), the rest are written as the same
rows in bulk, scored with lifecycle's own ``score_objective``. Rubric-scored items get the
examiners' combined score directly (three examiners x hundreds of candidates would dominate
the run time without testing anything here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np
from pydantic import SecretStr
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from itembank.domain import BankRef, Item, ItemContent, ItemType, Part, RubricPoint, VersionState
from itembank.items import NewItem, add_items
from itembank.orm_lifecycle import (
    AdmissionTicketRecord,
    ApplicationRecord,
    CandidateRecord,
    ExamRoomRecord,
    ExamSessionRecord,
    ResponseRecord,
    SeatAssignmentRecord,
)
from lifecycle.config import LifecycleSettings
from lifecycle.idnumbers import mainland_check_digit
from lifecycle.scoring import record_responses
from lifecycle.scoring_rules import score_objective
from lifecycle.sessions import add_room, create_exam_session

CST = timezone(timedelta(hours=8))


def lifecycle_settings() -> LifecycleSettings:
    return LifecycleSettings(qr_secret=SecretStr("test-secret"), institution="测试中心",
                             organisation_code="0321", province_code="32", site_serial="000007",
                             institution_code="3205000000001", _env_file=None)


@dataclass
class TrueItem:
    """Generating parameters of one item (logistic metric, D = 1)."""

    item: Item
    a: float
    b: float
    thresholds: tuple[float, ...] = ()  # GPCM steps of rubric-scored items
    true_option: str | None = None  # planted: the option able candidates choose (not the key)

    @property
    def code(self) -> str:
        return self.item.code


@dataclass
class Paper:
    code: str
    items: list[TrueItem]


@dataclass
class Sitting:
    session_code: str
    papers: dict[str, tuple[Paper, int]]  # paper code -> (paper, n candidates)
    thetas: dict[str, np.ndarray] = field(default_factory=dict)


def add_short_answers(session: Session, *, bank: BankRef, n: int, element: str) -> list[Item]:
    """Rubric-scored theory items (简答题, 5 points: 0..5)."""
    items = [
        NewItem(f"SA-{i + 1}", ItemContent(
            item_type=ItemType.SHORT_ANSWER, stem=f"简述第{i + 1}种触电急救的步骤。", points=5.0,
            element_codes=(element,),
            rubric=(RubricPoint("脱离电源", 2.0), RubricPoint("现场急救", 3.0)),
        ))
        for i in range(n)
    ]
    return add_items(session, bank=bank, items=items, actor="t", state=VersionState.ACCEPTED)


def make_session(session: Session, *, plan_code: str, code: str, day: date, capacity: int) -> int:
    create_exam_session(session, plan_code=plan_code, code=code, part=Part.THEORY,
                        starts_at=datetime(day.year, day.month, day.day, 9, tzinfo=CST),
                        ends_at=datetime(day.year, day.month, day.day, 11, tzinfo=CST),
                        place="实训楼A座", actor="office")
    add_room(session, session_code=code, code="R1", capacity=capacity, actor="office")
    sid = session.scalar(select(ExamSessionRecord.id).where(ExamSessionRecord.code == code))
    assert sid is not None
    return sid


def enrol(session: Session, *, plan_id: int, occupation_id: int, session_code: str, n: int,
          first: int) -> list[int]:
    """``n`` accepted applications with tickets and seats in the session (bulk); their ids."""
    now = datetime.now(timezone.utc)
    cands = []
    for k in range(first, first + n):
        birth = date(1980, 1, 1) + timedelta(days=k // 1000)
        first17 = f"320102{birth:%Y%m%d}{k % 1000:03d}"
        cands.append({"name": f"考生{k}", "id_type": "mainland_id",
                      "id_number": first17 + mainland_check_digit(first17), "birth_date": birth,
                      "phone": "", "email": "", "employer": "", "created_by": "t", "created_at": now})
    session.execute(insert(CandidateRecord), cands)
    cand_ids = list(session.scalars(select(CandidateRecord.id).where(
        CandidateRecord.id_number.in_([c["id_number"] for c in cands])).order_by(CandidateRecord.id)))
    session.execute(insert(ApplicationRecord), [
        {"candidate_id": cid, "occupation_id": occupation_id, "level": 5, "plan_id": plan_id,
         "status": "accepted", "declaration": {"years_of_work": 3}, "documents": [],
         "matched_rule": "(1) test", "refusal_reasons": [], "status_reason": "",
         "applied_on": date(2026, 11, 1), "created_by": "t", "created_at": now}
        for cid in cand_ids])
    app_ids = list(session.scalars(select(ApplicationRecord.id).where(
        ApplicationRecord.candidate_id.in_(cand_ids)).order_by(ApplicationRecord.id)))
    session.execute(insert(AdmissionTicketRecord), [
        {"number": f"T{plan_id:04d}{k:06d}", "application_id": a, "plan_id": plan_id, "issued_by": "t",
         "issued_at": now} for k, a in zip(range(first, first + n), app_ids)])
    tickets = list(session.scalars(select(AdmissionTicketRecord.id).where(
        AdmissionTicketRecord.application_id.in_(app_ids)).order_by(AdmissionTicketRecord.id)))
    srec = session.scalar(select(ExamSessionRecord).where(ExamSessionRecord.code == session_code))
    room = session.scalar(select(ExamRoomRecord.id).where(ExamRoomRecord.session_id == srec.id))  # type: ignore[union-attr]
    taken = session.scalar(select(SeatAssignmentRecord.seat_no).where(SeatAssignmentRecord.room_id == room)
                           .order_by(SeatAssignmentRecord.seat_no.desc()).limit(1)) or 0
    session.execute(insert(SeatAssignmentRecord), [
        {"ticket_id": t, "session_id": srec.id, "room_id": room, "seat_no": taken + i + 1}  # type: ignore[union-attr]
        for i, t in enumerate(tickets)])
    return app_ids


def _gpcm_sample(rng: np.random.Generator, thetas: np.ndarray, a: float, steps: tuple[float, ...]) -> np.ndarray:
    z = np.cumsum(a * (thetas[:, None] - np.asarray(steps)[None, :]), axis=1)
    z = np.hstack([np.zeros((thetas.size, 1)), z])
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = rng.random(thetas.size)[:, None]
    return (u > np.cumsum(p, axis=1)).sum(axis=1)


def simulate_answers(rng: np.random.Generator, paper: Paper, thetas: np.ndarray) -> list[list]:
    """One answer sheet per candidate: answers in paper order (None for rubric items) and,
    for rubric items, the examiners' score appended as ``("score", points)`` entries."""
    n = thetas.size
    columns: list[list] = []
    for ti in paper.items:
        c = ti.item.content
        if c.item_type is ItemType.SHORT_ANSWER:
            cats = _gpcm_sample(rng, thetas, ti.a, ti.thresholds)
            columns.append([("score", float(x)) for x in cats])
            continue
        p = 1.0 / (1.0 + np.exp(-ti.a * (thetas - ti.b)))
        right = rng.random(n) < p
        col = []
        labels = [o.label for o in c.options]
        for ok in right:
            if c.item_type is ItemType.TRUE_FALSE:
                col.append(list(c.key) if ok else ["F" if c.key == ("T",) else "T"])
            elif c.item_type is ItemType.MULTIPLE_CHOICE:
                if ok:
                    col.append(list(c.key))
                else:
                    wrong = [x for x in labels if x not in c.key]
                    col.append(sorted(list(c.key[:-1]) + [wrong[int(rng.integers(len(wrong)))]]))
            elif ti.true_option is not None:
                # planted miskeyed item: able candidates choose the true answer, not the key
                others = [x for x in labels if x != ti.true_option]
                col.append([ti.true_option] if ok else [others[int(rng.integers(len(others)))]])
            else:
                others = [x for x in labels if x not in c.key]
                col.append(list(c.key) if ok else [others[int(rng.integers(len(others)))]])
        columns.append(col)
    return [list(row) for row in zip(*columns)]


def write_sheets(session: Session, *, session_code: str, session_id: int, paper: Paper,
                 app_ids: list[int], sheets: list[list], n_services: int,
                 settings: LifecycleSettings) -> None:
    """Record the sheets: the first ``n_services`` through ``record_responses``, the rest in bulk."""
    vids = [ti.item.version_id for ti in paper.items]
    rubric_pos = {k for k, ti in enumerate(paper.items)
                  if ti.item.content.item_type is ItemType.SHORT_ANSWER}
    now = datetime.now(timezone.utc)
    rows = []
    for app, sheet in zip(app_ids[:n_services], sheets[:n_services]):
        answers = [None if k in rubric_pos else a for k, a in enumerate(sheet)]
        record_responses(session, application_id=app, session_code=session_code, paper_code=paper.code,
                         version_ids=vids, responses=answers, actor="marker", settings=settings)
        for k in rubric_pos:  # the examiners' combined score
            session.execute(update(ResponseRecord).where(
                ResponseRecord.application_id == app, ResponseRecord.session_id == session_id,
                ResponseRecord.item_version_id == vids[k]).values(score=sheet[k][1], scored_at=now))
    for app, sheet in zip(app_ids[n_services:], sheets[n_services:]):
        for pos, (ti, ans) in enumerate(zip(paper.items, sheet), start=1):
            c = ti.item.content
            if pos - 1 in rubric_pos:
                resp, score = [], ans[1]
            else:
                resp = list(ans)
                score = score_objective(c.item_type, c.key, resp, c.points,
                                        partial_credit=settings.multiple_choice_partial_credit)
            rows.append({"application_id": app, "session_id": session_id, "paper_code": paper.code,
                         "position": pos, "item_version_id": ti.item.version_id, "response": resp,
                         "score": score, "max_points": c.points, "flagged": False, "recorded_at": now,
                         "scored_at": now})
    if rows:
        session.execute(insert(ResponseRecord), rows)
    session.flush()


def rmse(x, y) -> float:  # type: ignore[no-untyped-def]
    return float(np.sqrt(np.mean((np.asarray(x, float) - np.asarray(y, float)) ** 2)))
