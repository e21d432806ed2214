"""The ledger (台帐) for auditors: search by object, actor, action and day, and the hash-chain
verification (``itembank.ledger``; 附件11 第24条)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.web.common import page_router
from api.web.render import CST, pager, paging, render
from api.web.session import PageContext, page_role_everywhere
from itembank.domain import Role
from itembank.ledger import count_ledger, query_ledger, verify_ledger

router = page_router()
AuditorDep = Annotated[PageContext, page_role_everywhere(Role.AUDITOR)]  # the centre's whole ledger
FILTERS = ("object_type", "object_id", "actor", "action", "since", "until")


def _day(raw: str, errors: dict[str, list[str]], name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = ["请输入日期，如 2026-11-28"]
        return None


@router.get("/ui/ledger")
def ledger_search(request: Request, session: SessionDep, ctx: AuditorDep) -> Response:
    values = {k: request.query_params.get(k, "").strip()[:128] for k in FILTERS}
    errors: dict[str, list[str]] = {}
    since, until = _day(values["since"], errors, "since"), _day(values["until"], errors, "until")
    if since and until and since > until:
        errors["until"] = ["结束日期早于开始日期"]
    filters = {k: values[k] or None for k in ("object_type", "object_id", "actor", "action")}
    # days are China Standard Time; the ledger stores UTC
    if since:
        filters["since"] = datetime.combine(since, time(), CST).astimezone(UTC)  # type: ignore[assignment]
    if until:
        filters["until"] = datetime.combine(until + timedelta(days=1), time(), CST).astimezone(UTC)  # type: ignore[assignment]
    offset, limit = paging(request, 50)
    entries, total = [], 0
    if not errors:
        total = count_ledger(session, **filters)  # type: ignore[arg-type]
        entries = query_ledger(session, **filters, limit=limit, offset=offset)  # type: ignore[arg-type]
    session.rollback()
    rows = [(e, json.dumps(e.details, ensure_ascii=False, indent=1, sort_keys=True)) for e in entries]
    return render(request, "ledger.html", {"rows": rows, "values": values, "errors": errors,
                                           "pager": pager(request, offset, limit, total)},
                  status_code=422 if errors else 200)


@router.get("/ui/ledger/verify")
def ledger_verify(request: Request, session: SessionDep, ctx: AuditorDep, expect_head: str = "") -> Response:
    """Recompute every hash of the chain (read-only)."""
    result = verify_ledger(session, expect_head=expect_head.strip()[:64] or None)
    session.rollback()
    return render(request, "ledger_verify.html", {"result": result, "expect_head": expect_head})
