"""``itembank template``, ``import``, ``export`` and ``ledger show`` / ``ledger query``.

The command line is an administrator's tool: whoever runs it holds the database credentials.
``--actor`` names the person acting; it is what the ledger records.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from api.cli.common import actor_option, cli_bank, fail, open_engine, with_bank
from api.cli.localized import Choice, argument, command, group, option
from itembank.config import Settings
from itembank.domain import Actor, Part, Role, VersionState
from itembank.i18n import _
from itembank.keys import write_private
from itembank.ledger_text import OBJECT_TYPES


def _print_problems(err) -> None:  # type: ignore[no-untyped-def]
    click.echo(_("import refused: {n} problem(s); nothing was written", n=len(err.problems)), err=True)
    for p in err.problems:
        click.echo(f"  - {p}", err=True)


# --------------------------------------------------------------------------------------
# template


@group()
def template() -> None:
    """Write import templates (docs/IMPORT.md)."""


@template.command("xlsx")
@argument("path", required=False, default="itembank_items_template.xlsx", type=click.Path(dir_okay=False))
def template_xlsx(path: str) -> None:
    """The items workbook: one sheet per part, 评分要点, and 说明 with examples."""
    from itembank.imports import items_template

    Path(path).write_bytes(items_template())
    click.echo(_("wrote {path}", path=str(path)))


@template.command("csv")
@argument("path", required=False, default="itembank_items_template.csv", type=click.Path(dir_okay=False))
def template_csv(path: str) -> None:
    from itembank.imports import items_csv_template

    Path(path).write_bytes(items_csv_template())
    click.echo(_("wrote {path}", path=str(path)))


@template.command("elements")
@argument("path", required=False, default="itembank_elements_template.xlsx", type=click.Path(dir_okay=False))
def template_elements(path: str) -> None:
    """The element table workbook (认定要素细目表)."""
    from itembank.imports import elements_template

    Path(path).write_bytes(elements_template())
    click.echo(_("wrote {path}", path=str(path)))


# --------------------------------------------------------------------------------------
# import


@group("import")
def import_() -> None:
    """Import items (xlsx, csv, QTI 3.0) and element tables. All or nothing."""


def _mode(as_accepted: bool, batch_ref: str | None) -> str:
    if as_accepted and not batch_ref:
        fail(_("--as-accepted needs --batch-ref: the reference of the committee batch that accepted the items"))
    if batch_ref and not as_accepted:
        fail(_("--batch-ref only goes with --as-accepted"))
    return "accepted" if as_accepted else "draft"


@import_.command("items")
@argument("file", type=click.Path(exists=True, dir_okay=False))
@with_bank
@option("--as-accepted", is_flag=True, help="Legacy bank already accepted by a committee.")
@option("--batch-ref", default=None, help="That committee's batch reference (with --as-accepted).")
@option("--encoding", default=None, help="CSV encoding if not UTF-8, e.g. gb18030.")
@option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@actor_option
@click.pass_obj
def import_items_cmd(settings: Settings, file: str, occupation_code: str, level: str, work_type: str | None,
                     as_accepted: bool, batch_ref: str | None, encoding: str | None, dry_run: bool,
                     actor: str) -> None:
    """Import items from FILE (.xlsx or .csv). Exit 1 listing every bad row and column."""
    from itembank.db import transaction
    from itembank.errors import ImportFileError, ItemBankError
    from itembank.imports import import_items

    mode = _mode(as_accepted, batch_ref)
    who = Actor(actor, frozenset({Role.BANK_MANAGER}))
    try:
        with transaction(open_engine(settings)) as session:
            report = import_items(session, actor=who, bank=cli_bank(session, occupation_code, level, work_type),
                                  data=Path(file).read_bytes(), filename=Path(file).name, mode=mode,
                                  batch_ref=batch_ref or "", dry_run=dry_run, encoding=encoding)
    except ImportFileError as e:
        _print_problems(e)
        sys.exit(1)
    except (ItemBankError, ValueError) as e:
        fail(e)
    click.echo(str(report.summary()))


@import_.command("elements")
@argument("file", type=click.Path(exists=True, dir_okay=False))
@with_bank
@option("--part", type=Choice(Part), default=None,
        help="Part of every row when the sheet has no 部分 column.")
@option("--dry-run", is_flag=True)
@actor_option
@click.pass_obj
def import_elements_cmd(settings: Settings, file: str, occupation_code: str, level: str, work_type: str | None,
                        part: str | None, dry_run: bool, actor: str) -> None:
    """Import element tables (认定要素细目表) from FILE (.xlsx, sheet 认定要素细目表)."""
    from itembank.db import transaction
    from itembank.errors import ImportFileError, ItemBankError
    from itembank.imports import import_elements

    who = Actor(actor, frozenset({Role.BANK_MANAGER}))
    try:
        with transaction(open_engine(settings)) as session:
            report = import_elements(session, actor=who, bank=cli_bank(session, occupation_code, level, work_type),
                                     data=Path(file).read_bytes(), filename=Path(file).name,
                                     default_part=Part(part) if part else None, dry_run=dry_run)
    except ImportFileError as e:
        _print_problems(e)
        sys.exit(1)
    except (ItemBankError, ValueError) as e:
        fail(e)
    for p, v in report.versions.items():
        click.echo(_("{part}: unchanged", part=Part(p)) if v is None
                   else _("{part}: saved as element table version {version}", part=Part(p), version=v))


@import_.command("qti")
@argument("file", type=click.Path(exists=True, dir_okay=False))
@with_bank
@option("--as-accepted", is_flag=True)
@option("--batch-ref", default=None)
@option("--element", "elements", multiple=True,
        help="Element code(s) for items whose package gives none (foreign packages).")
@option("--dry-run", is_flag=True)
@actor_option
@click.pass_obj
def import_qti_cmd(settings: Settings, file: str, occupation_code: str, level: str, work_type: str | None,
                   as_accepted: bool, batch_ref: str | None, elements: tuple[str, ...], dry_run: bool,
                   actor: str) -> None:
    """Import a QTI 3.0 content package (.zip) or one item (.xml)."""
    from itembank.db import transaction
    from itembank.errors import ImportFileError, ItemBankError
    from itembank.qti import import_qti

    mode = _mode(as_accepted, batch_ref)
    who = Actor(actor, frozenset({Role.BANK_MANAGER}))
    try:
        with transaction(open_engine(settings)) as session:
            report = import_qti(session, actor=who, bank=cli_bank(session, occupation_code, level, work_type),
                                data=Path(file).read_bytes(), filename=Path(file).name, mode=mode,
                                batch_ref=batch_ref or "", dry_run=dry_run, default_elements=elements)
    except ImportFileError as e:
        _print_problems(e)
        sys.exit(1)
    except (ItemBankError, ValueError) as e:
        fail(e)
    click.echo(str(report.summary()))


# --------------------------------------------------------------------------------------
# export qti (attached to the ``itembank export`` group of api/cli/export.py)


@command("qti")
@argument("out", type=click.Path(dir_okay=False))
@with_bank
@option("--part", type=Choice(Part), default=None)
@option("--code", "codes", multiple=True, help="Only these items (repeat).")
@option("--state", "states", multiple=True, type=Choice(VersionState),
        help="Version states to export (default: accepted).")
@actor_option
@click.pass_obj
def export_qti_cmd(settings: Settings, out: str, occupation_code: str, level: str, work_type: str | None,
                   part: str | None, codes: tuple[str, ...], states: tuple[str, ...], actor: str) -> None:
    """Write the bank's items to OUT as a QTI 3.0 content package (.zip)."""
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.qti import export_qti

    who = Actor(actor, frozenset({Role.BANK_MANAGER}))
    try:
        with transaction(open_engine(settings)) as session:
            data, items = export_qti(session, actor=who, bank=cli_bank(session, occupation_code, level, work_type),
                                     codes=list(codes) or None, part=Part(part) if part else None,
                                     states=[VersionState(s) for s in states] or [VersionState.ACCEPTED])
            write_private(Path(out), data, exclusive=False)  # 0600: item content
    except (ItemBankError, ValueError) as e:
        fail(e)
    click.echo(_("exported {n} items to {path}", n=len(items), path=out))


# --------------------------------------------------------------------------------------
# ledger show / query


def _parse_when(value: str | None) -> datetime | None:
    if value is None:
        return None
    from datetime import UTC

    from itembank.i18n import time_zone

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        fail(_("'{value}' is not a date; write 2026-11-28 or 2026-11-28T14:30", value=value))
    # the operator writes the centre's local time; the ledger stores UTC
    if when.tzinfo is None:
        when = when.replace(tzinfo=time_zone())
    return when.astimezone(UTC).replace(tzinfo=None)


def _ledger_entries(settings: Settings, object_type, object_id, item, occupation_code, level, work_type,  # type: ignore[no-untyped-def]
                    actor_name, action, since, until, limit):
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from itembank.items import get_item
    from itembank.ledger import query_ledger

    try:
        with transaction(open_engine(settings)) as session:
            if item is not None:
                if not (occupation_code and level):
                    fail(_("--item needs --occupation and --level"))
                found = get_item(session, bank=cli_bank(session, occupation_code, level, work_type), code=item)
                object_type, object_id = "item", found.id
            return query_ledger(session, object_type=object_type, object_id=object_id, actor=actor_name,
                                action=action, since=_parse_when(since), until=_parse_when(until), limit=limit)
    except (ItemBankError, ValueError) as e:
        fail(e)
    return []


ledger_filters = [
    option("--object-type", default=None, type=Choice(list(OBJECT_TYPES), OBJECT_TYPES),
           help="Only entries about this kind of object."),
    option("--object-id", default=None),
    option("--item", default=None, help="An item code (with --occupation and --level)."),
    option("--occupation", "occupation_code", default=None),
    option("--level", default=None),
    option("--work-type", default=None),
    option("--by", "actor_name", default=None, help="Only entries by this actor."),
    option("--action", default=None, help="Only entries of this action, by its code (e.g. item.state, batch.sign)."),
    option("--since", default=None, help="From this date/time (the centre's time zone), inclusive."),
    option("--until", default=None, help="Before this date/time (the centre's time zone)."),
    option("--limit", default=200, show_default=True),
]


def with_ledger_filters(fn):  # type: ignore[no-untyped-def]
    for opt in reversed(ledger_filters):
        fn = opt(fn)
    return fn


@command("show")
@with_ledger_filters
@option("--raw", is_flag=True, help="Also print each entry's stored codes and details.")
@click.pass_obj
def ledger_show(settings: Settings, **filters) -> None:  # type: ignore[no-untyped-def]
    """Ledger entries, oldest first, as sentences with the people's names and the centre's local
    time; filtered by object, actor, action and dates."""
    from itembank.db import transaction
    from itembank.i18n import format_datetime
    from itembank.ledger_text import describe_entries

    raw = filters.pop("raw")
    entries = _ledger_entries(settings, **filters)
    with transaction(open_engine(settings, migrate=False)) as session:
        texts = describe_entries(session, entries)
    for e, t in zip(entries, texts, strict=True):
        click.echo(f"#{e.id:<6} {format_datetime(e.at, seconds=True)}  {t.sentence}")
        if raw:
            click.echo("        " + json.dumps({"action": e.action, "object_type": e.object_type,
                                                "object_id": e.object_id, "details": e.details},
                                               ensure_ascii=False, sort_keys=True))
    click.echo(_("({n} entries)", n=len(entries)))


@command("query")
@with_ledger_filters
@click.pass_obj
def ledger_query(settings: Settings, **filters) -> None:  # type: ignore[no-untyped-def]
    """Like ``show`` but one JSON object a line, every field (for scripts and auditors)."""
    for e in _ledger_entries(settings, **filters):
        click.echo(json.dumps({"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                               "object_type": e.object_type, "object_id": e.object_id, "details": e.details,
                               "prev_hash": e.prev_hash, "hash": e.hash}, ensure_ascii=False))
