"""Plain-text rendering of reports for the terminal."""

from __future__ import annotations

from itembank.domain import Level
from itembank.readiness import BankReadiness


def readiness_text(r: BankReadiness, *, show_elements: bool = True) -> str:
    occ = r.bank.occupation
    lines = [
        f"== {occ.code} {occ.name} 工种:{occ.display_work_type} {Level(r.bank.level).title_zh} "
        f"({occ.category.zh}) — {r.verdict}",
    ]
    for p in r.parts:
        mark = "OK " if p.ready else "NO "
        types = ", ".join(f"{k} {v}" for k, v in p.by_type.items()) or "none"
        lines.append(
            f"  [{mark}] {p.part.zh:<10} usable {p.usable:>5} / minimum {p.minimum:<5}"
            f" (accepted {p.accepted}, compromised {p.compromised}); table v{p.element_table_version or '-'}"
        )
        lines.append(f"        by type: {types}")
        if show_elements and p.elements:
            short = [e for e in p.elements if e.short]
            lines.append(
                f"        elements: {len(p.elements)}, {len(short)} with too few items for their weight"
            )
    for s in r.shortfalls:
        lines.append(f"  shortfall: {s}")
    for w in r.warnings:
        lines.append(f"  warning:   {w}")
    return "\n".join(lines)
