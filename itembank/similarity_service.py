"""Near-duplicate and cueing detection on a stored bank (``itembank.similarity`` is the pure
core): what the writer sees while writing and the reviewer in the review (one item against
the bank), the bank manager's report, confirmed pairs recorded as enemies (which assembly
keeps apart), the pairs assembly keeps apart before anyone confirmed them, and the check
every assembled paper passes before it is recorded (no two of its items give each other away).

The bank a text is compared with is the newest version of each item of the part that is
accepted or on its way there (submitted, in review, approved): drafts are the writers' own
unfinished work and retired items never come back. Its index is kept per bank and part
while the bank does not change (a draft is compared again at every keystroke of the
preview).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from itembank import ledger
from itembank.domain import Actor, BankRef, Item, ItemContent, Part, VersionState
from itembank.errors import ValidationError
from itembank.i18n import N_, Message, for_storage
from itembank.items import add_enemies
from itembank.orm import ItemEnemyRecord, ItemRecord, ItemVersionRecord
from itembank.pool import load_pool
from itembank.visibility import item_visibility, readable_codes
from itembank.similarity import (
    DEFAULT_CONFIG,
    Evidence,
    Match,
    MatchKind,
    SimilarityConfig,
    SimilarityIndex,
    build_index,
    find_matches,
    match_items,
    match_within,
)

__all__ = [
    "COMPARED_STATES", "KIND_WORDS", "SimilarItem", "bank_index", "bank_matches", "compared_items",
    "confirm_as_enemies", "confirm_pairs", "cueing_refusal", "draft_matches", "enemy_pairs", "kept_apart_pairs", "match_to_data",
    "paper_cueing", "place_words", "similar_for", "similar_items",
]

COMPARED_STATES = (VersionState.SUBMITTED, VersionState.IN_REVIEW, VersionState.APPROVED, VersionState.ACCEPTED)

# why two items may not share a paper, as a bank manager says it
KIND_WORDS = {
    MatchKind.STATEMENT_IS_KEY: N_("one states the other's answer"),
    MatchKind.NEAR_DUPLICATE: N_("the same question twice"),
    MatchKind.STATEMENT_IS_OPTION: N_("one states an option of the other"),
}


def place_words(place: str, label: str) -> Message:
    """Where in an item a matching text stands (``Evidence.place_a`` and ``label_a``)."""
    if place == "stem":
        return Message("question text")
    if place == "option":
        return Message("option {label}", label=label)
    if place == "key":
        return Message("key option {label}", label=label)
    if place == "answer":
        return Message("question text with its answer filled in")
    return Message("the whole item")


# --------------------------------------------------------------------------------------
# The bank a text is compared with


def compared_items(session: Session, *, bank: BankRef, part: Part) -> list[Item]:
    """The newest version of each item of ``part`` that is accepted or on its way there."""
    newest: dict[str, Item] = {}
    for it in load_pool(session, bank=bank, part=part, states=COMPARED_STATES):
        newest[it.code] = it  # ordered by code and version: the newest wins
    return list(newest.values())


_INDEXES: OrderedDict[tuple[Any, ...], tuple[SimilarityIndex, dict[str, Item]]] = OrderedDict()
_INDEXES_LOCK = threading.Lock()
_INDEXES_KEPT = 8


def _bank_state(session: Session, bank: BankRef, part: Part) -> tuple[Any, ...]:
    """Changes whenever a version enters or leaves the compared states (count, newest version,
    newest state change) — the key of the cached index."""
    V, I = ItemVersionRecord, ItemRecord
    row = session.execute(
        select(func.count(V.id), func.max(V.id), func.max(V.state_changed_at)).join(I, I.id == V.item_id)
        .where(I.bank_id == bank.id, I.part == part, V.state.in_(list(COMPARED_STATES)))).one()
    return (str(row[0]), str(row[1]), str(row[2]))


def bank_index(session: Session, *, bank: BankRef, part: Part,
               config: SimilarityConfig = DEFAULT_CONFIG) -> tuple[SimilarityIndex, dict[str, Item]]:
    """The similarity index of the bank's compared items of ``part`` and the items by code
    (built once while the bank does not change)."""
    bind = session.get_bind()
    key = (id(bind), str(getattr(bind, "url", "")), bank.id, Part(part).value, config, _bank_state(session, bank, part))
    with _INDEXES_LOCK:
        hit = _INDEXES.get(key)
        if hit is not None:
            _INDEXES.move_to_end(key)
            return hit
    items = compared_items(session, bank=bank, part=part)
    built = (build_index([(it.code, it.content) for it in items], config), {it.code: it for it in items})
    with _INDEXES_LOCK:
        _INDEXES[key] = built
        while len(_INDEXES) > _INDEXES_KEPT:
            _INDEXES.popitem(last=False)
    return built


def draft_matches(session: Session, *, bank: BankRef, content: ItemContent, code: str = "",
                  config: SimilarityConfig = DEFAULT_CONFIG) -> list[Match]:
    """The bank's items that ``content`` (a draft, a new version of item ``code``, or an item
    under review) duplicates or cues, strongest first; the item's own versions are left out."""
    index, _ = bank_index(session, bank=bank, part=content.part, config=config)
    return match_items(index, content, code=code, exclude=[code] if code else [])


def bank_matches(session: Session, *, bank: BankRef, part: Part = Part.THEORY,
                 config: SimilarityConfig = DEFAULT_CONFIG, unconfirmed_only: bool = False) -> list[Match]:
    """Every pair of the bank's compared items (of ``part``) that should not share a paper:
    near duplicates and cueing, strongest first. ``unconfirmed_only`` leaves out the pairs
    already recorded as enemies (what is left for the bank manager to confirm)."""
    index, _ = bank_index(session, bank=bank, part=part, config=config)
    matches = find_matches(index)
    if unconfirmed_only:
        enemies = enemy_pairs(session, bank=bank)
        matches = [m for m in matches if m.pair not in enemies]
    return sorted(matches, key=lambda m: (m.kind.rank, -m.score, m.pair))


def enemy_pairs(session: Session, *, bank: BankRef) -> set[tuple[str, str]]:
    """The bank's enemy pairs as (lower code, higher code), read now (the cached index does not
    hold them)."""
    Low, High = aliased(ItemRecord), aliased(ItemRecord)
    rows = session.execute(
        select(Low.code, High.code).select_from(ItemEnemyRecord)
        .join(Low, Low.id == ItemEnemyRecord.item_low_id).join(High, High.id == ItemEnemyRecord.item_high_id)
        .where(Low.bank_id == bank.id, High.bank_id == bank.id)).all()
    return {(min(a, b), max(a, b)) for a, b in rows}


def confirm_as_enemies(session: Session, *, bank: BankRef, matches: Sequence[Match], actor: str) -> int:
    """Record confirmed pairs as enemy pairs (never in one paper). Returns the pairs added."""
    if not matches:
        return 0
    return add_enemies(session, bank=bank, pairs=[m.pair for m in matches], actor=actor,
                       reason=for_storage(Message("similarity check: near duplicate or cueing, confirmed")))


def confirm_pairs(session: Session, *, bank: BankRef, part: Part, pairs: Sequence[tuple[str, str]],
                  actor: str) -> int:
    """Confirm pairs the bank manager chose from the report (codes); each must be a pair the
    similarity check finds now. All or nothing. Returns the pairs added."""
    found = {m.pair: m for m in bank_matches(session, bank=bank, part=part)}
    chosen: list[Match] = []
    unknown: list[Message] = []
    for a, b in pairs:
        pair = (min(a, b), max(a, b))
        if pair in found:
            chosen.append(found[pair])
        else:
            unknown.append(Message("{a} and {b}: the similarity check does not find this pair in {bank} {part} "
                                   "(changed since the report was shown?); show the report again",
                                   a=pair[0], b=pair[1], bank=bank.label, part=part))
    if unknown:
        raise ValidationError(Message("The pairs were not confirmed."), errors=unknown, field="pairs")
    return confirm_as_enemies(session, bank=bank, matches=chosen, actor=actor)


# --------------------------------------------------------------------------------------
# Assembly: pairs kept apart, papers checked


def _same_set(a: Item, b: Item) -> bool:
    # the items of one set (题组: one case, several questions) are printed together by design
    return bool(a.set_code) and a.set_code == b.set_code


def kept_apart_pairs(items: Sequence[Item], config: SimilarityConfig = DEFAULT_CONFIG) -> list[Match]:
    """The pairs of a pool that should not share a paper and are not enemies yet: assembly
    keeps them apart as if they were (the bank manager confirms them in the report). Items
    of one item set are not compared with each other."""
    if len(items) < 2:
        return []
    by_code = {it.code: it for it in items}
    matches = find_matches(build_index([(it.code, it.content) for it in by_code.values()], config))
    return [m for m in matches if m.code_b not in by_code[m.code_a].enemies
            and not _same_set(by_code[m.code_a], by_code[m.code_b])]


def paper_cueing(items: Sequence[Item], config: SimilarityConfig = DEFAULT_CONFIG) -> list[Match]:
    """The pairs of one paper's items that give each other away or repeat each other (items of
    one item set are not compared with each other)."""
    by_code = {it.code: it for it in items}
    return [m for m in match_within(tuple((it.code, it.content) for it in items), config)
            if not _same_set(by_code[m.code_a], by_code[m.code_b])]


def cueing_refusal(papers: Sequence[tuple[str, Sequence[Item]]],
                   config: SimilarityConfig = DEFAULT_CONFIG) -> Message | None:
    """Why assembled papers are not accepted: every pair of items of one paper that give each
    other away, named with both texts; None when no paper holds such a pair.

    ``papers`` are (paper label, its items)."""
    problems: list[Message] = []
    for label, items in papers:
        for m in paper_cueing(items, config):
            ev = m.evidence[0] if m.evidence else Evidence("item", "", "", "item", "", "", m.score)
            problems.append(Message(
                "paper {paper}: items {a} and {b}: {kind} ({place_a} of {a} “{text_a}”, {place_b} of {b} “{text_b}”)",
                paper=label, a=m.code_a, b=m.code_b, kind=Message(KIND_WORDS[m.kind]),
                place_a=place_words(ev.place_a, ev.label_a), text_a=_short(ev.text_a),
                place_b=place_words(ev.place_b, ev.label_b), text_b=_short(ev.text_b)))
    if not problems:
        return None
    return Message("The papers were not accepted: items on one paper give each other away. {problems}. Confirm "
                   "the pairs as enemies in the bank's similarity report (itembank similarity) and assemble again.",
                   problems=problems)


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def match_to_data(m: Match) -> dict[str, Any]:
    """A match as stored with a paper's checks (JSON)."""
    ev = m.evidence[0] if m.evidence else None
    return {"code_a": m.code_a, "code_b": m.code_b, "kind": m.kind.value, "score": round(float(m.score), 4),
            "text_a": ev.text_a if ev else "", "text_b": ev.text_b if ev else ""}


# --------------------------------------------------------------------------------------
# One item's matches, as its reader may see them


@dataclass(frozen=True, slots=True)
class SimilarItem:
    """A bank item that one item duplicates or cues, from that item's side.

    ``code`` and ``other_text`` are None when the reader may not see the other item (a writer
    sees their own items only, 附件12 第9条): the reader learns that, where and how strongly
    their item matches, not the other item's content."""

    kind: MatchKind
    score: float
    place: Message  # where in this item
    text: str  # this item's text that matched
    code: str | None
    other_place: Message | None
    other_text: str | None
    enemy: bool  # already recorded as an enemy pair

    @property
    def kind_words(self) -> Message:
        return Message(KIND_WORDS[self.kind])


SHOWN_AT_MOST = 10


def similar_for(session: Session, *, actor: Actor, bank: BankRef, content: ItemContent, code: str = "",
                limit: int = SHOWN_AT_MOST) -> tuple[list[SimilarItem], int]:
    """What ``actor`` is shown of the bank's items that item ``code`` (or a draft, ``""``) with
    ``content`` duplicates or cues: the strongest ``limit`` matches as the actor may see them
    (another item's code and text only where the actor may read that item, 附件12 第9条), and
    how many there are. The other items' texts shown are written to the ledger."""
    matches = draft_matches(session, bank=bank, content=content, code=code)
    if not matches:
        return [], 0
    vis = item_visibility(session, actor=actor, bank=bank)
    enemies = {a if b == code else b for a, b in enemy_pairs(session, bank=bank) if code in (a, b)} if code else set()
    out = similar_items(matches[:limit], code=code, visible=readable_codes(session, vis=vis, bank=bank),
                        enemies=enemies)
    shown = sorted({s.code for s in out if s.code})
    if shown and vis.created_by is None:  # a writer alone is shown only their own items
        ledger.append(session, actor=actor.username, action="items.similar", object_type="bank",
                      object_id=bank.id, details={"code": code or None, "shown": shown})
    return out, len(matches)


def similar_items(matches: Sequence[Match], *, code: str, visible: Callable[[str], bool],
                  enemies: Collection[str] = ()) -> list[SimilarItem]:
    """``matches`` of item ``code`` (``""`` for a draft) seen from its side, strongest first;
    ``visible(code)`` says whether the reader may see the other item."""
    out = []
    for m in matches:
        mine_a = m.code_a == code
        other = m.code_b if mine_a else m.code_a
        ev = m.evidence[0] if m.evidence else Evidence("item", "", "", "item", "", "", m.score)
        place, label, text = (ev.place_a, ev.label_a, ev.text_a) if mine_a else (ev.place_b, ev.label_b, ev.text_b)
        oplace, olabel, otext = (ev.place_b, ev.label_b, ev.text_b) if mine_a else (ev.place_a, ev.label_a, ev.text_a)
        shown = visible(other)
        out.append(SimilarItem(kind=m.kind, score=float(m.score), place=place_words(place, label), text=text,
                               code=other if shown else None, other_place=place_words(oplace, olabel) if shown else None,
                               other_text=otext if shown else None, enemy=other in enemies))
    return out
