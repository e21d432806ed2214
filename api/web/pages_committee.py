"""Acceptance committees (附件11 第17条): the batches a member sits on (all of a bank for its
managers), one batch with its items and who has signed, signing and rejecting, and a bank
manager's form that puts approved items to a committee. The rules are ``itembank.workflow``'s;
who may read a batch is the API's rule (``api.routes.batches``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.routes.batches import _may_read, _sits_on
from api.web.common import banks_for, page_router, scoped_bank
from api.web.render import field_errors, pager, paging, render
from api.web.session import FormDep, PageContext, page_role
from itembank import accounts, ledger, occupations, workflow
from itembank import items as item_service
from itembank.domain import Role, VersionState
from itembank.errors import ValidationError, WorkflowError
from itembank.pool import page_items
from itembank.workflow import BatchState

router = page_router()
ReaderDep = Annotated[PageContext, page_role(Role.BANK_MANAGER, Role.COMMITTEE_MEMBER, Role.AUDITOR)]
ManagerDep = Annotated[PageContext, page_role(Role.BANK_MANAGER)]
MemberDep = Annotated[PageContext, page_role(Role.COMMITTEE_MEMBER)]
RejectDep = Annotated[PageContext, page_role(Role.BANK_MANAGER, Role.COMMITTEE_MEMBER)]
FLASH = {"created": "验收批次已建立，等待全体委员签署。", "signed": "您已签署。", "accepted": "全体委员已签署：批次内试题已验收入库。",
         "rejected": "批次未通过验收，试题已退回修改。"}


@router.get("/ui/batches")
def batches(request: Request, session: SessionDep, ctx: ReaderDep, state: str = "open") -> Response:
    """Every batch of the banks a manager or auditor covers; a member's own batches."""
    wanted = None if state == "all" else _state(state)
    rows = []
    for bank in banks_for(session, ctx, Role.BANK_MANAGER, Role.COMMITTEE_MEMBER, Role.AUDITOR):
        occ = bank.occupation.code
        whole = ctx.has(Role.BANK_MANAGER, occ) or ctx.has(Role.AUDITOR, occ)
        rows += [(bank, b) for b in workflow.list_batches(session, bank=bank, state=wanted)
                 if whole or _sits_on(ctx.actor, bank, b)]
    offset, limit = paging(request)
    managed = banks_for(session, ctx, Role.BANK_MANAGER)
    session.rollback()
    return render(request, "batches.html", {"rows": rows[offset:offset + limit], "state": state,
                                            "pager": pager(request, offset, limit, len(rows)), "managed": managed,
                                            "me": ctx.user.username})


def _state(value: str) -> BatchState | None:
    try:
        return BatchState(value)
    except ValueError:
        return None


@router.get("/ui/batches/{batch_code}")
def batch_page(request: Request, batch_code: str, session: SessionDep, ctx: ReaderDep) -> Response:
    context = _batch_context(session, ctx, batch_code)
    session.commit()
    return render(request, "batch_page.html", {**context, "flash": FLASH.get(request.query_params.get("done", ""))})


def _batch_context(session, ctx: PageContext, batch_code: str) -> dict:  # type: ignore[no-untyped-def]
    batch = workflow.get_batch(session, batch_code=batch_code)
    bank = occupations.get_bank_by_id(session, batch.bank_id)
    occ = bank.occupation.code
    content = ctx.has(Role.BANK_MANAGER, occ) or _sits_on(ctx.actor, bank, batch)
    _may_read(ctx.actor, bank, batch, content=content)
    found = []
    if content:  # members judge the content before signing; the reading is ledgered (附件11 第23条)
        found = [item_service.get_item(session, bank=bank, code=c, version=n) for c, n in batch.items]
        ledger.append(session, actor=ctx.user.username, action="batch.read", object_type="acceptance_batch",
                      object_id=batch.code, details={"items": [f"{c} v{n}" for c, n in batch.items], "via": "web"})
    me = ctx.user.username
    return {
        "bank": bank, "batch": batch, "items": found, "signed": {s.member: s for s in batch.signatures},
        "may_sign": batch.state is BatchState.OPEN and me in batch.unsigned and ctx.has(Role.COMMITTEE_MEMBER, occ),
        "may_reject": batch.state is BatchState.OPEN and (ctx.has(Role.BANK_MANAGER, occ) or _sits_on(ctx.actor, bank, batch)),
    }


@router.post("/ui/batches/{batch_code}/sign")
def sign(batch_code: str, session: SessionDep, ctx: MemberDep, form: FormDep) -> Response:
    batch = workflow.sign_batch(session, actor=ctx.actor, batch_code=batch_code,
                                opinion=str(form.get("opinion") or "")[:2000])
    session.commit()
    done = "accepted" if batch.state is BatchState.ACCEPTED else "signed"
    return RedirectResponse(f"/ui/batches/{batch_code}?done={done}", status_code=303)


@router.post("/ui/batches/{batch_code}/reject")
def reject(request: Request, batch_code: str, session: SessionDep, ctx: RejectDep, form: FormDep) -> Response:
    reason = str(form.get("reason") or "")[:2000]
    try:
        workflow.reject_batch(session, actor=ctx.actor, batch_code=batch_code, reason=reason,
                              return_codes=[str(c) for c in form.getlist("return_codes") if c] or None)
    except ValidationError as e:
        session.rollback()
        context = _batch_context(session, ctx, batch_code)
        session.commit()
        return render(request, "batch_page.html", {**context, "reject_errors": {"reason": ["请写明未通过验收的理由（委员会意见）"
                                                   if e.field == "reason" else e.message]}, "reject_reason": reason},
                      status_code=422)
    session.commit()
    return RedirectResponse(f"/ui/batches/{batch_code}?done=rejected", status_code=303)


# --------------------------------------------------------------------------------------
# A bank manager's new batch


def _batch_form(request: Request, session, ctx: PageContext, bank, *, chosen=(), members=(),  # type: ignore[no-untyped-def]
                meeting: str = "", note: str = "", errors: dict | None = None, status: int = 200) -> Response:
    approved, _ = page_items(session, bank=bank, state=VersionState.APPROVED, limit=500)
    occ = bank.occupation.code
    committee = [u for u in accounts.list_users(session)
                 if u.active and any(r is Role.COMMITTEE_MEMBER and c in (None, occ) for r, c in u.roles)]
    if approved:
        ledger.append(session, actor=ctx.user.username, action="items.list", object_type="bank", object_id=bank.id,
                      details={"codes": [it.code for it in approved], "filters": {"state": "approved"}, "via": "web"})
    session.commit()
    return render(request, "batch_new.html", {
        "bank": bank, "approved": approved, "committee": committee, "chosen": set(chosen), "members": set(members),
        "meeting": meeting, "note": note, "errors": errors or {}, "min_members": workflow.MIN_COMMITTEE_MEMBERS},
        status_code=status)


@router.get("/ui/banks/{bank_id}/batches/new")
def new_batch(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep) -> Response:
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    return _batch_form(request, session, ctx, bank)


@router.post("/ui/banks/{bank_id}/batches/new")
def create_batch(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    codes = [str(c)[:64] for c in form.getlist("codes") if c]
    members = [str(u)[:100] for u in form.getlist("members") if u]
    meeting, note = str(form.get("meeting") or "")[:200], str(form.get("note") or "")[:2000]
    try:
        batch = workflow.create_acceptance_batch(session, actor=ctx.actor, bank=bank, codes=codes, members=members,
                                                 meeting=meeting, note=note)
    except (WorkflowError, ValidationError) as e:
        session.rollback()
        problems = [line.strip()[2:] for line in e.message.split("\n")[1:] if line.strip().startswith("- ")]
        errors = field_errors(problems or [e.message], known=("members", "items"))
        for p in problems:  # "item X: ..." belongs to the items list
            if p.startswith("item ") and p not in errors.get("items", []):
                errors.setdefault("items", []).append(p)
                errors["_form"] = [x for x in errors.get("_form", []) if x != p]
        return _batch_form(request, session, ctx, bank, chosen=codes, members=members, meeting=meeting, note=note,
                           errors=errors, status=422)
    session.commit()
    return RedirectResponse(f"/ui/batches/{batch.code}?done=created", status_code=303)

