"""Items: the lists each role may see, the item form with its live preview (writers), the item
page with versions, the old-vs-new diff, comments and the workflow acts, and the review queue.

Need-to-know is ``itembank.visibility`` (as ``GET /banks/{id}/items``); every reading of item
content is written to the ledger as the API writes it. Workflow acts are ``itembank.workflow``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.web.common import banks_for, page_router, scoped_bank
from api.web.forms import FIELDS, ItemForm
from api.web.render import field_errors, pager, paging, render
from api.web.session import FormDep, PageContext, page_role
from itembank import items as item_service
from itembank import ledger, occupations, workflow
from itembank.domain import BankRef, ItemContent, ItemType, Part, Role, VersionState
from itembank.elements import current_element_codes, load_element_table
from itembank.errors import NotFoundError, PermissionDeniedError, ValidationError
from itembank.experts import ExpertRole, list_experts
from itembank.items import validate_code, validate_content
from itembank.pool import page_items
from itembank.visibility import CONTENT_ROLES, item_visibility, require_item_access, require_own_item
from itembank.workflow import ReviewDecision

router = page_router()
ReaderDep = Annotated[PageContext, page_role(*CONTENT_ROLES)]
WriterDep = Annotated[PageContext, page_role(Role.ITEM_WRITER)]
ReviewerDep = Annotated[PageContext, page_role(Role.REVIEWER)]
ManagerDep = Annotated[PageContext, page_role(Role.BANK_MANAGER)]

FLASH = {
    "created": "试题已保存为草稿。", "submitted": "试题已提交审核。", "revised": "已保存为新版本（草稿），旧版本保留。",
    "assigned": "已分配审题专家。", "review_started": "已开始审核。", "approved": "已审核通过。",
    "changes_requested": "已退回修改，意见已通知命题专家。", "retired": "试题已停用。", "unchanged": "内容未改变，没有生成新版本。",
}
WAITING = (VersionState.SUBMITTED, VersionState.IN_REVIEW)


def _flash(request: Request) -> dict[str, str]:
    done = request.query_params.get("done", "")
    return {"flash": FLASH[done]} if done in FLASH else {}


# --------------------------------------------------------------------------------------
# Lists


@router.get("/ui/items")
def items_home(request: Request, session: SessionDep, ctx: ReaderDep) -> Response:
    """The banks whose items the user may see; straight to the one when there is one."""
    banks = banks_for(session, ctx, *CONTENT_ROLES)
    session.rollback()
    if len(banks) == 1:
        return RedirectResponse(f"/ui/banks/{banks[0].id}/items", status_code=303)
    return render(request, "bank_pick.html", {"banks": banks, "what": "试题", "suffix": "items"})


@router.get("/ui/banks/{bank_id}/items")
def items_list(request: Request, bank_id: int, session: SessionDep, ctx: ReaderDep,
               state: str = "", item_type: str = "", part: str = "", q: str = "") -> Response:
    """Writers: their own items by state; bank managers: the whole bank; reviewers and
    committee members: the items assigned to them or in their batches."""
    bank = occupations.get_bank_by_id(session, bank_id)
    vis = item_visibility(session, actor=ctx.actor, bank=bank)
    codes = sorted(vis.codes) if vis.codes is not None else None
    filters = {"state": _enum(VersionState, state), "item_type": _enum(ItemType, item_type),
               "part": _enum(Part, part), "q": q.strip()[:100] or None}
    offset, limit = paging(request)
    found, total = page_items(session, bank=bank, part=filters["part"], created_by=vis.created_by, codes=codes,
                              state=filters["state"], item_type=filters["item_type"].value if filters["item_type"] else None,
                              text=filters["q"], offset=offset, limit=limit)
    counts = {s: page_items(session, bank=bank, created_by=vis.created_by, codes=codes, state=s, limit=0)[1]
              for s in VersionState}
    ledger.append(session, actor=ctx.user.username, action="items.list", object_type="bank", object_id=bank_id,
                  details={"codes": [it.code for it in found], "filters": {
                      "part": part or None, "state": state or None, "q": filters["q"], "offset": offset,
                      "limit": limit}, "via": "web"})
    session.commit()
    return render(request, "items_list.html", {
        "bank": bank, "items": found, "pager": pager(request, offset, limit, total), "counts": counts,
        "filters": {"state": state, "item_type": item_type, "part": part, "q": q},
        "own_only": vis.created_by is not None, "whole_bank": vis.whole_bank,
        "can_write": ctx.has(Role.ITEM_WRITER, bank.occupation.code), **_flash(request)})


@router.get("/ui/reviews")
def review_queue(request: Request, session: SessionDep, ctx: ReviewerDep, show: str = "waiting") -> Response:
    """The items assigned to the reviewer, with their latest version (``workflow.assigned_items``)."""
    states = WAITING if show != "all" else None
    found = workflow.assigned_items(session, reviewer=ctx.user.username, states=states)
    banks = {b.id: b for b in occupations.list_banks(session)}
    offset, limit = paging(request)
    session.rollback()
    return render(request, "reviews.html", {
        "rows": found[offset:offset + limit], "banks": banks, "show": show,
        "pager": pager(request, offset, limit, len(found))})


def _enum(cls, value: str):  # type: ignore[no-untyped-def]
    try:
        return cls(value) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------------------------
# The item form and its preview


def _element_groups(session: Session, bank: BankRef, part: Part) -> list[tuple[str, list]]:
    """The element table of ``part`` as (scope, elements) groups for the picker; [] without a table."""
    try:
        table = load_element_table(session, bank=bank, part=part)
    except NotFoundError:
        return []
    leaves = table.leaves()
    groups: dict[str, list] = defaultdict(list)
    names = {n.code: n.name for n in table.nodes}
    for leaf in leaves:
        groups[f"{leaf.parent_code} {names.get(leaf.parent_code or '', '')}" if leaf.parent_code else ""].append(leaf)
    return list(groups.items())


def _problems(session: Session, bank: BankRef, form: ItemForm, *, new: bool) -> tuple[ItemContent, dict[str, list[str]]]:
    """The content and every problem, by field: input problems first; the item rules of
    ``validate_content`` (and ``validate_code``) for the fields whose input could be read."""
    content, problems = form.to_content()
    input_fields = {p.split(":", 1)[0] for p in problems}
    rules = validate_content(content, element_codes=current_element_codes(session, bank_id=bank.id or 0,
                                                                           part=content.part))
    if new:
        rules += [f"code: {p}" for p in validate_code(form.code)]
    problems += [p for p in rules if p.split(":", 1)[0] not in input_fields]
    return content, field_errors(problems, known=FIELDS)


def _form_page(request: Request, session: Session, bank: BankRef, form: ItemForm, *, editing: str = "",
               errors: dict | None = None, status: int = 200, fragment: bool = False) -> Response:
    t = form.type or ItemType.SINGLE_CHOICE
    reviews = workflow.reviews_of(session, bank=bank, code=editing) if editing else []
    ctx = {"bank": bank, "form": form, "errors": errors or {}, "editing": editing, "types": list(ItemType),
           "groups": _element_groups(session, bank, t.part), "part": t.part, "reviews": reviews,
           "content": form.to_content()[0], "checked": bool(errors), "fields": FIELDS}
    session.rollback()
    return render(request, "item_form_body.html" if fragment else "item_form.html", ctx, status_code=status)


def _writer_bank(session: Session, ctx: PageContext, bank_id: int) -> BankRef:
    return scoped_bank(session, ctx, bank_id, Role.ITEM_WRITER)


def _own_item(session: Session, ctx: PageContext, bank: BankRef, code: str) -> None:
    """Writers revise only their own items (as ``PUT /banks/{id}/items/{code}``)."""
    require_own_item(session, actor=ctx.actor, bank=bank, code=code)


@router.get("/ui/banks/{bank_id}/items/new")
def new_item(request: Request, bank_id: int, session: SessionDep, ctx: WriterDep,
             item_type: str = ItemType.SINGLE_CHOICE.value) -> Response:
    bank = _writer_bank(session, ctx, bank_id)
    return _form_page(request, session, bank, ItemForm(item_type=item_type if _enum(ItemType, item_type) else
                                                       ItemType.SINGLE_CHOICE.value))


@router.post("/ui/banks/{bank_id}/items/form")
def item_form_refresh(request: Request, bank_id: int, session: SessionDep, ctx: WriterDep, form: FormDep) -> Response:
    """The form again with what was typed: after a change of type, or with one more option or
    scoring point (htmx swaps the form's body; without script the whole page comes back)."""
    bank = _writer_bank(session, ctx, bank_id)
    editing = str(form.get("editing") or "")
    if editing:
        _own_item(session, ctx, bank, editing)
    return _form_page(request, session, bank, ItemForm.from_form(form), editing=editing,
                      fragment=request.headers.get("HX-Request") == "true")


@router.post("/ui/banks/{bank_id}/items/preview")
def item_preview(request: Request, bank_id: int, session: SessionDep, ctx: WriterDep, form: FormDep) -> Response:
    """The candidate's view of what is typed, and every problem next to its field (out of band)."""
    bank = _writer_bank(session, ctx, bank_id)
    item_form = ItemForm.from_form(form)
    content, errors = _problems(session, bank, item_form, new=not form.get("editing"))
    session.rollback()
    return render(request, "item_preview.html", {"content": content, "errors": errors, "fields": FIELDS,
                                                 "oob": True, "checked": True})


@router.post("/ui/banks/{bank_id}/items/new")
def create_item(request: Request, bank_id: int, session: SessionDep, ctx: WriterDep, form: FormDep) -> Response:
    bank = _writer_bank(session, ctx, bank_id)
    item_form = ItemForm.from_form(form)
    content, errors = _problems(session, bank, item_form, new=True)
    if errors:
        return _form_page(request, session, bank, item_form, errors=errors, status=422)
    try:
        workflow.create_item(session, actor=ctx.actor, bank=bank, code=item_form.code, content=content,
                             set_code=item_form.set_code or None)
        if form.get("action") == "submit":
            workflow.submit(session, actor=ctx.actor, bank=bank, code=item_form.code)
    except ValidationError as e:
        session.rollback()
        return _form_page(request, session, bank, item_form, status=422,
                          errors=field_errors(e.errors, known=FIELDS))
    session.commit()
    done = "submitted" if form.get("action") == "submit" else "created"
    return RedirectResponse(f"/ui/banks/{bank_id}/items/{item_form.code}?done={done}", status_code=303)


@router.get("/ui/banks/{bank_id}/items/{code}/edit")
def edit_item(request: Request, bank_id: int, code: str, session: SessionDep, ctx: WriterDep) -> Response:
    bank = _writer_bank(session, ctx, bank_id)
    _own_item(session, ctx, bank, code)
    item = item_service.get_item(session, bank=bank, code=code)
    ledger.append(session, actor=ctx.user.username, action="item.read", object_type="item", object_id=item.id or code,
                  details={"code": code, "version": item.version, "purpose": "edit", "via": "web"})
    session.commit()
    return _form_page(request, session, bank, ItemForm.from_item(item), editing=code)


@router.post("/ui/banks/{bank_id}/items/{code}/edit")
def save_revision(request: Request, bank_id: int, code: str, session: SessionDep, ctx: WriterDep,
                  form: FormDep) -> Response:
    bank = _writer_bank(session, ctx, bank_id)
    _own_item(session, ctx, bank, code)
    item_form = ItemForm.from_form(form)
    item_form.code = code
    content, errors = _problems(session, bank, item_form, new=False)
    if errors:
        return _form_page(request, session, bank, item_form, editing=code, errors=errors, status=422)
    before = item_service.get_item(session, bank=bank, code=code).version
    try:
        item = workflow.revise(session, actor=ctx.actor, bank=bank, code=code, content=content,
                               reason=item_form.reason.strip())
        if form.get("action") == "submit":
            workflow.submit(session, actor=ctx.actor, bank=bank, code=code)
    except ValidationError as e:
        session.rollback()
        return _form_page(request, session, bank, item_form, editing=code, status=422,
                          errors=field_errors(e.errors, known=FIELDS))
    session.commit()
    done = "submitted" if form.get("action") == "submit" else ("revised" if item.version != before else "unchanged")
    return RedirectResponse(f"/ui/banks/{bank_id}/items/{code}?done={done}", status_code=303)


# --------------------------------------------------------------------------------------
# One item: content, versions, diff, reviews, history, and the acts the user may do


@router.get("/ui/banks/{bank_id}/items/{code}")
def item_page(request: Request, bank_id: int, code: str, session: SessionDep, ctx: ReaderDep,
              version: int | None = None) -> Response:
    context = _item_context(session, ctx, bank_id, code, version)
    session.commit()
    return render(request, "item_page.html", {**context, **_flash(request)})


def _item_context(session: Session, ctx: PageContext, bank_id: int, code: str, version: int | None) -> dict:
    """What the item page shows the user (need-to-know checked; the reading is ledgered)."""
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=ctx.actor, bank=bank, code=code)
    versions = item_service.list_versions(session, bank=bank, code=code)
    latest = versions[-1]
    shown = next((v for v in versions if v.version == version), latest)
    occ = bank.occupation.code
    me = ctx.user.username
    writer = item_service.item_writer(session, bank=bank, code=code)
    reviewers = workflow.reviewers_of(session, bank=bank, code=code)
    diff = None
    if shown.version > 1:
        diff = workflow.compare_versions(session, actor=ctx.actor, bank=bank, code=code, old=shown.version - 1,
                                         new=shown.version)
    ledger.append(session, actor=me, action="item.read", object_type="item", object_id=latest.id or code,
                  details={"code": code, "version": shown.version, "via": "web"})
    is_manager = ctx.has(Role.BANK_MANAGER, occ)
    candidates = []
    if is_manager:  # the service refuses any other author of the item, with its reason
        candidates = [e for e in list_experts(session, occupation_code=occ, role=ExpertRole.REVIEWER)
                      if not e.suspended and e.username not in reviewers and e.username != writer]
    history = workflow.item_history(session, bank=bank, code=code) if (is_manager or writer == me) else []
    reviews = workflow.reviews_of(session, bank=bank, code=code)
    return {
        "bank": bank, "item": shown, "latest": latest, "versions": versions, "diff": diff, "reviews": reviews,
        "reviewers": reviewers, "candidates": candidates, "history": history, "writer": writer,
        "may": {
            "edit": ctx.has(Role.ITEM_WRITER, occ) and writer == me and latest.state not in workflow.IN_FLIGHT,
            "submit": ctx.has(Role.ITEM_WRITER, occ) and latest.state in (VersionState.DRAFT,
                                                                           VersionState.CHANGES_REQUESTED)
                      and writer == me,
            "assign": is_manager and latest.state not in (VersionState.RETIRED,),
            "retire": is_manager and latest.state is VersionState.ACCEPTED,
            "start_review": ctx.has(Role.REVIEWER, occ) and me in reviewers and latest.state is VersionState.SUBMITTED,
            "review": ctx.has(Role.REVIEWER, occ) and me in reviewers and latest.state is VersionState.IN_REVIEW,
        }}


def _act(session: Session, ctx: PageContext, bank_id: int, code: str, done: str, act) -> Response:  # type: ignore[no-untyped-def]
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=ctx.actor, bank=bank, code=code)  # unknown and foreign codes alike
    act(bank)
    session.commit()
    return RedirectResponse(f"/ui/banks/{bank_id}/items/{code}?done={done}", status_code=303)


@router.post("/ui/banks/{bank_id}/items/{code}/submit")
def submit(bank_id: int, code: str, session: SessionDep, ctx: WriterDep, form: FormDep) -> Response:
    return _act(session, ctx, bank_id, code, "submitted", lambda bank: workflow.submit(
        session, actor=ctx.actor, bank=bank, code=code, comment=str(form.get("comment") or "")[:2000]))


@router.post("/ui/banks/{bank_id}/items/{code}/assign")
def assign(request: Request, bank_id: int, code: str, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    reviewer = str(form.get("reviewer") or "").strip()[:100]
    if not reviewer:
        raise ValidationError("请选择审题专家", field="reviewer")
    return _act(session, ctx, bank_id, code, "assigned", lambda bank: workflow.assign_reviewer(
        session, actor=ctx.actor, bank=bank, code=code, reviewer=reviewer))


@router.post("/ui/banks/{bank_id}/items/{code}/retire")
def retire(bank_id: int, code: str, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    return _act(session, ctx, bank_id, code, "retired", lambda bank: workflow.retire_item(
        session, actor=ctx.actor, bank=bank, code=code, reason=str(form.get("reason") or "")[:2000]))


@router.post("/ui/banks/{bank_id}/items/{code}/start-review")
def start_review(bank_id: int, code: str, session: SessionDep, ctx: ReviewerDep, form: FormDep) -> Response:
    return _act(session, ctx, bank_id, code, "review_started", lambda bank: workflow.start_review(
        session, actor=ctx.actor, bank=bank, code=code))


@router.post("/ui/banks/{bank_id}/items/{code}/review")
def record_review(request: Request, bank_id: int, code: str, session: SessionDep, ctx: ReviewerDep,
                  form: FormDep) -> Response:
    decision = _enum(ReviewDecision, str(form.get("decision") or ""))
    comment = str(form.get("comment") or "")[:4000]
    errors: dict[str, list[str]] = {}
    if decision is None:
        errors["decision"] = ["请选择“通过”或“退回修改”"]
    elif decision is ReviewDecision.REQUEST_CHANGES and not comment.strip():
        errors["comment"] = ["退回修改时请写明需要修改的内容"]
    if not errors:
        bank = occupations.get_bank_by_id(session, bank_id)
        require_item_access(session, actor=ctx.actor, bank=bank, code=code)
        try:
            workflow.record_review(session, actor=ctx.actor, bank=bank, code=code, decision=decision,
                                   comment=comment)
        except ValidationError as e:
            session.rollback()
            errors = {e.field or "comment": [e.message]}
        else:
            session.commit()
            done = "approved" if decision is ReviewDecision.APPROVE else "changes_requested"
            return RedirectResponse(f"/ui/banks/{bank_id}/items/{code}?done={done}", status_code=303)
    # the page again, with what was typed and the problems next to the fields
    context = _item_context(session, ctx, bank_id, code, None)
    session.commit()
    return render(request, "item_page.html", {
        **context, "review_errors": errors,
        "review_form": {"decision": decision.value if decision else "", "comment": comment}}, status_code=422)
