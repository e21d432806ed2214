"""Items: the lists each role may see (with bulk reviewer assignment for bank managers), the
item form with its live preview (writers; drafts save incomplete, codes are numbered for
them), the item page with versions, the character-level old-vs-new diff, the review record,
the history of what happened, the workflow acts, and the review queue with 下一题.

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
from api.web.render import as_field_problem, field_errors, flash_of, pager, paging, problem_field, problem_text, render
from api.web.session import FormDep, PageContext, page_role
from itembank import items as item_service
from itembank import ledger, occupations, workflow
from itembank.domain import BankRef, ItemContent, ItemType, Part, Role, VersionState
from itembank.elements import current_element_codes, load_element_table
from itembank.errors import ItemValidationError, NotFoundError, NotQualifiedError, PermissionDeniedError, ValidationError
from itembank.experts import ExpertRole, list_experts, require_expert
from itembank.i18n import Message, N_
from itembank.items import validate_code, validate_content
from itembank.ledger_text import describe_entries
from itembank.pool import page_items
from itembank.similarity_service import similar_for
from itembank.visibility import CONTENT_ROLES, item_visibility, require_item_access, require_own_item
from itembank.workflow import ReviewDecision, ReviewKind

router = page_router()
ReaderDep = Annotated[PageContext, page_role(*CONTENT_ROLES)]
WriterDep = Annotated[PageContext, page_role(Role.ITEM_WRITER)]
ReviewerDep = Annotated[PageContext, page_role(Role.REVIEWER)]
ManagerDep = Annotated[PageContext, page_role(Role.BANK_MANAGER)]

FLASH = {
    "created": N_("The item was saved as a draft."), "saved": N_("The draft was saved."),
    "submitted": N_("The item was submitted for review."),
    "revised": N_("Saved as a new version (a draft); the old version is kept."),
    "assigned": N_("The reviewer was assigned."), "review_started": N_("The review has started."),
    "approved": N_("Approved."), "changes_requested": N_("Sent back for changes; the writer sees your comment."),
    "retired": N_("The item was retired."), "unchanged": N_("Nothing was changed; no new version was made."),
}
WAITING = (VersionState.SUBMITTED, VersionState.IN_REVIEW)


# --------------------------------------------------------------------------------------
# Lists


@router.get("/ui/items")
def items_home(request: Request, session: SessionDep, ctx: ReaderDep) -> Response:
    """The banks whose items the user may see; straight to the one when there is one."""
    banks = banks_for(session, ctx, *CONTENT_ROLES)
    session.rollback()
    if len(banks) == 1:
        return RedirectResponse(f"/ui/banks/{banks[0].id}/items", status_code=303)
    return render(request, "bank_pick.html", {"banks": banks, "what": N_("Items"), "suffix": "items"})


def _list_context(request: Request, session: Session, ctx: PageContext, bank: BankRef, *, state: str,
                  item_type: str, part: str, q: str) -> dict:
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
    ledger.append(session, actor=ctx.user.username, action="items.list", object_type="bank", object_id=bank.id,
                  details={"codes": [it.code for it in found], "filters": {
                      "part": part or None, "state": state or None, "q": filters["q"], "offset": offset,
                      "limit": limit}, "via": "web"})
    manager = ctx.has(Role.BANK_MANAGER, bank.occupation.code)
    reviewers = ([e for e in list_experts(session, occupation_code=bank.occupation.code, role=ExpertRole.REVIEWER)
                  if not e.suspended] if manager else [])
    assigned = {}
    if manager:
        for it in found:
            assigned[it.code] = workflow.reviewers_of(session, bank=bank, code=it.code)
    return {
        "bank": bank, "items": found, "pager": pager(request, offset, limit, total), "counts": counts,
        "filters": {"state": state, "item_type": item_type, "part": part, "q": q},
        "own_only": vis.created_by is not None, "whole_bank": vis.whole_bank,
        "can_write": ctx.has(Role.ITEM_WRITER, bank.occupation.code), "manager": manager,
        "reviewer_choices": reviewers, "assigned": assigned}


@router.get("/ui/banks/{bank_id}/items")
def items_list(request: Request, bank_id: int, session: SessionDep, ctx: ReaderDep,
               state: str = "", item_type: str = "", part: str = "", q: str = "") -> Response:
    """Writers: their own items by state; bank managers: the whole bank, with the submitted
    items assignable to a reviewer in one go; reviewers and committee members: the items
    assigned to them or in their batches."""
    bank = occupations.get_bank_by_id(session, bank_id)
    context = _list_context(request, session, ctx, bank, state=state, item_type=item_type, part=part, q=q)
    session.commit()
    return render(request, "items_list.html", {**context, **flash_of(request, FLASH)})


@router.post("/ui/banks/{bank_id}/items/assign")
def assign_many(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    """One reviewer for every ticked item (``workflow.assign_reviewers``: all or nothing)."""
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    codes = [str(c)[:64] for c in form.getlist("codes") if c][:500]
    reviewer = str(form.get("reviewer") or "").strip()[:100]
    keep = {k: str(form.get(k) or "") for k in ("state", "item_type", "part", "q")}
    errors: list = []
    if not reviewer:
        errors.append(("reviewer", Message("Choose the reviewer.")))
    if not codes:
        errors.append(("codes", Message("Tick the items to assign.")))
    if not errors:
        try:
            done = workflow.assign_reviewers(session, actor=ctx.actor, bank=bank, codes=codes, reviewer=reviewer)
        except (ValidationError, NotQualifiedError, PermissionDeniedError) as e:
            session.rollback()
            errors = [e.head, *getattr(e, "errors", [])[:50]] if isinstance(e, ValidationError) else \
                [e.head, *getattr(e, "missing", [])]
            errors = [x for x in errors if x]
        else:
            session.commit()
            target = f"/ui/banks/{bank_id}/items?state={keep['state']}&assigned={len(done)}&reviewer={reviewer}"
            return RedirectResponse(target, status_code=303)
    context = _list_context(request, session, ctx, bank, **keep)
    session.commit()
    return render(request, "items_list.html", {
        **context, "assign_errors": [problem_text(x[1]) if isinstance(x, tuple) else problem_text(x) for x in errors],
        "chosen": set(codes), "chosen_reviewer": reviewer}, status_code=422)


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
    input_fields = {name for name, _ in problems}
    rules: list = list(validate_content(content, element_codes=current_element_codes(session, bank_id=bank.id or 0,
                                                                                     part=content.part)))
    if new:
        rules += _code_problems(form.code)
    found: list = [*problems, *(p for p in rules if problem_field(p) not in input_fields)]
    return content, field_errors(found, known=FIELDS)


def _code_problems(code: str) -> list:
    """``validate_code``'s problems, each about the code field."""
    return [p if as_field_problem(p) else ("code", p) for p in validate_code(code)]


def _registration(session: Session, ctx: PageContext, bank: BankRef) -> list[str]:
    """Why the user may not save items of the bank's occupation (the expert register,
    附件11 第10条), in words; empty when they may."""
    try:
        require_expert(session, username=ctx.user.username, occupation_code=bank.occupation.code,
                       role=ExpertRole.WRITER)
    except NotQualifiedError as e:
        return [problem_text(x) for x in (e.head, *e.missing) if x]
    except NotFoundError as e:
        return [problem_text(e.head)]
    return []


def _form_page(request: Request, session: Session, ctx: PageContext, bank: BankRef, form: ItemForm, *,
               editing: str = "", errors: dict | None = None, status: int = 200, fragment: bool = False) -> Response:
    t = form.type or ItemType.SINGLE_CHOICE
    reviews = workflow.reviews_of(session, bank=bank, code=editing) if editing else []
    context = {"bank": bank, "form": form, "errors": errors or {}, "editing": editing, "types": list(ItemType),
               "groups": _element_groups(session, bank, t.part), "part": t.part, "reviews": reviews,
               "content": form.to_content()[0], "checked": bool(errors), "fields": FIELDS,
               "not_registered": _registration(session, ctx, bank)}
    session.rollback()
    if not fragment:  # the preview's first state: the bank's items the item repeats or gives away
        context["similar"], context["similar_total"] = similar_for(session, actor=ctx.actor, bank=bank,
                                                                   content=context["content"], code=editing)
        session.commit()  # only a ledger entry, where other writers' items were shown
    return render(request, "item_form_body.html" if fragment else "item_form.html", context, status_code=status)


def _exists(session: Session, bank: BankRef, code: str) -> bool:
    try:
        item_service.item_writer(session, bank=bank, code=code)
    except NotFoundError:
        return False
    return True


def _writer_bank(session: Session, ctx: PageContext, bank_id: int) -> BankRef:
    return scoped_bank(session, ctx, bank_id, Role.ITEM_WRITER)


def _own_item(session: Session, ctx: PageContext, bank: BankRef, code: str) -> None:
    """Writers revise only their own items (as ``PUT /banks/{id}/items/{code}``)."""
    require_own_item(session, actor=ctx.actor, bank=bank, code=code)


@router.get("/ui/banks/{bank_id}/items/new")
def new_item(request: Request, bank_id: int, session: SessionDep, ctx: WriterDep,
             item_type: str = ItemType.SINGLE_CHOICE.value) -> Response:
    bank = _writer_bank(session, ctx, bank_id)
    t = _enum(ItemType, item_type) or ItemType.SINGLE_CHOICE
    code = workflow.next_item_code(session, bank=bank, part=t.part)
    return _form_page(request, session, ctx, bank, ItemForm(item_type=t.value, code=code, code_auto=code))


@router.post("/ui/banks/{bank_id}/items/form")
def item_form_refresh(request: Request, bank_id: int, session: SessionDep, ctx: WriterDep, form: FormDep) -> Response:
    """The form again with what was typed: after a change of type, or with one more option or
    scoring point (htmx swaps the form's body; without script the whole page comes back)."""
    bank = _writer_bank(session, ctx, bank_id)
    editing = str(form.get("editing") or "")
    if editing:
        _own_item(session, ctx, bank, editing)
    item_form = ItemForm.from_form(form)
    t = item_form.type
    if not editing and t is not None and item_form.code == item_form.code_auto:
        # the code was the suggested one: follow the part of the new type (theory T, practical P ...)
        item_form.code = item_form.code_auto = workflow.next_item_code(session, bank=bank, part=t.part)
    return _form_page(request, session, ctx, bank, item_form, editing=editing,
                      fragment=request.headers.get("HX-Request") == "true")


@router.post("/ui/banks/{bank_id}/items/preview")
def item_preview(request: Request, bank_id: int, session: SessionDep, ctx: WriterDep, form: FormDep) -> Response:
    """The candidate's view of what is typed, and every problem next to its field (out of band)."""
    bank = _writer_bank(session, ctx, bank_id)
    item_form = ItemForm.from_form(form)
    editing = str(form.get("editing") or "")
    if editing:
        _own_item(session, ctx, bank, editing)
    content, errors = _problems(session, bank, item_form, new=not editing)
    similar, total = similar_for(session, actor=ctx.actor, bank=bank, content=content, code=editing)
    session.commit()  # only a ledger entry, where other writers' items were shown
    return render(request, "item_preview.html", {"content": content, "errors": errors, "fields": FIELDS,
                                                 "oob": True, "checked": True, "bank": bank, "similar": similar,
                                                 "similar_total": total})


def _save(request: Request, session: Session, ctx: PageContext, bank: BankRef, item_form: ItemForm, *,
          editing: str, submit: bool) -> Response:
    """Save the draft as typed (incomplete is fine); with ``submit`` the item must be complete
    first, and then goes to review. Every problem is shown next to its field; nothing typed
    is lost."""
    code = editing or item_form.code
    content, errors = _problems(session, bank, item_form, new=not editing)
    if not submit:  # a draft: only what prevents storing it at all
        input_problems = field_errors(item_form.to_content()[1], known=FIELDS)
        errors = {k: v for k, v in input_problems.items() if k in ("points", "difficulty_rating", "estimated_time_s")}
        if not editing:
            code_problems = _code_problems(item_form.code)
            if code_problems:
                errors.update(field_errors(code_problems, known=FIELDS))
    if not editing and not errors.get("code") and _exists(session, bank, code):
        errors["code"] = [problem_text(Message("Item code {code} is already used in this bank.", code=code)),
                          problem_text(Message("The next free code is {code}.",
                                               code=workflow.next_item_code(session, bank=bank, part=content.part)))]
    if errors:
        return _form_page(request, session, ctx, bank, item_form, editing=editing, errors=errors, status=422)
    try:
        before = item_service.get_item(session, bank=bank, code=editing).version if editing else None
        item, changed = workflow.save_draft(session, actor=ctx.actor, bank=bank, code=code, content=content,
                                            reason=item_form.reason.strip(), set_code=item_form.set_code or None)
        if submit:
            workflow.submit(session, actor=ctx.actor, bank=bank, code=code)
    except ValidationError as e:
        session.rollback()
        return _form_page(request, session, ctx, bank, item_form, editing=editing, status=422,
                          errors=field_errors([*e.errors], known=FIELDS))
    except NotQualifiedError as e:
        session.rollback()
        return _form_page(request, session, ctx, bank, item_form, editing=editing, status=403,
                          errors={"_form": [problem_text(x) for x in (e.head, *e.missing) if x]})
    session.commit()
    if submit:
        done = "submitted"
    elif not editing:
        done = "created"
    elif not changed:
        done = "unchanged"
    else:
        done = "revised" if item.version != before else "saved"
    return RedirectResponse(f"/ui/banks/{bank.id}/items/{code}?done={done}", status_code=303)


@router.post("/ui/banks/{bank_id}/items/new")
def create_item(request: Request, bank_id: int, session: SessionDep, ctx: WriterDep, form: FormDep) -> Response:
    bank = _writer_bank(session, ctx, bank_id)
    return _save(request, session, ctx, bank, ItemForm.from_form(form), editing="",
                 submit=form.get("action") == "submit")


@router.get("/ui/banks/{bank_id}/items/{code}/edit")
def edit_item(request: Request, bank_id: int, code: str, session: SessionDep, ctx: WriterDep) -> Response:
    bank = _writer_bank(session, ctx, bank_id)
    _own_item(session, ctx, bank, code)
    item = item_service.get_item(session, bank=bank, code=code)
    ledger.append(session, actor=ctx.user.username, action="item.read", object_type="item", object_id=item.id or code,
                  details={"code": code, "version": item.version, "purpose": "edit", "via": "web"})
    session.commit()
    return _form_page(request, session, ctx, bank, ItemForm.from_item(item), editing=code)


@router.post("/ui/banks/{bank_id}/items/{code}/edit")
def save_revision(request: Request, bank_id: int, code: str, session: SessionDep, ctx: WriterDep,
                  form: FormDep) -> Response:
    bank = _writer_bank(session, ctx, bank_id)
    _own_item(session, ctx, bank, code)
    item_form = ItemForm.from_form(form)
    item_form.code = code
    return _save(request, session, ctx, bank, item_form, editing=code, submit=form.get("action") == "submit")


# --------------------------------------------------------------------------------------
# One item: content, versions, diff, reviews, history, and the acts the user may do


@router.get("/ui/banks/{bank_id}/items/{code}")
def item_page(request: Request, bank_id: int, code: str, session: SessionDep, ctx: ReaderDep,
              version: int | None = None) -> Response:
    context = _item_context(session, ctx, bank_id, code, version)
    done = request.query_params.get("done", "")
    if done in ("approved", "changes_requested") and ctx.has(Role.REVIEWER):
        context.update(_next_for_reviewer(session, ctx, code))
    session.commit()
    return render(request, "item_page.html", {**context, **flash_of(request, FLASH)})


def _next_for_reviewer(session: Session, ctx: PageContext, code: str) -> dict:
    """下一题: the next item waiting for this reviewer (after the one just decided)."""
    waiting = [a for a in workflow.assigned_items(session, reviewer=ctx.user.username, states=WAITING)
               if a.code != code]
    return {"decided": True, "next_item": waiting[0] if waiting else None, "waiting": len(waiting)}


def _text_diffs(diff: workflow.VersionDiff) -> dict[str, list[tuple[str, str]]]:
    """Character-level changes of the changed text fields, options and scoring points."""
    out: dict[str, list[tuple[str, str]]] = {}
    for f in diff.fields:
        if f.changed and f.field in ("stem", "analysis", "equipment"):
            out[f.field] = workflow.char_diff(str(f.old or ""), str(f.new or ""))
    for o in diff.options:
        if o.status == "changed":
            out[f"option_{o.label}"] = workflow.char_diff(o.old or "", o.new or "")
    for r in diff.rubric:
        if r.status == "changed" and r.old and r.new:
            out[f"rubric_{r.position}"] = workflow.char_diff(r.old.description, r.new.description)
    return out


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
    history, reads = [], 0
    if is_manager or writer == me:
        events, reads = workflow.item_events(session, bank=bank, code=code)
        # a review's decision is told by the state change it makes (with its comment)
        told = [e for e in events if e.action != "review.record"]
        history = [{"at": t.at, "text": t.sentence} for t in describe_entries(session, told)]
    reviews = workflow.reviews_of(session, bank=bank, code=code)
    notes = workflow.revision_notes(session, bank=bank, code=code)
    similar, similar_total = similar_for(session, actor=ctx.actor, bank=bank, content=shown.content, code=code)
    return {
        "similar": similar, "similar_total": similar_total,
        "bank": bank, "item": shown, "latest": latest, "versions": versions, "diff": diff, "reviews": reviews,
        "text_diffs": _text_diffs(diff) if diff else {}, "revision_note": notes.get(shown.version, ""),
        "reviewers": reviewers, "candidates": candidates, "history": history, "reads": reads, "writer": writer,
        "ReviewKind": ReviewKind,
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
def submit(request: Request, bank_id: int, code: str, session: SessionDep, ctx: WriterDep, form: FormDep) -> Response:
    """Submit the latest version; an incomplete draft is refused with every problem listed."""
    bank = occupations.get_bank_by_id(session, bank_id)
    require_item_access(session, actor=ctx.actor, bank=bank, code=code)  # unknown and foreign codes alike
    try:
        workflow.submit(session, actor=ctx.actor, bank=bank, code=code,
                        comment=str(form.get("comment") or "")[:2000])
    except ItemValidationError as e:
        session.rollback()
        context = _item_context(session, ctx, bank_id, code, None)
        session.commit()
        return render(request, "item_page.html", {**context, "submit_errors": [problem_text(x) for x in e.errors]},
                      status_code=422)
    session.commit()
    return RedirectResponse(f"/ui/banks/{bank_id}/items/{code}?done=submitted", status_code=303)


@router.post("/ui/banks/{bank_id}/items/{code}/assign")
def assign(request: Request, bank_id: int, code: str, session: SessionDep, ctx: ManagerDep, form: FormDep) -> Response:
    reviewer = str(form.get("reviewer") or "").strip()[:100]
    if not reviewer:
        raise ValidationError(Message("Choose the reviewer."), field="reviewer")
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
        errors["decision"] = [problem_text(Message("Choose “Approve” or “Send back for changes”."))]
    elif decision is ReviewDecision.REQUEST_CHANGES and not comment.strip():
        errors["comment"] = [problem_text(Message("When you send an item back, say what needs to change."))]
    if not errors:
        bank = occupations.get_bank_by_id(session, bank_id)
        require_item_access(session, actor=ctx.actor, bank=bank, code=code)
        try:
            workflow.record_review(session, actor=ctx.actor, bank=bank, code=code, decision=decision,
                                   comment=comment)
        except ValidationError as e:
            session.rollback()
            errors = {e.field or "comment": [problem_text(e.head)]}
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
