"""The bank manager's report of similar items (``itembank.similarity_service``): the pairs of
the bank's items that repeat each other or give each other away, both texts side by side, and
confirming chosen pairs as enemies (never on one paper). Assembly already keeps the pairs not
confirmed apart; confirming records them for good. Reading the report is ledgered."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.web.common import page_router, scoped_bank
from api.web.render import flash_of, pager, paging, problem_text, render
from api.web.session import FormDep, PageContext, page_role
from itembank import ledger
from itembank.domain import Part, Role
from itembank.errors import ValidationError
from itembank.i18n import N_, Message
from itembank.similarity_service import KIND_WORDS, bank_matches, confirm_pairs, enemy_pairs, place_words

router = page_router()
ManagerDep = Annotated[PageContext, page_role(Role.BANK_MANAGER)]
FLASH = {"confirmed": N_("The chosen pairs were recorded as enemies: assembly never puts both on one paper.")}


def _context(request: Request, session, ctx: PageContext, bank_id: int, part: Part, show: str) -> dict:  # type: ignore[no-untyped-def]
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    matches = bank_matches(session, bank=bank, part=part)
    enemies = enemy_pairs(session, bank=bank)
    open_ = [m for m in matches if m.pair not in enemies]
    rows = matches if show == "all" else open_
    offset, limit = paging(request, 50)
    page = rows[offset:offset + limit]
    ledger.append(session, actor=ctx.user.username, action="similarity.report", object_type="bank",
                  object_id=bank.id, details={"part": part.value, "pairs": [list(m.pair) for m in page], "via": "web"})
    return {"bank": bank, "part": part, "show": show, "rows": page, "enemies": enemies, "n_all": len(matches),
            "n_open": len(open_), "pager": pager(request, offset, limit, len(rows)), "place": place_words,
            "kind_words": lambda m: Message(KIND_WORDS[m.kind])}


@router.get("/ui/banks/{bank_id}/similarity")
def similarity_report(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep,
                      part: Part = Part.THEORY, show: str = "open") -> Response:
    """The pairs not confirmed yet (``show=all``: every pair), strongest first."""
    context = _context(request, session, ctx, bank_id, part, show)
    session.commit()
    return render(request, "similarity.html", {**context, **flash_of(request, FLASH)})


@router.post("/ui/banks/{bank_id}/similarity/confirm")
def similarity_confirm(request: Request, bank_id: int, session: SessionDep, ctx: ManagerDep,
                       form: FormDep) -> Response:
    """Record the ticked pairs as enemies (all or nothing)."""
    bank = scoped_bank(session, ctx, bank_id, Role.BANK_MANAGER)
    try:
        part = Part(str(form.get("part") or Part.THEORY.value))
    except ValueError:
        part = Part.THEORY
    pairs = []
    for raw in form.getlist("pairs")[:500]:
        a, _sep, b = str(raw).partition("|")
        if a and b:
            pairs.append((a[:64], b[:64]))
    errors: list[str] = []
    if not pairs:
        errors.append(problem_text(Message("Tick the pairs to confirm.")))
    else:
        try:
            confirm_pairs(session, bank=bank, part=part, pairs=pairs, actor=ctx.user.username)
        except ValidationError as e:
            session.rollback()
            errors = [e.head, *e.listed()]
        else:
            session.commit()
            return RedirectResponse(f"/ui/banks/{bank_id}/similarity?part={part.value}&done=confirmed",
                                    status_code=303)
    context = _context(request, session, ctx, bank_id, part, "open")
    session.commit()
    return render(request, "similarity.html", {**context, "errors": errors}, status_code=422)
