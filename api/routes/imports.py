"""Imports and exports of items and element tables (docs/IMPORT.md), and the templates.

Every import is all-or-nothing: the whole file is checked first, and a refused file answers
422 with every problem, each with its sheet, row and column (``error.problems``). With
``dry_run`` nothing is written either way: the report says what would happen."""

from __future__ import annotations

import enum
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from api.deps import CurrentActor, SessionDep, require
from api.responses import CSV, XLSX, ZIP, download, file_response
from api.schemas.common import IdPath, ShortText, Text, bad_text_reason
from api.schemas.imports import ElementImportOut, ImportReportOut
from itembank import imports, occupations, qti
from itembank.domain import Actor, Part, Role, VersionState
from itembank.errors import ValidationError
from itembank.imports import ImportMode
from itembank.i18n import Message

router = APIRouter(tags=["imports"])
ManagerDep = Annotated[Actor, require(Role.BANK_MANAGER)]
MAX_UPLOAD = 50 * 1024 * 1024  # 10,000 items with images stay far below this

UploadDep = Annotated[UploadFile, File(description="The file to import.")]
DryRunForm = Annotated[bool, Form(description="Check everything, write nothing.")]
ModeForm = Annotated[ImportMode, Form(description="draft: new versions enter review; accepted: a legacy bank "
                                                  "already accepted by a committee (needs batch_ref).")]
BatchRefForm = Annotated[Text, Form(max_length=200, description="Reference of the committee batch (accepted mode).")]


def _read(upload: UploadFile) -> tuple[bytes, str]:
    """The uploaded bytes and a storable file name; refuse files over ``MAX_UPLOAD``."""
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ValidationError(Message("The file is larger than {mb} MB; split it.", mb=MAX_UPLOAD // (1024 * 1024)), field="file")
    name = (upload.filename or "upload").strip()[-200:] or "upload"
    if bad_text_reason(name):
        raise ValidationError(Message("The file name {reason}; rename the file.", reason=bad_text_reason(name)), field="file")
    return data, name


@router.post("/banks/{bank_id}/imports/items", response_model=ImportReportOut,
             summary="Import items from Excel (.xlsx) or CSV, or a .zip of one with its images folder")
def import_items(bank_id: IdPath, file: UploadDep, session: SessionDep, actor: ManagerDep,
                 mode: ModeForm = ImportMode.DRAFT, batch_ref: BatchRefForm = "", dry_run: DryRunForm = False,
                 encoding: Annotated[Text | None, Form(max_length=32, description="CSV only, e.g. gb18030.")] = None,
                 ) -> ImportReportOut:
    """The file type follows the file name (.xlsx, .csv, or .zip holding one of them and a folder
    ``images`` with the pictures that the 图片 column and ``![caption](file.png)`` cells name).
    Re-importing is idempotent: unchanged items do nothing, changed ones get a new version."""
    bank = occupations.get_bank_by_id(session, bank_id)
    data, name = _read(file)
    report = imports.import_items(session, actor=actor, bank=bank, data=data, filename=name, mode=mode,
                                  batch_ref=batch_ref, dry_run=dry_run, encoding=encoding)
    if not dry_run:
        session.commit()
    return ImportReportOut.of(report)


@router.post("/banks/{bank_id}/imports/qti", response_model=ImportReportOut,
             summary="Import items from a QTI 3.0 package")
def import_qti(bank_id: IdPath, file: UploadDep, session: SessionDep, actor: ManagerDep,
               mode: ModeForm = ImportMode.DRAFT, batch_ref: BatchRefForm = "", dry_run: DryRunForm = False,
               default_elements: Annotated[list[ShortText] | None, Form(
                   description="Element codes for items whose metadata names none.")] = None,
               ) -> ImportReportOut:
    """A QTI 3.0 content package (.zip with imsmanifest.xml) or one item's XML file."""
    bank = occupations.get_bank_by_id(session, bank_id)
    data, name = _read(file)
    elements = [e for e in (default_elements or []) if e][:50]
    report = qti.import_qti(session, actor=actor, bank=bank, data=data, filename=name, mode=mode,
                            batch_ref=batch_ref, dry_run=dry_run, default_elements=elements)
    if not dry_run:
        session.commit()
    return ImportReportOut.of(report)


@router.post("/banks/{bank_id}/imports/elements", response_model=ElementImportOut,
             summary="Import element tables from Excel (.xlsx)")
def import_elements(bank_id: IdPath, file: UploadDep, session: SessionDep, actor: ManagerDep,
                    part: Annotated[Part | None, Form(description="When the sheet has no 部分 column.")] = None,
                    dry_run: DryRunForm = False, note: Annotated[Text, Form(max_length=2000)] = "",
                    ) -> ElementImportOut:
    """Sheet 认定要素细目表; each part whose rows differ from the current table becomes a new
    table version. All parts are checked before any is saved."""
    bank = occupations.get_bank_by_id(session, bank_id)
    data, name = _read(file)
    report = imports.import_elements(session, actor=actor, bank=bank, data=data, filename=name,
                                     default_part=part, dry_run=dry_run, note=note)
    if not dry_run:
        session.commit()
    return ElementImportOut.of(report)


@router.get("/banks/{bank_id}/exports/qti", response_class=Response, responses=file_response(ZIP),
            summary="Export items as a QTI 3.0 package (ledgered)")
def export_qti(bank_id: IdPath, session: SessionDep, actor: ManagerDep, part: Part | None = None,
               state: Annotated[list[VersionState] | None, Query(description="Default: accepted.")] = None,
               code: Annotated[list[ShortText] | None, Query(
                   description="Only these items (repeat the parameter).")] = None) -> Response:
    """Taking item content out of the bank is for bank managers only, and goes in the ledger
    with every item and version (附件11 第23条)."""
    bank = occupations.get_bank_by_id(session, bank_id)
    data, chosen = qti.export_qti(session, actor=actor, bank=bank, codes=code, part=part,
                                  states=tuple(state) if state else (VersionState.ACCEPTED,))
    session.commit()
    return download(data, f"qti_{bank.occupation.code}_L{int(bank.level)}.zip", ZIP)


class Template(str, enum.Enum):
    ITEMS_XLSX = "items.xlsx"
    ITEMS_CSV = "items.csv"
    ELEMENTS_XLSX = "elements.xlsx"
    APPLICATIONS_XLSX = "applications.xlsx"


@router.get("/templates/{name}", response_class=Response, responses=file_response(XLSX, CSV),
            summary="Download an empty import template")
def template(name: Template, actor: CurrentActor) -> Response:
    """Workbooks with the expected sheets and columns, instructions and an example row."""
    from lifecycle.registration import registration_template_xlsx

    made = {Template.ITEMS_XLSX: (imports.items_template, XLSX), Template.ITEMS_CSV: (imports.items_csv_template, CSV),
            Template.ELEMENTS_XLSX: (imports.elements_template, XLSX),
            Template.APPLICATIONS_XLSX: (registration_template_xlsx, XLSX)}[name]
    return download(made[0](), name.value, made[1])
