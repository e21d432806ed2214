"""``itembank demo``, ``readiness``, ``occupations``, ``banks``, ``minimums``, ``ledger``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from api.cli.common import actor_option, fail, open_engine
from api.cli.localized import Choice, argument, command, group, option
from itembank.config import Settings
from itembank.domain import Level, OccupationCategory, Part
from itembank.i18n import _


@command()
@option("--seed", default=20261128, show_default=True, help="Seed of the demo data.")
@option("--reset", is_flag=True, help="Delete the existing SQLite file first.")
@click.pass_obj
def demo(settings: Settings, seed: int, reset: bool) -> None:
    """Build the demo banks in the database (SQLite file by default) and print readiness."""
    from sqlalchemy import func, select

    from api.cli.render import readiness_text
    from itembank.db import transaction
    from itembank.demo import build_demo
    from itembank.orm import OccupationRecord
    from itembank.readiness import bank_readiness

    url = settings.database_url
    if reset:
        if not url.startswith("sqlite:///"):
            fail(_("--reset only deletes SQLite files; drop a PostgreSQL database yourself"))
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    engine = open_engine(settings)
    with transaction(engine) as session:
        if session.scalar(select(func.count()).select_from(OccupationRecord)):
            fail(_("{url} already holds data; run `itembank demo --reset` to rebuild the demo from scratch",
                   url=engine.url.render_as_string()))
        summary = build_demo(session, seed=seed)
    click.echo(_("demo: {n} items in {banks} banks, {seconds:.1f} s → {url}", n=summary.n_items,
                 banks=len(summary.banks), seconds=time.perf_counter() - started, url=engine.url.render_as_string()))
    with transaction(engine) as session:
        for bank in summary.banks:
            click.echo(readiness_text(bank_readiness(session, bank=bank)))
    from api.cli import demo_hooks

    demo_hooks.run_after_demo(settings, engine, summary, seed=seed)


@command()
@option("--occupation", "occupation_code", help="Occupation code, e.g. 6-31-01-03.")
@option("--work-type", default=None)
@option("--level", default=None, help="5..1")
@option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@option("--elements", is_flag=True, help="List every element's count.")
@click.pass_obj
def readiness(settings: Settings, occupation_code: str | None, work_type: str | None,
              level: str | None, as_json: bool, elements: bool) -> None:
    """Report banks against their minimums (附件11 第7条). Exit code 1 if any is not ready."""
    from api.cli.render import readiness_text
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.occupations import list_banks
    from itembank.readiness import bank_readiness, list_minimum_rules, readiness_to_dict

    try:
        lvl = Level.parse(level) if level is not None else None
    except ValueError as e:
        fail(e)
    engine = open_engine(settings)
    with transaction(engine) as session:
        try:
            banks = [
                b for b in list_banks(session)
                if (occupation_code is None or b.occupation.code == occupation_code)
                and (work_type is None or b.occupation.work_type == work_type)
                and (lvl is None or b.level == lvl)
            ]
            if not banks:
                fail(_("no bank matches; list them with `itembank banks list`"))
            rules = list_minimum_rules(session)
            reports = [bank_readiness(session, bank=b, rules=rules) for b in banks]
        except ItemBankError as e:
            fail(e.message)
    if as_json:
        click.echo(json.dumps([readiness_to_dict(r) for r in reports], ensure_ascii=False, indent=2))
    else:
        for r in reports:
            click.echo(readiness_text(r))
            if elements:
                for p in r.parts:
                    for e in p.elements:
                        line = _("{part} {code} {name}: weight {weight:.1f}%, importance {importance}, {count} "
                                 "items (about {expected:.0f})", part=p.part, code=e.code, name=e.name,
                                 weight=e.weight, importance=e.importance.value if e.importance else "—",
                                 count=e.count, expected=e.expected)
                        click.echo("      " + line + ("  " + _("<-- too few") if e.short else ""))
    sys.exit(0 if all(r.ready for r in reports) else 1)


@group()
def occupations() -> None:
    """Occupations (职业/工种)."""


@occupations.command("list")
@click.pass_obj
def occupations_list(settings: Settings) -> None:
    from itembank.db import transaction
    from itembank.occupations import list_occupations

    with transaction(open_engine(settings)) as session:
        for o in list_occupations(session):
            click.echo(_("{code}  {name}  work type {work_type}  {category}  {filed}", code=o.code, name=o.name,
                         work_type=o.display_work_type, category=o.category,
                         filed=_("filed") if o.filed else _("not filed")))


@occupations.command("add")
@argument("code")
@argument("name")
@option("--category", type=Choice(OccupationCategory), required=True)
@option("--work-type", default=None)
@option("--not-filed", is_flag=True)
@click.pass_obj
def occupations_add(settings: Settings, code: str, name: str, category: str,
                    work_type: str | None, not_filed: bool) -> None:
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.occupations import create_occupation

    try:
        with transaction(open_engine(settings)) as session:
            o = create_occupation(session, code=code, name=name, category=category,
                                  work_type=work_type, filed=not not_filed)
    except ItemBankError as e:
        fail(e)
    click.echo(_("added occupation {code} {label}", code=o.code, label=o.label))


@group()
def banks() -> None:
    """Banks (one per occupation and level)."""


@banks.command("list")
@click.pass_obj
def banks_list(settings: Settings) -> None:
    from itembank.db import transaction
    from itembank.occupations import list_banks

    with transaction(open_engine(settings)) as session:
        for b in list_banks(session):
            click.echo(f"{b.id:>4}  {b.label}")


@banks.command("create")
@option("--occupation", "occupation_code", required=True)
@option("--work-type", default=None)
@option("--level", required=True)
@click.pass_obj
def banks_create(settings: Settings, occupation_code: str, work_type: str | None, level: str) -> None:
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.occupations import create_bank

    try:
        with transaction(open_engine(settings)) as session:
            b = create_bank(session, occupation_code=occupation_code, work_type=work_type,
                            level=Level.parse(level))
    except (ItemBankError, ValueError) as e:
        fail(e)
    click.echo(_("created bank {bank}", bank=b.label))


@group()
def minimums() -> None:
    """Bank minimums (defaults from 附件11 第7条, changeable per centre)."""


@minimums.command("list")
@click.pass_obj
def minimums_list(settings: Settings) -> None:
    from itembank.db import transaction
    from itembank.readiness import list_minimum_rules

    click.echo(_("defaults (附件11 第7条): theory 1200; practical 20 (knowledge-skill occupations: as many as "
                 "theory); defence 10 at levels 2 and 1"))
    with transaction(open_engine(settings)) as session:
        for r in list_minimum_rules(session):
            click.echo(_("rule no. {id}: {part} minimum {minimum}; level {level}, category {category}, occupation "
                         "{occupation} {note}", id=r.id, part=r.part, minimum=r.minimum,
                         level=r.level if r.level else _("any"), category=r.category if r.category else _("any"),
                         occupation=r.occupation_code or _("any"), note=r.note))


@minimums.command("set")
@option("--part", type=Choice(Part), required=True)
@option("--minimum", type=int, required=True)
@option("--level", default=None)
@option("--category", type=Choice(OccupationCategory), default=None)
@option("--occupation", "occupation_code", default=None)
@option("--note", default="")
@option("--actor", default="cli", show_default=True)
@click.pass_obj
def minimums_set(settings: Settings, part: str, minimum: int, level: str | None, category: str | None,
                 occupation_code: str | None, note: str, actor: str) -> None:
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.readiness import set_minimum_rule

    try:
        with transaction(open_engine(settings)) as session:
            r = set_minimum_rule(session, part=Part(part), minimum=minimum,
                                 level=Level.parse(level) if level else None, category=category,
                                 occupation_code=occupation_code, note=note, actor=actor)
    except (ItemBankError, ValueError) as e:
        fail(e)
    click.echo(_("rule no. {id}: {part} minimum {minimum}", id=r.id, part=r.part, minimum=r.minimum))


@group()
def ledger() -> None:
    """The ledger (台帐)."""


@ledger.command("verify")
@option("--expect-head", default=None, help="Hash of the newest entry noted earlier.")
@option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
        help="An exported checkpoint (itembank ledger checkpoint --export) to verify against; repeatable.")
@click.pass_obj
def ledger_verify(settings: Settings, expect_head: str | None, checkpoint_files: tuple[str, ...]) -> None:
    """Recompute the hash chain and the MACs, and check it against the newest checkpoint of the
    database, of the witness file beside the key, and every --checkpoint given. Says what was
    proved and what could not be; exits 1 on any problem."""
    from pathlib import Path

    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.i18n import _
    from itembank.ledger import parse_checkpoint, verify_ledger

    try:
        given = [parse_checkpoint(Path(f).read_text(encoding="utf-8")) for f in checkpoint_files]
        with transaction(open_engine(settings, migrate=False)) as session:
            v = verify_ledger(session, expect_head=expect_head, checkpoints=given)
    except ItemBankError as e:
        fail(e)
    if v.ok:
        click.echo(_("ledger: no problem found in {n} entries; newest hash {head}", n=v.n_entries, head=v.head_hash))
    else:
        click.echo(_("ledger BROKEN: {count} problem(s) in {n} entries", count=len(v.problems), n=v.n_entries), err=True)
        for p in v.problems:
            click.echo(f"  - {p}", err=True)
    if v.proves:
        click.echo(_("This verification proves:"))
        for m in v.proves:
            click.echo(f"  + {m}")
    if v.limits:
        click.echo(_("It cannot prove:"))
        for m in v.limits:
            click.echo(f"  ! {m}")
    if not v.ok:
        sys.exit(1)


@ledger.command("checkpoint")
@option("--export", "export_to", type=click.Path(dir_okay=False), default=None,
        help="Also write the printable checkpoint to this file (created 0600).")
@actor_option
@click.pass_obj
def ledger_checkpoint(settings: Settings, export_to: str | None, actor: str) -> None:
    """Sign the ledger's newest entry and its number of entries (run it from cron, and print
    one for the archive now and then); it is also appended to the witness file beside the key."""
    from pathlib import Path

    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.i18n import _
    from itembank.keys import ledger_key, write_private
    from itembank.ledger import export_checkpoint, make_checkpoint, write_witness

    engine = open_engine(settings, migrate=False)
    try:
        with transaction(engine) as session:
            cp = make_checkpoint(session, actor=actor)
        with transaction(engine) as session:
            witness = write_witness(session, cp)
            key = ledger_key(session)
    except ItemBankError as e:
        fail(e)
    click.echo(_("checkpoint #{id}: {n} entries up to entry {entry}, hash {hash}", id=cp.id, n=cp.n_entries,
                 entry=cp.entry_id, hash=cp.head_hash))
    if witness is not None:
        click.echo(_("written to the witness file {path}", path=str(witness)))
    if export_to and key is not None:
        write_private(Path(export_to), export_checkpoint(cp, public_key=key.public_key,
                                                         centre_name=settings.centre_name).encode("utf-8"),
                      exclusive=False)
        click.echo(_("exported to {path}", path=export_to))
