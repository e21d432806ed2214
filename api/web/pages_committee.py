"""Acceptance committees (附件11 第17条): the batches a member sits on (all of a bank for its
managers), one batch with its items and every member's signed vote, voting (accept, or refuse
with a reason; each vote confirmed before it is signed), a bank manager's withdrawal, and the
form that puts approved items to a committee. The batch is decided when every member has voted,
by the rule the centre configured (``Settings.acceptance_rule``), which the page states.
The rules are ``itembank.workflow``'s; who may read a batch is the API's rule
(``api.routes.batches``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, SettingsDep
from api.routes.batches import _may_read, _sits_on
from api.web.common import banks_for, page_router, scoped_bank
from api.web.render import field_errors, flash_of, pager, paging, problem_text, render
from api.web.session import FormDep, PageContext, page_role
from itembank import accounts, ledger, occupations, workflow
from itembank import items as item_service
from itembank.domain import Role, VersionState
from itembank.errors import ValidationError, WorkflowError
from itembank.i18n import FieldMessage, Message, N_
from itembank.pool import page_items
from itembank.workflow import AcceptanceRule, BatchState

router = page_router()
ReaderDep = Annotated[PageContext, page_role(Role.BANK_MANAGER, Role.COMMITTEE_MEMBER, Role.AUDITOR)]
ManagerDep = Annotated[PageContext, page_role(Role.BANK_MANAGER)]
MemberDep = Annotated[PageContext, page_role(Role.COMMITTEE_MEMBER)]
FLASH = {
    "created": N_("The acceptance batch was made; it waits for every member's vote."),
    "accept": N_("You signed: accepted."), "refuse": N_("You signed: not accepted, with your reason."),
    "accepted": N_("Every member has voted: the batch is accepted and its items are in the bank."),
    "rejected": N_("Every member has voted: the batch is not accepted; the items go back to their writers with "
                   "the reasons."),
    "withdrawn": N_("The batch was withdrawn; its items go back to their writers with your reason."),
}
RULE_TEXT = {
    AcceptanceRule.UNANIMOUS: N_("When every member has voted, the batch is accepted only if all of them accept."),
    AcceptanceRule.TWO_THIRDS: N_("When every member has voted, the batch is accepted if at least two thirds of "
                                  "them accept."),
    AcceptanceRule.MAJORITY: N_("When every member has voted, the batch is accepted if more than half of them "
                                "accept."),
}


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
    return render(request, "batch_page.html", {**context, **flash_of(request, FLASH)})


def _batch_context(session, ctx: PageContext, batch_code: str) -> dict:  # type: ignore[no-untyped-def]
    batch = workflow.get_batch(session, batch_code=batch_code)
    bank = occupations.get_bank_by_id(session, batch.bank_id)
    occ = bank.occupation.code
    content = ctx.has(Role.BANK_MANAGER, occ) or _sits_on(ctx.actor, bank, batch)
    _may_read(ctx.actor, bank, batch, content=content)
    found = []
    if content:  # members judge the content before voting; the reading is ledgered (附件11 第23条)
        found = [item_service.get_item(session, bank=bank, code=c, version=n) for c, n in batch.items]
        ledger.append(session, actor=ctx.user.username, action="batch.read", object_type="acceptance_batch",
                      object_id=batch.code, details={"items": [f"{c} v{n}" for c, n in batch.items], "via": "web"})
    me = ctx.user.username
    is_open = batch.state is BatchState.OPEN
    return {
        "bank": bank, "batch": batch, "items": found, "votes": {v.member: v for v in batch.votes},
        "rule_text": RULE_TEXT[batch.rule],
        "may_vote": is_open and me in batch.unsigned and ctx.has(Role.COMMITTEE_MEMBER, occ),
        "may_withdraw": is_open and ctx.has(Role.BANK_MANAGER, occ) and me not in batch.members,
        "errors": {}, "values": {},
    }


def _again(request: Request, session, ctx: PageContext, batch_code: str, *, status: int = 422,  # type: ignore[no-untyped-def]
           **extra) -> Response:
    context = _batch_context(session, ctx, batch_code)
    session.commit()
    return render(request, "batch_page.html", {**context, **extra}, status_code=status)


@router.post("/ui/batches/{batch_code}/vote")
def vote(request: Request, batch_code: str, session: SessionDep, ctx: MemberDep, form: FormDep) -> Response:
    """A member's vote: first shown back for confirmation (what is signed, that it is final),
    then, with ``confirmed``, signed (``workflow.vote_batch``)."""
    choice = str(form.get("vote") or "")
    opinion = str(form.get("opinion") or "").strip()[:2000]
    codes = [str(c)[:64] for c in form.getlist("return_codes") if c]
    values = {"vote": choice, "opinion": opinion, "return_codes": codes}
    errors: dict[str, list[str]] = {}
    if choice not in ("accept", "refuse"):
        errors["vote"] = [problem_text(Message("Choose “Accept” or “Do not accept”."))]
    elif choice == "refuse" and not opinion:
        errors["opinion"] = [problem_text(Message("Say why the batch is not accepted; the writers will read it."))]
    if errors:
        return _again(request, session, ctx, batch_code, errors=errors, values=values)
    if form.get("confirmed") != "1":
        return _again(request, session, ctx, batch_code, status=200, values=values, confirm=True)
    try:
        batch = workflow.vote_batch(session, actor=ctx.actor, batch_code=batch_code, accept=choice == "accept",
                                    opinion=opinion, return_codes=codes or None)
    except ValidationError as e:
        session.rollback()
        return _again(request, session, ctx, batch_code, values=values,
                      errors={"opinion" if e.field == "reason" else (e.field or "opinion"): [problem_text(e.head)]})
    session.commit()
    done = {BatchState.ACCEPTED: "accepted", BatchState.REJECTED: "rejected"}.get(batch.state, choice)
    return RedirectResponse(f"/ui/batches/{batch_code}?done={done}", status_code=303)


@router.post("/ui/batches/{batch_code}/withdraw")
def withdraw(request: Request, batch_code: str, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    """A bank manager (not a member) withdraws an open batch, with a reason, after confirming."""
    reason = str(form.get("reason") or "").strip()[:2000]
    if not reason:
        return _again(request, session, ctx, batch_code, values={"reason": reason}, errors={
            "reason": [problem_text(Message("Say why the batch is withdrawn; the writers will read it."))]})
    if form.get("confirmed") != "1":
        return _again(request, session, ctx, batch_code, status=200, values={"reason": reason},
                      confirm_withdraw=True)
    workflow.reject_batch(session, actor=ctx.actor, batch_code=batch_code, reason=reason)
    session.commit()
    return RedirectResponse(f"/ui/batches/{batch_code}?done=withdrawn", status_code=303)


# --------------------------------------------------------------------------------------
# A bank manager's new batch


def _batch_form(request: Request, session, ctx: PageContext, bank, rule: AcceptanceRule, *, chosen=(),  # type: ignore[no-untyped-def]
                members=(), meeting: str = "", note: str = "", errors: dict | None = None,
                status: int = 200) -> Response:
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
        "meeting": meeting, "note": note, "errors": errors or {}, "min_members": workflow.MIN_COMMITTEE_MEMBERS,
        "rule_text": RULE_TEXT[rule]}, status_code=status)


@router.get("/ui/banks/{bank_id}/batches/new")
def new_batch(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep, settings: SettingsDep) -> Response:
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    return _batch_form(request, session, ctx, bank, AcceptanceRule(settings.acceptance_rule))


@router.post("/ui/banks/{bank_id}/batches/new")
def create_batch(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep, settings: SettingsDep,
                 form: FormDep) -> Response:
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    rule = AcceptanceRule(settings.acceptance_rule)
    codes = [str(c)[:64] for c in form.getlist("codes") if c]
    members = [str(u)[:100] for u in form.getlist("members") if u]
    meeting, note = str(form.get("meeting") or "")[:200], str(form.get("note") or "")[:2000]
    try:
        batch = workflow.create_acceptance_batch(session, actor=ctx.actor, bank=bank, codes=codes, members=members,
                                                 meeting=meeting, note=note, rule=rule)
    except (WorkflowError, ValidationError) as e:
        session.rollback()
        problems = list(e.errors)  # messages (field messages) as data: matched on their fields, not their words
        errors = field_errors(problems or [e.head_text], known=("members", "items"))
        for p in problems:  # a problem of one item ("item X: ...") belongs to the items list
            whole = p.as_message() if isinstance(p, FieldMessage) else p
            if (isinstance(whole, Message) and whole.english().startswith("item ")) or \
                    (isinstance(p, FieldMessage) and isinstance(p.where, Message) and p.where.msgid == "item {code}"):
                shown = problem_text(p)
                errors.setdefault("items", []).append(shown) if shown not in errors.get("items", []) else None
                errors["_form"] = [x for x in errors.get("_form", []) if x != shown]
        if not errors.get("_form"):
            errors.pop("_form", None)
        return _batch_form(request, session, ctx, bank, rule, chosen=codes, members=members, meeting=meeting,
                           note=note, errors=errors, status=422)
    session.commit()
    return RedirectResponse(f"/ui/batches/{batch.code}?done=created", status_code=303)
