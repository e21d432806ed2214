"""Small helpers the page modules share: the banks a user's roles cover, a bank with the
API's scope check, and the web router of each module."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from api.deps import check_scope
from api.web.session import PageContext, PageRoute
from itembank import occupations
from itembank.domain import BankRef, Role


def page_router() -> APIRouter:
    return APIRouter(include_in_schema=False, route_class=PageRoute)


def banks_for(session: Session, ctx: PageContext, *roles: Role) -> list[BankRef]:
    """Banks whose occupation one of ``roles`` of the user covers, by occupation and level
    (level 5 first: the order of the regulation's tables)."""
    banks = [b for b in occupations.list_banks(session)
             if any(ctx.actor.has(r, occupation_code=b.occupation.code) for r in roles)]
    return sorted(banks, key=lambda b: (b.occupation.code, -int(b.level)))


def scoped_bank(session: Session, ctx: PageContext, bank_id: int, *roles: Role) -> BankRef:
    """The bank, refused unless one of ``roles`` covers its occupation (``api.deps.check_scope``)."""
    bank = occupations.get_bank_by_id(session, bank_id)
    check_scope(ctx.actor, bank.occupation.code, *roles)
    return bank
