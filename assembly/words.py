"""The words of the assembly core: names of item types, difficulty bands, elements and rows as a
bank manager says them, and why an item is not eligible. All are catalog messages
(:class:`analysis.messages.Message`), rendered in the reader's locale at the edge.
"""

from __future__ import annotations

from analysis.messages import Message, N_

# item types as the bank knows them (itembank.domain.ItemType); unknown types keep their code
ITEM_TYPE_TEXT = {
    "single_choice": N_("single choice"),
    "multiple_choice": N_("multiple choice"),
    "true_false": N_("true/false"),
    "fill_in": N_("fill in the blank"),
    "short_answer": N_("short answer"),
    "calculation": N_("calculation"),
    "essay": N_("essay"),
    "practical_task": N_("practical task"),
    "defence_topic": N_("defence topic"),
}
# the standard blueprints' band names; a centre's own band names are shown as written
BAND_TEXT = {"easy": N_("easy"), "medium": N_("medium"), "hard": N_("hard")}


def item_type_text(item_type: str) -> Message | str:
    """"single_choice" -> 单项选择; an unknown type stays as its code."""
    msgid = ITEM_TYPE_TEXT.get(item_type)
    return Message(msgid) if msgid else item_type


def band_text(name: str) -> Message | str:
    msgid = BAND_TEXT.get(name)
    return Message(msgid) if msgid else name


def element_text(code: str, name: str | None = None, *, scope: bool = False) -> Message:
    """鉴定点 A-01-01 电工安全用具 (the name where the blueprint knows it)."""
    if scope:
        if name:
            return Message("scope {code} {name}", code=code, name=name)
        return Message("scope {code}", code=code)
    if name:
        return Message("element {code} {name}", code=code, name=name)
    return Message("element {code}", code=code)


def paper_text(index: int) -> Message:
    """Papers are numbered from 1 for people."""
    return Message("paper {number}", number=int(index) + 1)


def reason_text(reason: str, *, recent: int = 0, max_uses: int | None = None) -> Message:
    """Why an item is not eligible (a key of ``assembly.problem.REASONS``)."""
    if reason == "recently_used":
        return Message("used in the last {n} sessions", n=recent)
    if reason == "over_used":
        return Message("used more than {k} times", k=max_uses if max_uses is not None else 0)
    return Message(_REASONS.get(reason, N_("not eligible")))


_REASONS = {
    "compromised": N_("compromised (leaked)"),
    "retired": N_("no longer an accepted item of the bank"),
    "excluded_by_hand": N_("excluded by hand"),
    "p_out_of_range": N_("classical difficulty p outside the allowed range"),
    "not_calibrated": N_("no IRT parameters"),
    "type_not_in_blueprint": N_("item type not in the blueprint"),
    "set_not_whole": N_("in an item set that cannot be taken whole"),
    "leaked": N_("in a leaked paper"),
    "enemy_of_leaked": N_("enemy of an item of a leaked paper"),
}


def theta_text(theta: float) -> str:
    """θ values as people write them: -1, 0, 1.5."""
    return f"{theta:g}"


__all__ = ["BAND_TEXT", "ITEM_TYPE_TEXT", "band_text", "element_text", "item_type_text",
           "paper_text", "reason_text", "theta_text"]
