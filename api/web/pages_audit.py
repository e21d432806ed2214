"""The ledger (台帐) for auditors: newest first, searched by object, actor, action and day with
the objects and actions named in words, each entry told as a sentence, exported to Excel, and
the hash-chain verification (``itembank.ledger``; 附件11 第24条)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, SettingsDep
from api.web.common import page_router
from api.web.render import pager, paging, problem_text, render
from api.web.session import FormDep, PageContext, page_role_everywhere
from itembank import i18n, ledger
from itembank.domain import Role
from itembank.errors import ItemBankError, NotFoundError, ValidationError
from itembank.i18n import Message, _
from itembank.keys import ledger_key
from itembank.ledger_text import OBJECT_TYPES, action_choices, describe_entries, object_type_choices, raw_json
from itembank.ledger import (
    count_ledger,
    export_checkpoint,
    latest_checkpoint,
    make_checkpoint,
    parse_checkpoint,
    query_ledger,
    verify_ledger,
    write_witness,
)

router = page_router()
AuditorDep = Annotated[PageContext, page_role_everywhere(Role.AUDITOR)]  # the centre's whole ledger
FILTERS = ("object_type", "object_id", "actor", "action", "since", "until", "order")
EXPORT_LIMIT = 100_000  # rows in one Excel export; narrow the filters for more
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(raw: str, errors: dict[str, list[str]], name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = [problem_text(Message("Give a date such as 2026-11-28."))]
        return None


def _filters(request: Request) -> tuple[dict[str, str], dict[str, Any], dict[str, list[str]]]:
    """The typed values, the ledger query's filters (days in the centre's time zone, the ledger
    stores UTC) and the problems, by field."""
    values = {k: request.query_params.get(k, "").strip()[:128] for k in FILTERS}
    errors: dict[str, list[str]] = {}
    since, until = _day(values["since"], errors, "since"), _day(values["until"], errors, "until")
    if since and until and since > until:
        errors["until"] = [problem_text(Message("The end date is before the start date."))]
    filters: dict[str, Any] = {k: values[k] or None for k in ("object_type", "object_id", "actor", "action")}
    zone = i18n.time_zone()
    if since:
        filters["since"] = datetime.combine(since, time(), zone).astimezone(UTC)
    if until:
        filters["until"] = datetime.combine(until + timedelta(days=1), time(), zone).astimezone(UTC)
    return values, filters, errors


def _object_label(object_type: str) -> str:
    return i18n.gettext(OBJECT_TYPES[object_type]) if object_type in OBJECT_TYPES else object_type


@router.get("/ui/ledger")
def ledger_search(request: Request, session: SessionDep, ctx: AuditorDep) -> Response:
    values, filters, errors = _filters(request)
    offset, limit = paging(request, 50)
    entries, total = [], 0
    if not errors:
        total = count_ledger(session, **filters)
        entries = query_ledger(session, **filters, limit=limit, offset=offset,
                               newest_first=values["order"] != "oldest")
    texts = describe_entries(session, entries)
    session.rollback()
    rows = [{"e": e, "t": t, "object": _object_label(e.object_type), "raw": raw_json(e)}
            for e, t in zip(entries, texts, strict=True)]
    return render(request, "ledger.html", {
        "rows": rows, "values": values, "errors": errors, "pager": pager(request, offset, limit, total),
        "object_choices": object_type_choices(), "action_sections": action_choices(),
        "export_query": request.url.query}, status_code=422 if errors else 200)


@router.get("/ui/ledger/export.xlsx")
def ledger_export(request: Request, session: SessionDep, ctx: AuditorDep) -> Response:
    """The entries the search finds (newest first, at most ``EXPORT_LIMIT``) as an Excel
    workbook: time in the centre's zone, actor, action in words and as code, object, the
    sentence, the details and the hash. The export itself goes into the ledger."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    values, filters, errors = _filters(request)
    if errors:
        field = next(iter(errors))
        raise ValidationError(errors[field][0], field=field)
    entries = query_ledger(session, **filters, limit=EXPORT_LIMIT, newest_first=values["order"] != "oldest")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Ledger"))
    header = [_("No."), _("Time"), _("Actor"), _("Action"), _("Action code"), _("Object"), _("Object ID"),
              _("What happened"), _("Details"), _("Hash")]
    ws.append(header)
    for e, t in zip(entries, describe_entries(session, entries), strict=True):
        ws.append([e.id, i18n.format_datetime(e.at, seconds=True), t.actor, str(t.action), e.action,
                   _object_label(e.object_type), str(e.object_id), str(t.sentence),
                   json.dumps(e.details, ensure_ascii=False, sort_keys=True), e.hash])
    buf = io.BytesIO()
    wb.save(buf)
    stamp = f"{datetime.now(UTC):%Y%m%d-%H%M}"  # the export is named by its time (the file's name too)
    ledger.append(session, actor=ctx.user.username, action="ledger.export", object_type="ledger", object_id=stamp,
                  details={"filters": {k: v for k, v in values.items() if v}, "rows": len(entries), "via": "web",
                           "format": "xlsx"})
    session.commit()
    name = _("ledger") + f"_{stamp}.xlsx"
    return Response(buf.getvalue(), media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}", "Cache-Control": "no-store"})


@router.get("/ui/ledger/verify")
def ledger_verify(request: Request, session: SessionDep, ctx: AuditorDep, expect_head: str = "") -> Response:
    """Recompute every hash and MAC; check the newest checkpoints (read-only)."""
    result = verify_ledger(session, expect_head=expect_head.strip()[:64] or None)
    return _verification_page(request, session, result, expect_head=expect_head)


@router.post("/ui/ledger/verify")
def ledger_verify_against(request: Request, session: SessionDep, ctx: AuditorDep, form: FormDep) -> Response:
    """The same, and against an exported checkpoint pasted from the archive."""
    raw = str(form.get("checkpoint") or "")[:20_000]
    try:
        given = [parse_checkpoint(raw)] if raw.strip() else []
    except ValidationError as e:
        result = verify_ledger(session)
        return _verification_page(request, session, result, errors={"checkpoint": [e.message]}, pasted=raw,
                                  status=422)
    result = verify_ledger(session, checkpoints=given)
    return _verification_page(request, session, result, pasted=raw)


def _verification_page(request: Request, session, result, *, expect_head: str = "",  # type: ignore[no-untyped-def]
                       errors: dict | None = None, pasted: str = "", status: int = 200) -> Response:
    key = ledger_key_or_none(session)
    latest = latest_checkpoint(session)
    session.rollback()
    return render(request, "ledger_verify.html", {
        "result": result, "expect_head": expect_head, "key_id": key.key_id if key else None, "latest": latest,
        "errors": errors or {}, "pasted": pasted, "done": request.query_params.get("done", "")},
        status_code=status)


@router.post("/ui/ledger/checkpoints")
def ledger_checkpoint(session: SessionDep, ctx: AuditorDep, form: FormDep) -> Response:
    """Sign a checkpoint now (also appended to the witness file beside the key)."""
    cp = make_checkpoint(session, actor=ctx.user.username)
    session.commit()
    write_witness(session, cp)
    return RedirectResponse("/ui/ledger/verify?done=checkpoint", status_code=303)


@router.get("/ui/ledger/checkpoints/latest.txt")
def ledger_checkpoint_text(session: SessionDep, settings: SettingsDep, ctx: AuditorDep) -> Response:
    """The newest checkpoint as a printable page for the archive."""
    cp = latest_checkpoint(session)
    key = ledger_key_or_none(session)
    session.rollback()
    if cp is None or key is None:
        raise NotFoundError(Message("there is no checkpoint yet: make one (POST /ledger/checkpoints)"))
    text = export_checkpoint(cp, public_key=key.public_key, centre_name=settings.centre_name)
    return Response(text, media_type="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="ledger-checkpoint-{cp.id}.txt"', "Cache-Control": "no-store"})


def ledger_key_or_none(session):  # type: ignore[no-untyped-def]
    try:
        return ledger_key(session)
    except ItemBankError:
        return None
