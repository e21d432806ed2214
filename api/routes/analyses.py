"""Analyses of recorded responses fed back into the bank (issue 5): classical statistics and
IRT calibrations stored on the item versions, the history, and the items needing review."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import PagingDep, SessionDep, check_scope, require
from api.schemas.assembly import AnalysisIn
from api.schemas.common import CodePath, IdPath, Page
from itembank import analysis_service as ana
from itembank import occupations
from itembank.domain import Actor, Part, Role
from itembank import assembly_service as asvc
from itembank.errors import NotFoundError, ValidationError
from itembank.i18n import Message
from lifecycle import sessions as exam_sessions

router = APIRouter(tags=["analyses"])
ManagerDep = Annotated[Actor, require(Role.BANK_MANAGER)]


def _plain(obj: Any) -> Any:
    import dataclasses
    import enum
    from datetime import date, datetime

    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, float) and obj != obj:  # NaN is not JSON
        return None
    if isinstance(obj, Message):  # stored reasons and notes: in the reader's language
        return str(obj)
    return obj


@router.post("/analyses", status_code=201, summary="Analyse a session's (or papers') responses")
def analyse(body: AnalysisIn, session: SessionDep, actor: ManagerDep) -> dict[str, Any]:
    """Classical statistics per paper, IRT across papers (anchored on the bank's scale when
    items carry calibrated parameters), stored per item version with the calibration; the
    answer lists the items needing review with reasons."""
    if (body.session_code is None) == (body.paper_codes is None):
        raise ValidationError(Message("Give either the exam session or the papers, not both."), field="session_code")
    _check_analysis_scope(session, actor, body)
    report = ana.analyse_session(session, session_code=body.session_code, paper_codes=body.paper_codes,
                                 model=body.model, polytomous_model=body.polytomous_model,
                                 method=body.method, D=body.D,
                                 anchor=body.anchor, actor=actor.username, note=body.note)
    bank = occupations.get_bank_by_id(session, report.calibration.bank_id)
    check_scope(actor, bank.occupation.code, Role.BANK_MANAGER)  # the analysed bank itself, once more
    session.commit()
    return _plain(report.to_dict())


def _check_analysis_scope(session, actor: Actor, body: AnalysisIn) -> None:  # type: ignore[no-untyped-def]
    """Refuse before anything is read or computed unless the session's occupation and every
    paper's is one the actor manages. A paper of another occupation answers as an unknown
    one: the refusal tells nothing about other occupations' papers or responses."""
    if body.session_code is not None:
        s = exam_sessions.get_exam_session(session, code=body.session_code)
        check_scope(actor, s.occupation.code, Role.BANK_MANAGER)
    for code in body.paper_codes or ():
        try:
            occupation = asvc.get_paper(session, code=code).paper.occupation.code
        except NotFoundError:
            occupation = None
        if occupation is None or not actor.has(Role.BANK_MANAGER, occupation_code=occupation):
            raise NotFoundError(Message("no paper {code} among the papers of the occupations you manage",
                                        code=code), field="paper_codes")


@router.get("/analyses/{calibration_id}", summary="Show a stored analysis")
def get_analysis(calibration_id: IdPath, session: SessionDep, actor: ManagerDep) -> dict[str, Any]:
    report = ana.get_calibration(session, calibration_id)
    bank = occupations.get_bank_by_id(session, report.calibration.bank_id)
    check_scope(actor, bank.occupation.code, Role.BANK_MANAGER)
    return _plain(report.to_dict())


@router.get("/banks/{bank_id}/items-needing-review", response_model=Page[dict[str, Any]],
            summary="Items whose latest analysis flagged them")
def needing_review(bank_id: IdPath, session: SessionDep, actor: ManagerDep, paging: PagingDep,
                   part: Annotated[Part | None, Query()] = None) -> dict:
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, Role.BANK_MANAGER)
    return paging.page([_plain(x) for x in ana.items_needing_review(session, bank=bank, part=part)])


@router.get("/banks/{bank_id}/items/{code}/calibrations", response_model=list[dict[str, Any]],
            summary="Calibration history of an item")
def item_calibrations(bank_id: IdPath, code: CodePath, session: SessionDep, actor: ManagerDep) -> list[dict[str, Any]]:
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, Role.BANK_MANAGER)
    return [_plain(h) for h in ana.calibration_history(session, bank=bank, code=code)]
