"""The password rule: long enough, not the username, and hard to guess as measured by zxcvbn
(Wheeler, "zxcvbn: Low-Budget Password Strength Estimation", USENIX Security 2016): a score of
at least ``MIN_SCORE`` of 4, i.e. more than about 10^8 guesses for an offline attacker with a
slow hash (Argon2id here). ``Password123`` scores 1 and is refused; four random words or a
random 12-character mix pass.

zxcvbn's own advice comes in English; its sentences are in the catalog (``FEEDBACK``) and are
shown in the reader's language.
"""

from __future__ import annotations

from itembank.i18n import N_, FieldMessage, Message

MIN_LENGTH = 10
MIN_SCORE = 3
ESTIMATED_CHARS = 64  # zxcvbn's time grows with length; what lies beyond only adds strength

# zxcvbn's warnings and suggestions (zxcvbn/feedback.py), marked for the catalog
FEEDBACK = (
    N_("Add another word or two. Uncommon words are better."),
    N_("Capitalization doesn't help very much."),
    N_("Reversed words aren't much harder to guess."),
    N_("Predictable substitutions like '@' instead of 'a' don't help very much."),
    N_("Use a few words, avoid common phrases."),
    N_("No need for symbols, digits, or uppercase letters."),
    N_("Straight rows of keys are easy to guess."),
    N_("Short keyboard patterns are easy to guess."),
    N_("This is a top-10 common password."),
    N_("This is similar to a commonly used password."),
    N_("A word by itself is easy to guess."),
    N_("All-uppercase is almost as easy to guess as all-lowercase."),
    N_("Use a longer keyboard pattern with more turns."),
    N_('Repeats like "aaa" are easy to guess.'),
    N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    N_("This is a top-100 common password."),
    N_("This is a very common password."),
    N_("Names and surnames by themselves are easy to guess."),
    N_("Common names and surnames are easy to guess."),
    N_("Avoid repeated words and characters."),
    N_('Sequences like "abc" or "6543" are easy to guess.'),
    N_("Avoid sequences."),
    N_("Recent years are easy to guess."),
    N_("Dates are often easy to guess."),
    N_("Avoid recent years."),
    N_("Avoid years that are associated with you."),
    N_("Avoid dates and years that are associated with you."),
)


def password_problems(password: str, *, username: str = "", display_name: str = "") -> list[FieldMessage]:
    """Every reason ``password`` is refused (empty: accepted), each about the field ``password``."""
    problems: list[FieldMessage] = []
    if len(password) < MIN_LENGTH:
        problems.append(FieldMessage("password", Message("needs at least {n} characters", n=MIN_LENGTH)))
    if username and username.lower() in password.lower():
        problems.append(FieldMessage("password", Message("must not contain the user name")))
    if problems:
        return problems
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:ESTIMATED_CHARS], user_inputs=[x for x in (username, display_name) if x])
    if result["score"] >= MIN_SCORE:
        return []
    problems.append(FieldMessage("password", Message(
        "too easy to guess (strength {score} of 4; at least {minimum} is needed); use four or more unrelated "
        "words, or a longer random mix", score=result["score"], minimum=MIN_SCORE)))
    feedback = result.get("feedback") or {}
    for text in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]:
        if text:
            problems.append(FieldMessage("password", Message(text) if text in FEEDBACK else text))
    return problems


__all__ = ["MIN_LENGTH", "MIN_SCORE", "password_problems"]
