"""Plain-text rendering of reports for the terminal, in the run's locale (--lang / LANG)."""

from __future__ import annotations

from itembank.domain import ItemType, Level
from itembank.i18n import _
from itembank.readiness import BankReadiness


def readiness_text(r: BankReadiness, *, show_elements: bool = True) -> str:
    occ = r.bank.occupation
    lines = [
        _("== {code} {name}, work type {work_type}, {level} ({category}): {verdict}", code=occ.code,
          name=occ.name, work_type=occ.display_work_type, level=Level(r.bank.level), category=occ.category,
          verdict=r.verdict),
    ]
    for p in r.parts:
        mark = _("[met]") if p.ready else _("[short]")
        types = [_("{item_type} {n}", item_type=ItemType(k), n=v) for k, v in p.by_type.items()]
        table = (_("element table version {version}", version=p.element_table_version)
                 if p.element_table_version else _("no element table"))
        lines.append("  " + _("{mark} {part}: {usable} usable of minimum {minimum} ({accepted} accepted, "
                              "{compromised} compromised); {table}", mark=mark, part=p.part, usable=p.usable,
                              minimum=p.minimum, accepted=p.accepted, compromised=p.compromised, table=table))
        lines.append("        " + _("by item type: {types}", types=types if types else _("none")))
        if show_elements and p.elements:
            short = [e for e in p.elements if e.short]
            lines.append("        " + _("{n} elements, {short} with too few items for their weight",
                                        n=len(p.elements), short=len(short)))
    for s in r.shortfalls:
        lines.append("  " + _("shortfall: {text}", text=s))
    for w in r.warnings:
        lines.append("  " + _("warning: {text}", text=w))
    return "\n".join(lines)
