"""Staff: examiners (考评员), supervisors (质量督导员) and proctors; their cards (附件2 第16条:
18 digits, 3 years; 附件10 第13条), annual training (附件2 第18条) and declared relations to
candidates (recusal, 附件2 第8条(七)). The exam office keeps them; an administrator links a
staff member to the login account they enter scores with."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import LifecycleSettingsDep, PagingDep, SessionDep, check_centre_wide, require, require_everywhere
from api.schemas.common import DayQuery, IdPath, Page, Text
from api.schemas.lifecycle import (
    AccountIn,
    CardIn,
    CardOut,
    LapsedCardOut,
    ReasonIn,
    RelationIn,
    StaffDetailOut,
    StaffIn,
    StaffOut,
    TrainingIn,
)
from itembank.domain import Actor, Role
from itembank.errors import ValidationError
from itembank.i18n import Message, render_all
from lifecycle import accounts, listing, staff
from lifecycle.domain import CardKind, StaffMember
from lifecycle.staff import _staff

router = APIRouter(tags=["staff"])
OfficeDep = Annotated[Actor, require(Role.EXAM_OFFICE)]


# The staff register (names with ID numbers, cards, relations to candidates) belongs to the
# whole centre: it is kept by the exam office for every occupation (附件12 第9条).
KeeperDep = Annotated[Actor, require_everywhere(Role.EXAM_OFFICE)]


def _masked(member: StaffMember, actor: Actor) -> StaffMember:
    """An exam office of some occupations sees who the staff are (to staff its sessions) but
    not their ID numbers: only the last four characters."""
    if actor.has_everywhere(Role.EXAM_OFFICE):
        return member
    number = member.id_number
    return dataclasses.replace(member, id_number="*" * max(len(number) - 4, 0) + number[-4:])


def _detail(session, staff_id: int, actor: Actor) -> StaffDetailOut:  # type: ignore[no-untyped-def]
    member = _masked(staff.staff_from_record(_staff(session, staff_id)), actor)
    return StaffDetailOut(**StaffOut.of(member).model_dump(),
                          cards=[CardOut.of(c) for c in listing.staff_cards(session, staff_id=staff_id)],
                          account=accounts.account_of_staff(session, staff_id=staff_id))


@router.get("/staff", response_model=Page[StaffOut], summary="List staff")
def list_staff(session: SessionDep, actor: OfficeDep, paging: PagingDep,
               name: Annotated[Text | None, Query(max_length=100)] = None) -> dict:
    """Everyone on the register; ID numbers in full only for the exam office of every occupation."""
    found, total = listing.page_staff(session, name=name, offset=paging.offset, limit=paging.limit)
    return paging.page([StaffOut.of(_masked(s, actor)) for s in found], total)


@router.post("/staff", response_model=StaffDetailOut, status_code=201, summary="Register a staff member")
def register(body: StaffIn, session: SessionDep, actor: KeeperDep) -> StaffDetailOut:
    member = staff.register_staff(session, name=body.name, organisation=body.organisation, id_type=body.id_type,
                                  id_number=body.id_number, phone=body.phone, actor=actor.username)
    session.commit()
    return _detail(session, member.id, actor)


@router.get("/staff/{staff_id}", response_model=StaffDetailOut, summary="Show a staff member with their cards")
def get_staff(staff_id: IdPath, session: SessionDep, actor: OfficeDep) -> StaffDetailOut:
    return _detail(session, staff_id, actor)


@router.post("/staff/{staff_id}/cards", response_model=CardOut, status_code=201, summary="Issue a card")
def issue_card(staff_id: IdPath, body: CardIn, session: SessionDep, actor: KeeperDep,
               settings: LifecycleSettingsDep) -> CardOut:
    """Examiner card: institution code + grade + serial (附件2 第16条); supervisor card:
    institution code + 5-digit serial (附件10 第13条). Valid 3 years."""
    if body.kind is CardKind.EXAMINER:
        if body.grade is None:
            raise ValidationError(Message("An examiner card needs the grade: 1 考评员 or 2 高级考评员."), field="grade")
        card = staff.issue_examiner_card(session, staff_id=staff_id, grade=body.grade, issued_on=body.issued_on,
                                         occupation_code=body.occupation_code, work_type=body.work_type,
                                         actor=actor.username, settings=settings)
    else:
        card = staff.issue_supervisor_card(session, staff_id=staff_id, issued_on=body.issued_on,
                                           actor=actor.username, settings=settings)
    session.commit()
    return CardOut.of(card)


@router.post("/staff/{staff_id}/trainings", response_model=StaffDetailOut, status_code=201,
             summary="Record a year's continuing education")
def record_training(staff_id: IdPath, body: TrainingIn, session: SessionDep, actor: KeeperDep) -> StaffDetailOut:
    """Without a passed training each year the card lapses (附件2 第18条, 附件10 第17条)."""
    staff.record_training(session, staff_id=staff_id, kind=body.kind, year=body.year, completed_on=body.completed_on,
                          passed=body.passed, note=body.note, actor=actor.username)
    session.commit()
    return _detail(session, staff_id, actor)


@router.post("/staff/{staff_id}/relations", response_model=StaffDetailOut, status_code=201,
             summary="Declare a relation to a candidate (recusal)")
def declare_relation(staff_id: IdPath, body: RelationIn, session: SessionDep, actor: KeeperDep) -> StaffDetailOut:
    """Relatives, teachers/students, masters/apprentices stand aside (附件2 第8条(七)):
    seating, proctoring, examiner groups and scoring refuse them afterwards."""
    staff.declare_relation(session, staff_id=staff_id, candidate_id=body.candidate_id, kind=body.kind,
                           note=body.note, actor=actor.username)
    session.commit()
    return _detail(session, staff_id, actor)


@router.put("/staff/{staff_id}/account", response_model=StaffDetailOut, summary="Link a login account")
def link_account(staff_id: IdPath, body: AccountIn, session: SessionDep,
                 actor: Annotated[Actor, require(Role.ADMIN)]) -> StaffDetailOut:
    """The account (with the examiner role) this staff member enters scores with; null
    removes the link. Recorded in the ledger."""
    accounts.link_account(session, staff_id=staff_id, username=body.username, actor=actor.username)
    session.commit()
    return _detail(session, staff_id, actor)


@router.post("/staff-cards/{number}/revoke", response_model=CardOut, summary="Revoke a card")
def revoke_card(number: Annotated[str, Path(min_length=1, max_length=18)], body: ReasonIn, session: SessionDep,
                actor: KeeperDep) -> CardOut:
    card = staff.revoke_card(session, number=number, reason=body.reason, actor=actor.username)
    session.commit()
    return CardOut.of(card)


@router.get("/staff-cards/lapsed", response_model=Page[LapsedCardOut], summary="Cards no longer valid")
def lapsed(session: SessionDep, actor: Annotated[Actor, require(Role.EXAM_OFFICE, Role.AUDITOR)],
           paging: PagingDep, on: DayQuery = None) -> dict:
    """Active cards expired or without the annual training on ``on`` (default today), with
    the reasons: the list to act on (附件2 第18条, 第24条). Centre-wide: the exam office or
    auditors of every occupation."""
    check_centre_wide(actor, Role.EXAM_OFFICE, Role.AUDITOR)
    found = staff.lapsed_cards(session, on=on or date.today())
    return paging.page([LapsedCardOut(card=CardOut.of(c), reasons=render_all(r)) for c, r in found])
