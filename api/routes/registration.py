"""Registration (附件1 第二章): candidates, applications decided against the eligibility rules
(申报条件), bulk import from Excel. The exam office registers; its users see the candidates
and applications of the occupations their role covers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel

from api.deps import PagingDep, SessionDep, check_scope, require
from api.routes.imports import MAX_UPLOAD
from api.schemas.common import MAX_ID, Day, IdPath, Page, Text
from api.schemas.lifecycle import (
    ApplicationImportOut,
    ApplicationIn,
    ApplicationOut,
    CandidateIn,
    CandidateOut,
    PlanAssignIn,
    ReasonIn,
)
from itembank.domain import Actor, Level, Role
from itembank.errors import NotFoundError, ValidationError
from itembank.i18n import Message
from lifecycle import listing, registration
from lifecycle.domain import ApplicationStatus
from lifecycle.errors import IneligibleError

router = APIRouter(tags=["registration"])
OfficeDep = Annotated[Actor, require(Role.EXAM_OFFICE)]


def _application(session, actor: Actor, application_id: int):  # type: ignore[no-untyped-def]
    app = registration.get_application(session, application_id=application_id)
    check_scope(actor, app.occupation.code, Role.EXAM_OFFICE)
    return app


@router.get("/candidates", response_model=Page[CandidateOut], summary="Find candidates")
def list_candidates(session: SessionDep, actor: OfficeDep, paging: PagingDep,
                    name: Annotated[Text | None, Query(max_length=100, description="Part of the name.")] = None,
                    id_number: Annotated[Text | None, Query(max_length=32)] = None) -> dict:
    found, total = listing.page_candidates(session, name=name, id_number=id_number,
                                           occupation_codes=actor.occupations_for(Role.EXAM_OFFICE), registered_by=actor.username,
                                           offset=paging.offset, limit=paging.limit)
    return paging.page([CandidateOut.of(c) for c in found], total)


@router.post("/candidates", response_model=CandidateOut, status_code=201, summary="Register a candidate")
def register_candidate(body: CandidateIn, session: SessionDep, actor: OfficeDep) -> CandidateOut:
    """The ID number is checked (check digit, birth date). A document already registered
    returns that candidate (contact details updated); under another name it is refused."""
    cand = registration.register_candidate(session, name=body.name, id_type=body.id_type, id_number=body.id_number,
                                           phone=body.phone, email=body.email, employer=body.employer,
                                           actor=actor.username)
    session.commit()
    return CandidateOut.of(cand)


@router.get("/candidates/{candidate_id}", response_model=CandidateOut, summary="Show a candidate")
def get_candidate(candidate_id: IdPath, session: SessionDep, actor: OfficeDep) -> CandidateOut:
    found, _ = listing.page_candidates(session, candidate_id=candidate_id, occupation_codes=actor.occupations_for(Role.EXAM_OFFICE),
                                       registered_by=actor.username, limit=1)
    if not found:
        raise NotFoundError(Message("There is no candidate number {id} in your occupations.", id=candidate_id),
                            field="candidate_id", code="candidate_not_found")
    return CandidateOut.of(found[0])


@router.get("/applications", response_model=Page[ApplicationOut], summary="List applications")
def list_applications(session: SessionDep, actor: OfficeDep, paging: PagingDep,
                      plan_code: Annotated[Text | None, Query(max_length=64)] = None,
                      status: ApplicationStatus | None = None,
                      candidate_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> dict:
    found, total = listing.page_applications(session, plan_code=plan_code, status=status.value if status else None,
                                             candidate_id=candidate_id, occupation_codes=actor.occupations_for(Role.EXAM_OFFICE),
                                             offset=paging.offset, limit=paging.limit)
    return paging.page([ApplicationOut.of(a) for a in found], total)


@router.post("/applications", response_model=ApplicationOut, status_code=201,
             summary="Apply for an occupation and level")
def submit_application(body: ApplicationIn, session: SessionDep, actor: OfficeDep) -> ApplicationOut:
    """The application is decided against the eligibility rules in force (申报条件). An
    ineligible one is recorded as refused (for the audit) and answered with 422 and every
    reason (附件1 第7条 不予受理)."""
    check_scope(actor, body.occupation_code, Role.EXAM_OFFICE)
    app = registration.submit_application(
        session, candidate_id=body.candidate_id, occupation_code=body.occupation_code, work_type=body.work_type,
        level=body.level, declaration=body.declaration.to_domain(), actor=actor.username,
        documents=[d.model_dump() for d in body.documents], plan_code=body.plan_code, applied_on=body.applied_on)
    session.commit()
    if app.status is ApplicationStatus.REFUSED:
        raise IneligibleError(Message("Application {id} is refused: the candidate meets no eligibility condition of level {level} "
                                      "(附件1 第7条).", id=app.id, level=Level(app.level)), reasons=list(app.refusal_reasons))
    return ApplicationOut.of(app)


@router.get("/applications/{application_id}", response_model=ApplicationOut, summary="Show an application")
def get_application(application_id: IdPath, session: SessionDep, actor: OfficeDep) -> ApplicationOut:
    return ApplicationOut.of(_application(session, actor, application_id))


@router.post("/applications/{application_id}/plan", response_model=ApplicationOut,
             summary="Put an accepted application into an exam plan")
def assign_to_plan(application_id: IdPath, body: PlanAssignIn, session: SessionDep, actor: OfficeDep) -> ApplicationOut:
    _application(session, actor, application_id)
    app = registration.assign_to_plan(session, application_id=application_id, plan_code=body.plan_code,
                                      actor=actor.username)
    session.commit()
    return ApplicationOut.of(app)


@router.post("/applications/{application_id}/withdraw", response_model=ApplicationOut,
             summary="Withdraw an application")
def withdraw(application_id: IdPath, body: ReasonIn, session: SessionDep, actor: OfficeDep) -> ApplicationOut:
    _application(session, actor, application_id)
    app = registration.withdraw_application(session, application_id=application_id, reason=body.reason,
                                            actor=actor.username)
    session.commit()
    return ApplicationOut.of(app)


@router.post("/applications/import", response_model=ApplicationImportOut,
             summary="Import candidates and applications from Excel")
def import_applications(session: SessionDep, actor: OfficeDep,
                        file: Annotated[UploadFile, File(description="The registration template (.xlsx).")],
                        plan_code: Annotated[Text | None, Form(max_length=64)] = None,
                        applied_on: Annotated[Day | None, Form()] = None) -> ApplicationImportOut:
    """All or nothing: every row is checked first and a bad sheet is refused with every
    problem by row. Valid rows are registered and decided; ineligible applications are
    recorded as refused with their reasons (listed in the answer), not treated as errors."""
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ValidationError(Message("The file is larger than {mb} MB; split it.", mb=MAX_UPLOAD // (1024 * 1024)), field="file")
    report = registration.import_applications_xlsx(session, data=data, actor=actor.username, plan_code=plan_code,
                                                   applied_on=applied_on)
    for app in (*report.accepted, *report.refused):
        check_scope(actor, app.occupation.code, Role.EXAM_OFFICE)
    session.commit()
    return ApplicationImportOut(n_rows=report.n_rows, accepted=[a.id for a in report.accepted],
                                refused=[ApplicationOut.of(a) for a in report.refused])


class EligibilityRuleOut(BaseModel):
    level: int
    alternative: int
    description: str
    min_years_of_work: float | None
    prior_level: int | None
    min_years_since_prior: float | None
    requires_training: bool
    educations: list[str] | None


@router.get("/eligibility-rules", response_model=Page[EligibilityRuleOut], summary="The eligibility rules in force")
def eligibility_rules(session: SessionDep, actor: OfficeDep, paging: PagingDep,
                      level: Annotated[int, Query(ge=1, le=5)],
                      occupation_code: Annotated[Text | None, Query(max_length=32)] = None) -> dict:
    """The alternatives (条件之一) of a level: the occupation's own if it has any, else the
    centre's general rules, else the defaults."""
    rules = registration.eligibility_rules(session, level=level, occupation_code=occupation_code)
    return paging.page([EligibilityRuleOut(
        level=int(r.level), alternative=r.alternative, description=r.description,
        min_years_of_work=r.min_years_of_work, prior_level=int(r.prior_level) if r.prior_level else None,
        min_years_since_prior=r.min_years_since_prior, requires_training=r.requires_training,
        educations=sorted(e.value for e in r.educations) if r.educations is not None else None) for r in rules])

