"""``itembank similarity report | confirm``: the bank manager's report of near-duplicate and
cueing pairs (``itembank.similarity_service``), and confirming pairs as enemies, which
assembly keeps apart (the pairs not confirmed yet are kept apart too; confirming records
them for good)."""

from __future__ import annotations

import json
import sys

import click

from api.cli.common import actor_option, cli_bank, fail, open_engine
from api.cli.common import with_bank_part as with_bank
from api.cli.localized import group, option
from itembank.config import Settings
from itembank.domain import Part
from itembank.i18n import Message, _, render


@group()
def similarity() -> None:
    """Near-duplicate and cueing pairs of a bank (题目雷同、相互提示答案)."""


def _pairs_text(m) -> list[str]:  # type: ignore[no-untyped-def]
    from itembank.similarity_service import KIND_WORDS, place_words

    ev = m.evidence[0] if m.evidence else None
    lines = ["  " + _("[{kind}] {a} and {b}, similarity {score:.0%}", kind=render(Message(KIND_WORDS[m.kind])),
                      a=m.code_a, b=m.code_b, score=m.score)]
    if ev is not None:
        lines.append("      " + _("{code} {place}: “{text}”", code=m.code_a,
                                  place=render(place_words(ev.place_a, ev.label_a)), text=ev.text_a))
        lines.append("      " + _("{code} {place}: “{text}”", code=m.code_b,
                                  place=render(place_words(ev.place_b, ev.label_b)), text=ev.text_b))
    return lines


@similarity.command("report")
@with_bank
@option("--all", "show_all", is_flag=True, help="Also the pairs already confirmed as enemies.")
@option("--json", "as_json", is_flag=True)
@actor_option
@click.pass_obj
def similarity_report(settings: Settings, occupation_code: str, work_type: str | None, level: str, part: str,
                      show_all: bool, as_json: bool, actor: str) -> None:
    """The pairs of the bank's items that repeat each other or give each other away, not yet
    confirmed as enemies (all with --all). Exits 1 when pairs are left to confirm."""
    from itembank import ledger
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.similarity_service import bank_matches, enemy_pairs, match_to_data

    try:
        with transaction(open_engine(settings)) as session:
            bank = cli_bank(session, occupation_code, level, work_type)
            matches = bank_matches(session, bank=bank, part=Part(part))
            enemies = enemy_pairs(session, bank=bank)
            open_ = [m for m in matches if m.pair not in enemies]
            shown = matches if show_all else open_
            ledger.append(session, actor=actor, action="similarity.report", object_type="bank", object_id=bank.id,
                          details={"part": part, "pairs": [list(m.pair) for m in shown], "via": "cli"})
    except ItemBankError as e:
        fail(e)
    if as_json:
        click.echo(json.dumps({"bank": bank.label, "part": part, "unconfirmed": len(open_),
                               "pairs": [{**match_to_data(m), "confirmed": m.pair in enemies} for m in shown]},
                              ensure_ascii=False, indent=2))
    else:
        click.echo(_("{bank} {part}: {n} pairs of items repeat each other or give each other away, {open} of them "
                     "not confirmed as enemies yet", bank=bank.label, part=Part(part), n=len(matches), open=len(open_)))
        for m in shown:
            for line in _pairs_text(m):
                click.echo(line)
            if show_all and m.pair in enemies:
                click.echo("      " + _("(confirmed: an enemy pair)"))
        if open_:
            click.echo(_("Assembly keeps these pairs apart already. To record them as enemies for good: itembank "
                         "similarity confirm --occupation {occupation} --level {level} --part {part} --pair A,B …",
                         occupation=occupation_code, level=level, part=part))
    sys.exit(1 if open_ else 0)


@similarity.command("confirm")
@with_bank
@option("--pair", "pairs", multiple=True, help="Two item codes, comma-separated (repeatable).")
@option("--all-found", is_flag=True, help="Every pair the report lists as not confirmed.")
@actor_option
@click.pass_obj
def similarity_confirm(settings: Settings, occupation_code: str, work_type: str | None, level: str, part: str,
                       pairs: tuple[str, ...], all_found: bool, actor: str) -> None:
    """Record pairs of the report as enemy pairs (never on one paper), ledgered."""
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.similarity_service import bank_matches, confirm_pairs

    if bool(pairs) == all_found:
        fail(_("give --pair A,B (one or more) or --all-found"))
    chosen: list[tuple[str, str]] = []
    for raw in pairs:
        codes = [c.strip() for c in raw.split(",") if c.strip()]
        if len(codes) != 2:
            fail(_("--pair {pair}: give two item codes separated by a comma, e.g. --pair DG5-T-0001,DG5-T-0412",
                   pair=raw))
        chosen.append((codes[0], codes[1]))
    try:
        with transaction(open_engine(settings)) as session:
            bank = cli_bank(session, occupation_code, level, work_type)
            if all_found:
                chosen = [m.pair for m in bank_matches(session, bank=bank, part=Part(part), unconfirmed_only=True)]
            added = confirm_pairs(session, bank=bank, part=Part(part), pairs=chosen, actor=actor)
    except ItemBankError as e:
        fail(e)
    click.echo(_("{n} pairs confirmed as enemies ({new} new); assembly never puts both items of a pair on one paper",
                 n=len(chosen), new=added))
