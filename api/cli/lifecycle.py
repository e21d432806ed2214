"""``itembank lifecycle ...``: registration import, eligibility rules, admission tickets,
certificate codes and QR verification, the holiday calendar, card lapses, retention."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from api.cli.common import fail, load_settings, open_engine
from api.cli.localized import argument, group, option
from itembank.config import Settings
from itembank.i18n import N_, Message, Sentences, _, format_date


def _lc_settings():  # type: ignore[no-untyped-def]
    from lifecycle.config import LifecycleSettings

    return load_settings(LifecycleSettings)


def _day(value: str | None) -> date:
    if value is None:  # today in the centre's time zone, not the server's
        from datetime import datetime

        from itembank.i18n import time_zone

        return datetime.now(time_zone()).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(_("'{value}' is not a date; write it as 2026-11-28", value=value))
        raise  # unreachable


@group()
def lifecycle() -> None:
    """Registration, sessions, scoring, certificates, staff cards, retention (职业技能等级认定考务)."""


@lifecycle.command("template")
@argument("out", type=click.Path(dir_okay=False, path_type=Path))
def template_cmd(out: Path) -> None:
    """Write the registration import template (.xlsx) to OUT."""
    from lifecycle.registration import registration_template_xlsx

    out.write_bytes(registration_template_xlsx())
    click.echo(_("wrote {path}", path=str(out)))


@lifecycle.command("import")
@argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("--plan", "plan_code", default=None, help="Exam plan the applications join.")
@option("--actor", default="cli", show_default=True)
@click.pass_obj
def import_cmd(settings: Settings, path: Path, plan_code: str | None, actor: str) -> None:
    """Import candidates and applications from an .xlsx sheet: all rows or none (exit 1 on problems)."""
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from lifecycle.registration import import_applications_xlsx

    try:
        with transaction(open_engine(settings)) as session:
            report = import_applications_xlsx(session, data=path.read_bytes(), actor=actor, plan_code=plan_code)
    except ItemBankError as e:
        click.echo(_("nothing imported: {error}", error=e.message), err=True)
        sys.exit(1)
    click.echo(_("{n} rows: {accepted} accepted, {refused} refused", n=report.n_rows,
                 accepted=len(report.accepted), refused=len(report.refused)))
    for a in report.accepted:
        click.echo("  " + _("accepted: application no. {id}, {name}, {level}: {rule}", id=a.id,
                            name=a.candidate.name, level=a.level, rule=a.matched_rule))
    for a in report.refused:
        click.echo("  " + _("refused: application no. {id}, {name}, {level}:", id=a.id, name=a.candidate.name,
                            level=a.level))
        for r in a.refusal_reasons:
            click.echo(f"      - {r}")


@lifecycle.command("rules")
@option("--level", default=None, help="5..1 (default: every level)")
@option("--occupation", "occupation_code", default=None)
@click.pass_obj
def rules_cmd(settings: Settings, level: str | None, occupation_code: str | None) -> None:
    """Show the eligibility rules (申报条件) in force: stored ones, else the defaults."""
    from itembank.db import transaction
    from itembank.domain import Level
    from lifecycle.registration import eligibility_rules

    levels = [Level.parse(level)] if level else list(Level)
    with transaction(open_engine(settings)) as session:
        for lvl in levels:
            click.echo(_("== {level} (any one of these conditions)", level=lvl))
            for r in eligibility_rules(session, level=lvl, occupation_code=occupation_code):
                click.echo(f"  ({r.alternative}) {r.description}")


@lifecycle.command("tickets")
@option("--plan", "plan_code", required=True)
@option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def tickets_cmd(settings: Settings, plan_code: str, out: Path) -> None:
    """Export the plan's admission tickets (准考证) to a .docx file."""
    from itembank.db import transaction
    from itembank.errors import ItemBankError
    from lifecycle.sessions import admission_tickets
    from lifecycle.tickets_docx import render_admission_tickets

    try:
        with transaction(open_engine(settings)) as session:
            tickets = admission_tickets(session, plan_code=plan_code, settings=_lc_settings())
    except ItemBankError as e:
        fail(e)
    if not tickets:
        fail(_("Exam plan {plan} has no admission tickets yet; issue them first.", plan=plan_code))
    from itembank.keys import write_private

    write_private(Path(out), render_admission_tickets(tickets), exclusive=False)  # 0600: personal data
    click.echo(_("wrote {n} admission tickets to {path}", n=len(tickets), path=str(out)))


@lifecycle.command("check-code")
@argument("code")
def check_code_cmd(code: str) -> None:
    """Validate and parse a certificate code (附件3 第13条); exit 1 when invalid."""
    from lifecycle.codes import DEFAULT_LAYOUT, validate_certificate_code

    problems = validate_certificate_code(code)
    if problems:
        click.echo(_("{code}: not a valid certificate code", code=code), err=True)
        for p in problems:
            click.echo(f"  - {p}", err=True)
        sys.exit(1)
    for seg in DEFAULT_LAYOUT.segments:
        a, b = DEFAULT_LAYOUT.offsets[seg.name]
        click.echo(f"  {code[a:b]:<8} {seg.description}")
    click.echo(_("{code}: valid", code=code))


@lifecycle.command("verify")
@argument("payload")
@click.pass_obj
def verify_cmd(settings: Settings, payload: str) -> None:
    """Verify a scanned certificate QR payload against the register; exit 1 when not valid."""
    from itembank.db import transaction
    from lifecycle.certificates import verify_certificate

    with transaction(open_engine(settings)) as session:
        v = verify_certificate(session, payload=payload, settings=_lc_settings())
    click.echo(_("valid: {message}", message=v.message) if v.valid else _("not valid: {message}", message=v.message))
    sys.exit(0 if v.valid else 1)


@lifecycle.command("calendar")
@argument("day")
@option("--holiday", "kind", flag_value="holiday", help="A public holiday.")
@option("--workday", "kind", flag_value="workday", help="A make-up working day (调休).")
@option("--name", default="")
@option("--actor", default="cli", show_default=True)
@click.pass_obj
def calendar_cmd(settings: Settings, day: str, kind: str | None, name: str, actor: str) -> None:
    """Record DAY as a holiday or a make-up working day (for the 5-working-day publication)."""
    from itembank.db import transaction
    from lifecycle.publication import set_calendar_day

    if kind is None:
        fail(_("say --holiday or --workday"))
    with transaction(open_engine(settings)) as session:
        set_calendar_day(session, day=_day(day), kind=kind, name=name, actor=actor)  # type: ignore[arg-type]
    click.echo(_("{day}: a holiday {name}", day=_day(day), name=name) if kind == "holiday"
               else _("{day}: a make-up working day {name}", day=_day(day), name=name))


@lifecycle.command("publication-end")
@argument("start")
@click.pass_obj
def publication_end_cmd(settings: Settings, start: str) -> None:
    """Last day of a publication starting on START (5 working days, 附件1 第26条)."""
    from itembank.db import transaction
    from lifecycle.publication import load_calendar
    from lifecycle.workdays import publication_end

    with transaction(open_engine(settings)) as session:
        cal = load_calendar(session)
    lc = _lc_settings()
    click.echo(format_date(publication_end(cal, _day(start), lc.publication_working_days)))


@lifecycle.command("lapsed-cards")
@option("--on", "on", default=None, help="Date (default today).")
@click.pass_obj
def lapsed_cards_cmd(settings: Settings, on: str | None) -> None:
    """Examiner and supervisor cards not valid on the date (expired, no annual training); exit 1 if any."""
    from itembank.db import transaction
    from lifecycle.staff import lapsed_cards

    with transaction(open_engine(settings)) as session:
        rows = lapsed_cards(session, on=_day(on))
    for card, reasons in rows:
        click.echo(_("{number} ({kind}): {reasons}", number=card.number, kind=card.kind, reasons=Sentences(reasons)))
    if not rows:
        click.echo(_("no lapsed cards"))
    sys.exit(1 if rows else 0)


@lifecycle.command("retention")
@option("--on", "on", default=None, help="Date (default today).")
@option("--destroy", is_flag=True, help="Run the destruction of reviewed, expired, unheld materials.")
@option("--dry-run", is_flag=True, help="With --destroy: list what would be destroyed.")
@option("--actor", default="cli", show_default=True)
@click.pass_obj
def retention_cmd(settings: Settings, on: str | None, destroy: bool, dry_run: bool, actor: str) -> None:
    """Retention state of every plan's materials (附件1 第29条); --destroy runs the destruction."""
    from itembank.db import transaction
    from lifecycle.retention import retention_overview, run_destruction

    day = _day(on)
    with transaction(open_engine(settings)) as session:
        if destroy:
            report = run_destruction(session, on=day, actor=actor, settings=_lc_settings(), dry_run=dry_run)
            for plan, per in report.destroyed.items():
                counts = [_("{n} {kind}", n=len(ids), kind=_material(k)) for k, ids in per.items()]
                click.echo(_("{plan}: would destroy {counts}", plan=plan, counts=counts) if dry_run
                           else _("{plan}: destroyed {counts}", plan=plan, counts=counts))
            click.echo(_("would destroy {n} records of {plans} exam plans", n=report.n_records,
                         plans=len(report.destroyed)) if dry_run
                       else _("destroyed {n} records of {plans} exam plans", n=report.n_records,
                              plans=len(report.destroyed)))
            return
        for s in retention_overview(session, on=day, settings=_lc_settings()):
            state = _("may be destroyed") if s.destroyable else Sentences(s.reasons)
            click.echo(_("{plan}: closed {closed}, kept until {until}: {state}", plan=s.plan_code,
                         closed=s.closed_on or "—", until=s.retain_until or "—", state=state))


_MATERIALS = {"responses": N_("answer records"), "examiner_scores": N_("examiners' scores"),
              "seat_assignments": N_("seat assignments"), "result_objections": N_("objections to results"),
              "admission_tickets": N_("admission tickets")}


def _material(kind: str) -> object:
    """What a kind of destroyed record is called (an unknown kind by its code)."""
    return Message(_MATERIALS[kind]) if kind in _MATERIALS else kind
