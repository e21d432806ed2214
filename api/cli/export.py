"""``itembank export paper | element-table | readiness``: Word documents from the bank.

Assembled papers are exported with ``itembank papers export CODE`` (the one export of a
stored paper). ``export paper`` makes a trial paper by hand, not balanced to a blueprint:
explicit item codes (``--items``) or the first N eligible items of each type (``--first``);
it is refused unless its points and its time allowed are those of the bank's blueprint of
the part (``assembly_service.adhoc_time_allowed``: the same rule as assembled papers). It
writes the paper's documents (paper, answer key, answer sheet; or task sheet and scoring
table) and a manifest of their hashes into ``--out``. The export is recorded in the ledger
(台帐, 附件11 第24条) with the items and the hashes. A bank below its minimums is refused
unless ``--practice`` (the override is recorded too, 附件11 第7条).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import click

from api.cli.common import fail, open_engine
from api.cli.localized import Choice, group, option
from api.words import DOC_LABELS
from itembank.config import Settings
from itembank.domain import Item, ItemType, Level, Paper, PaperKind, Part
from itembank.i18n import Message, _

DEFAULT_FIRST = {Part.THEORY: "single_choice=80,true_false=20", Part.PRACTICAL: "practical_task=3",
                 Part.DEFENCE: "defence_topic=5"}
_TYPE_ORDER = {t: i for i, t in enumerate(ItemType)}


@group()
def export() -> None:
    """Word exports: papers, answer keys, answer sheets, scoring tables, element tables, readiness."""


def parse_counts(spec: str) -> list[tuple[ItemType, int]]:
    """"single_choice=80,true_false=20" (or 单项选择题=80 …) -> [(type, n), ...] in the given order."""
    out: list[tuple[ItemType, int]] = []
    by_zh = {t.zh: t for t in ItemType}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, sep, count = part.partition("=")
        name = name.strip()
        item_type = by_zh.get(name)
        if item_type is None:
            try:
                item_type = ItemType(name)
            except ValueError:
                fail(_("--first: '{name}' is not an item type; use one of {types}", name=name,
                       types=[t.zh for t in ItemType]))
        if not sep or not count.strip().isdigit() or int(count) <= 0:
            fail(_("--first: write '{part}' as item type=N with N above 0, e.g. 单项选择题=80", part=part))
        out.append((item_type, int(count)))
    if not out:
        fail(_("--first: no item types given; e.g. 单项选择题=80,判断题=20"))
    return out


def select_first(pool: Sequence[Item], counts: Sequence[tuple[ItemType, int]]) -> list[Item]:
    """The first N eligible items of each type in code order: not compromised, not in a set
    (sets are taken whole: leave them to assembly), no enemy of an item already chosen."""
    chosen: list[Item] = []
    taken: set[str] = set()
    for item_type, n in counts:
        got = 0
        for it in pool:
            if got == n:
                break
            if (it.item_type is not item_type or it.usage.compromised or it.set_code or it.code in taken
                    or any(e in taken for e in it.enemies)):
                continue
            chosen.append(it)
            taken.add(it.code)
            got += 1
        if got < n:
            fail(_("The bank has only {got} usable {item_type} items for this selection, {n} asked (compromised "
                   "items, members of item sets and enemies of chosen items are skipped).", got=got,
                   item_type=item_type, n=n))
    return chosen


def select_codes(pool: Sequence[Item], codes: Sequence[str]) -> list[Item]:
    """Items by code, checked: accepted, never compromised (附件16), no two enemies, sets whole.
    Returned grouped by type (stable), as a paper prints them."""
    by_code = {it.code: it for it in pool}
    problems: list[Message] = []
    seen: set[str] = set()
    chosen: list[Item] = []
    for code in codes:
        if code in seen:
            problems.append(Message("{code} is listed twice", code=code))
            continue
        seen.add(code)
        it = by_code.get(code)
        if it is None:
            problems.append(Message("{code}: the bank has no accepted item with this code", code=code))
            continue
        if it.usage.compromised:
            problems.append(Message("{code} is compromised (leaked); it may never be issued again (附件16)", code=code))
        chosen.append(it)
    for it in chosen:
        for e in it.enemies:
            if e in seen and it.code < e:
                problems.append(Message("{code} and {other} are enemies and may not share a paper", code=it.code,
                                        other=e))
        if it.set_code:
            members = sorted(x.code for x in pool if x.set_code == it.set_code)
            missing = [m for m in members if m not in seen]
            if missing and it.code == min(c for c in members if c in seen):
                problems.append(Message("item set {set} is taken whole: add {codes}", set=it.set_code, codes=missing))
    if problems:
        fail(_("The paper cannot be made:") + "".join(f"\n  - {p}" for p in problems))
    return sorted(chosen, key=lambda it: _TYPE_ORDER[it.item_type])


def _write(out: Path, name: str, content: bytes) -> Path:
    from itembank.keys import write_private

    path = out / name
    write_private(path, content, exclusive=False)  # 0600, new directories 0700: papers are confidential
    return path


@export.command("paper")
@option("--occupation", "occupation_code", required=True, help="Occupation code, e.g. 6-31-01-03.")
@option("--work-type", default=None)
@option("--level", required=True, help="5..1")
@option("--part", type=Choice(Part), default=Part.THEORY.value, show_default=True)
@option("--items", "item_codes", default=None, help="Item codes, comma-separated (grouped by type when printed).")
@option("--first", "first", default=None,
        help="First N eligible items per type, e.g. single_choice=80,true_false=20 (the default for theory).")
@option("--code", "paper_code", default=None, help="Paper code (default: OCCUPATION-L<level>-<part>-<form>).")
@option("--form", "form_label", default="A", show_default=True, help="Form label: A, B ...")
@option("--backup", is_flag=True, help="A backup paper (备用试卷, 附件16).")
@option("--time", "time_min", type=int, default=None,
        help="Time allowed in minutes (theory, where the blueprint fixes none; default 90).")
@option("--centre", "centre_name", default="职业技能等级认定中心", show_default=True)
@option("--session", "session_code", default=None, help="Exam session code printed on the paper.")
@option("--answer-sheet", is_flag=True, help="Objective answers on a separate answer sheet (答题卡).")
@option("--what", "kinds", multiple=True,
        type=Choice(list(DOC_LABELS), DOC_LABELS),
        help="Only these documents (repeatable; default: all the paper's part has).")
@option("--examiners", "n_examiners", type=int, default=3, show_default=True,
        help="Examiners signing the scoring table (>= 3, 附件2 第9条).")
@option("--practice", is_flag=True, help="Allow a bank below its minimums; marks the paper 练习.")
@option("--actor", default="cli", show_default=True, help="Who exports (recorded in the ledger).")
@option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
        show_default=True, help="Output directory.")
@click.pass_obj
def export_paper_cmd(settings: Settings, occupation_code: str, work_type: str | None, level: str, part: str,
                     item_codes: str | None, first: str | None, paper_code: str | None, form_label: str,
                     backup: bool, time_min: int | None, centre_name: str, session_code: str | None,
                     answer_sheet: bool, kinds: tuple[str, ...], n_examiners: int, practice: bool, actor: str,
                     out_dir: Path) -> None:
    """A trial paper chosen by hand (not balanced to a blueprint; refused unless its points and
    time are the blueprint's): its documents and a manifest of their hashes into --out.
    Assembled papers: itembank papers export CODE."""
    from exports import ExportError, export_paper, sealing_manifest
    from itembank import ledger
    from itembank.db import transaction
    from itembank.assembly_service import adhoc_time_allowed
    from itembank.errors import ItemBankError
    from itembank.media import pictures_for_items
    from itembank.occupations import get_bank
    from itembank.pool import load_pool
    from itembank.readiness import require_ready

    if item_codes and first:
        fail(_("give --items or --first, not both"))
    try:
        lvl = Level.parse(level)
    except ValueError as e:
        fail(e)
    the_part = Part(part)
    engine = open_engine(settings)
    try:
        with transaction(engine) as session:
            bank = get_bank(session, occupation_code=occupation_code, level=lvl, work_type=work_type)
            require_ready(session, bank=bank, parts=[the_part], practice=practice, actor=actor,
                          purpose=Message("a {part} paper exported from the command line", part=the_part))
            pool = load_pool(session, bank=bank, part=the_part)
            if item_codes:
                items = select_codes(pool, [c.strip() for c in item_codes.split(",") if c.strip()])
            else:
                items = select_first(pool, parse_counts(first or DEFAULT_FIRST[the_part]))
            # the bank's blueprint decides the points and the time allowed (one rule with assembly)
            time_min = adhoc_time_allowed(session, bank=bank, part=the_part, items=items, minutes=time_min)
            code = paper_code or f"{occupation_code}-L{int(lvl)}-{the_part.value}-{form_label}"
            paper = Paper(
                code=code, occupation=bank.occupation, level=lvl, part=the_part, form_label=form_label,
                kind=PaperKind.BACKUP if backup else PaperKind.FORM, items=tuple(items),
                time_allowed_min=time_min, centre_name=centre_name, session_code=session_code, practice=practice,
                created_at=datetime.combine(_today(), datetime.min.time()),
                pictures=pictures_for_items(session, items),
            )
            docs = export_paper(paper, kinds=list(kinds) or None, answer_sheet=answer_sheet,
                                n_examiners=n_examiners)
            manifest = sealing_manifest(docs)
            manifest["paper"] = {"code": paper.code, "items": [it.ref for it in paper.items],
                                 "total_points": paper.total_points}
            written = [_write(out_dir, d.filename, d.content) for d in docs]
            manifest_path = _write(out_dir, f"{docs[0].filename.rsplit('_', 1)[0]}_manifest.json",
                                   json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
            ledger.append(session, actor=actor, action="paper.exported", object_type="paper", object_id=paper.code,
                          details={"bank_id": bank.id, "part": the_part.value, "practice": practice,
                                   "items": [it.ref for it in paper.items],
                                   "documents": [{"file": d.filename, "sha256": d.sha256,
                                                  "text_sha256": d.text_sha256} for d in docs]})
    except (ItemBankError, ExportError) as e:
        fail(e)
    click.echo(_("paper {code}: {n} items, {points:g} points", code=paper.code, n=len(paper.items),
                 points=paper.total_points))
    for d, path in zip(docs, written):
        click.echo("  " + _("{path} ({kind}; text hash {hash}…)", path=str(path), kind=d.kind,
                            hash=d.text_sha256[:16]))  # type: ignore[index]
    click.echo(f"  {manifest_path}")


@export.command("element-table")
@option("--occupation", "occupation_code", required=True)
@option("--work-type", default=None)
@option("--level", required=True, help="5..1")
@option("--part", type=Choice(Part), default=Part.THEORY.value, show_default=True)
@option("--version", "version", type=int, default=None, help="Table version (default: the latest).")
@option("--centre", "centre_name", default="职业技能等级认定中心", show_default=True)
@option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
        show_default=True)
@click.pass_obj
def export_element_table_cmd(settings: Settings, occupation_code: str, work_type: str | None, level: str,
                             part: str, version: int | None, centre_name: str, out_dir: Path) -> None:
    """Write the element specification table (认定要素细目表) of one bank part."""
    from exports import ExportError, export_element_table
    from itembank.db import transaction
    from itembank.elements import load_element_table
    from itembank.errors import ItemBankError
    from itembank.occupations import get_bank

    try:
        lvl = Level.parse(level)
    except ValueError as e:
        fail(str(e))
    try:
        with transaction(open_engine(settings)) as session:
            bank = get_bank(session, occupation_code=occupation_code, level=lvl, work_type=work_type)
            table = load_element_table(session, bank=bank, part=Part(part), version=version)
            doc = export_element_table(table, occupation=bank.occupation, centre_name=centre_name)
    except (ItemBankError, ExportError) as e:
        fail(e)
    path = _write(out_dir, doc.filename, doc.content)
    click.echo(_("{path} ({kind}, version {version}, {n} elements)", path=str(path), kind=doc.kind,
                 version=table.version, n=len(table.leaves())))


@export.command("readiness")
@option("--occupation", "occupation_code", default=None)
@option("--work-type", default=None)
@option("--level", default=None, help="5..1")
@option("--date", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
        help="Date printed on the report (default: today).")
@option("--centre", "centre_name", default="职业技能等级认定中心", show_default=True)
@option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
        show_default=True)
@click.pass_obj
def export_readiness_cmd(settings: Settings, occupation_code: str | None, work_type: str | None,
                         level: str | None, as_of: datetime | None, centre_name: str, out_dir: Path) -> None:
    """Write the bank readiness report (题库达标情况报告) of the matching banks."""
    from exports import ExportError, export_readiness
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.occupations import list_banks
    from itembank.readiness import bank_readiness, list_minimum_rules

    try:
        lvl = Level.parse(level) if level is not None else None
    except ValueError as e:
        fail(str(e))
    try:
        with transaction(open_engine(settings)) as session:
            banks = [b for b in list_banks(session)
                     if (occupation_code is None or b.occupation.code == occupation_code)
                     and (work_type is None or b.occupation.work_type == work_type)
                     and (lvl is None or b.level == lvl)]
            if not banks:
                fail("no bank matches; list them with `itembank banks list`")
            rules = list_minimum_rules(session)
            reports = [bank_readiness(session, bank=b, rules=rules) for b in banks]
        doc = export_readiness(reports, as_of=(as_of.date() if as_of else _today()), centre_name=centre_name)
    except (ItemBankError, ExportError) as e:
        fail(e)
    path = _write(out_dir, doc.filename, doc.content)
    ready = sum(1 for r in reports if r.ready)
    click.echo(_("{path} ({n} banks, {ready} meeting their minimums)", path=str(path), n=len(reports), ready=ready))


def _today() -> date:
    """Today in the centre's time zone (the server may run in UTC)."""
    from itembank.i18n import time_zone

    return datetime.now(time_zone()).date()
