"""Word documents about banks: the element table (认定要素细目表) and the readiness report
(题库达标情况报告). Papers and keys come with the sealed-paper service."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import SessionDep, SettingsDep, check_scope, require
from api.responses import DOCX, download, file_response
from api.schemas.common import MAX_ID, IdPath
from exports import export_element_table, export_readiness
from itembank import elements, occupations, readiness
from itembank.domain import Actor, Part, Role
from itembank.errors import NotFoundError
from itembank.i18n import Message

router = APIRouter(tags=["documents"])
ELEMENT_READERS = (Role.BANK_MANAGER, Role.ITEM_WRITER, Role.REVIEWER, Role.COMMITTEE_MEMBER)
READINESS_READERS = (Role.BANK_MANAGER, Role.EXAM_OFFICE, Role.AUDITOR)
ReadinessDep = Annotated[Actor, require(*READINESS_READERS)]


@router.get("/banks/{bank_id}/element-tables/{part}/document", response_class=Response,
            responses=file_response(DOCX), summary="Download the element table as Word")
def element_table_document(bank_id: IdPath, part: Part, session: SessionDep, settings: SettingsDep,
                           actor: Annotated[Actor, require(*ELEMENT_READERS)],
                           version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, *ELEMENT_READERS)
    table = elements.load_element_table(session, bank=bank, part=part, version=version)
    doc = export_element_table(table, occupation=bank.occupation, centre_name=settings.centre_name)
    return download(doc.content, doc.filename, DOCX)


@router.get("/banks/{bank_id}/readiness/document", response_class=Response, responses=file_response(DOCX),
            summary="Download the bank's readiness report as Word")
def readiness_document(bank_id: IdPath, session: SessionDep, settings: SettingsDep, actor: ReadinessDep) -> Response:
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(actor, bank.occupation.code, *READINESS_READERS)
    doc = export_readiness([readiness.bank_readiness(session, bank=bank)], as_of=date.today(),
                           centre_name=settings.centre_name)
    return download(doc.content, doc.filename, DOCX)


@router.get("/readiness/document", response_class=Response, responses=file_response(DOCX),
            summary="Download the readiness report of every bank you oversee")
def readiness_overview_document(session: SessionDep, settings: SettingsDep, actor: ReadinessDep) -> Response:
    """One report over every bank of the occupations your roles cover."""
    banks = [b for b in occupations.list_banks(session)
             if any(actor.has(r, occupation_code=b.occupation.code) for r in READINESS_READERS)]
    if not banks:
        raise NotFoundError(Message("There is no bank in the occupations your roles cover."), code="bank_not_found")
    doc = export_readiness([readiness.bank_readiness(session, bank=b) for b in banks], as_of=date.today(),
                           centre_name=settings.centre_name)
    return download(doc.content, doc.filename, DOCX)
