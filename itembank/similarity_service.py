"""Near-duplicate and cueing detection on a stored bank (``itembank.similarity`` is the pure
core): the bank manager's report, confirmed pairs recorded as enemies (which assembly keeps
apart), and the check every assembled paper passes (no two of its items give each other
away).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from itembank.domain import BankRef, Item, Part
from itembank.i18n import Message, for_storage
from itembank.items import add_enemies
from itembank.pool import load_pool
from itembank.similarity import DEFAULT_CONFIG, Match, SimilarityConfig, build_index, find_matches, match_within

__all__ = ["bank_matches", "confirm_as_enemies", "match_to_data", "paper_cueing"]


def bank_matches(session: Session, *, bank: BankRef, part: Part = Part.THEORY,
                 config: SimilarityConfig = DEFAULT_CONFIG, unconfirmed_only: bool = False) -> list[Match]:
    """Every pair of the bank's current items (of ``part``) that should not share a paper:
    near duplicates and cueing, strongest first. ``unconfirmed_only`` leaves out the pairs
    already recorded as enemies (what is left for the bank manager to confirm)."""
    items = load_pool(session, bank=bank, part=part)
    matches = find_matches(build_index([(it.code, it.content) for it in items], config))
    if unconfirmed_only:
        enemies = {(it.code, other) for it in items for other in it.enemies}
        matches = [m for m in matches if (m.code_a, m.code_b) not in enemies]
    return sorted(matches, key=lambda m: (m.kind.rank, -m.score, m.pair))


def confirm_as_enemies(session: Session, *, bank: BankRef, matches: Sequence[Match], actor: str) -> int:
    """Record confirmed pairs as enemy pairs (never in one paper). Returns the pairs added."""
    if not matches:
        return 0
    return add_enemies(session, bank=bank, pairs=[m.pair for m in matches], actor=actor,
                       reason=for_storage(Message("similarity check: near duplicate or cueing, confirmed")))


def paper_cueing(items: Sequence[Item], config: SimilarityConfig = DEFAULT_CONFIG) -> list[Match]:
    """The pairs of one paper's items that give each other away or repeat each other."""
    return match_within(tuple((it.code, it.content) for it in items), config)


def match_to_data(m: Match) -> dict[str, Any]:
    """A match as stored with a paper's checks (JSON)."""
    ev = m.evidence[0] if m.evidence else None
    return {"code_a": m.code_a, "code_b": m.code_b, "kind": m.kind.value, "score": round(float(m.score), 4),
            "text_a": ev.text_a if ev else "", "text_b": ev.text_b if ev else ""}
