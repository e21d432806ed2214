"""``itembank blueprint ...``, ``itembank assemble``, ``itembank papers ...``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from api.cli.common import cli_bank, fail, open_engine
from api.cli.common import with_bank_part as with_bank
from api.cli.localized import Choice, argument, command, group, option
from api.words import OBJECTIVE_WORDS
from assembly import SOLVER_NAMES
from itembank.config import Settings
from itembank.domain import ItemType, Part
from itembank.i18n import _, render


@group()
def blueprint() -> None:
    """Blueprints (组卷方案): stored and versioned per bank and part."""


@blueprint.command("derive")
@with_bank
@option("--name", default=None, help="Default: the level's standard name.")
@option("--max-overlap", type=int, default=0, show_default=True, help="Items two papers may share.")
@option("--objective", type=Choice(["none", "maximin", "target_information", "target_tcc"], OBJECTIVE_WORDS),
        default=None, help="Default: maximin information for levels 5-3 theory.")
@option("--actor", default="cli", show_default=True)
@click.pass_obj
def blueprint_derive(settings: Settings, occupation_code: str, work_type: str | None, level: str, part: str,
                     name: str | None, max_overlap: int, objective: str | None, actor: str) -> None:
    """Derive the level's standard blueprint from the current element table and store it."""
    from itembank import assembly_service as svc
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    try:
        with transaction(open_engine(settings)) as session:
            bank = cli_bank(session, occupation_code, level, work_type)
            stored = svc.derive_standard_blueprint(session, bank=bank, part=Part(part), actor=actor, name=name,
                                                   max_overlap=max_overlap, objective=objective)
    except (ItemBankError, ValueError) as e:
        fail(e)
    bp = stored.blueprint  # type: ignore[union-attr]
    click.echo(_("blueprint “{name}” version {version}: {n} items ({types}); {rows} element coverage rows",
                 name=stored.name, version=stored.version, n=bp.n_items,  # type: ignore[union-attr]
                 types=[_("{item_type} {count}", item_type=_item_type(t.item_type), count=t.count)
                        for t in bp.item_types], rows=len(bp.elements)))


@blueprint.command("list")
@with_bank
@click.pass_obj
def blueprint_list(settings: Settings, occupation_code: str, work_type: str | None, level: str, part: str) -> None:
    from itembank import assembly_service as svc
    from itembank.db import transaction

    with transaction(open_engine(settings)) as session:
        for b in svc.list_blueprints(session, bank=cli_bank(session, occupation_code, level, work_type), part=Part(part)):
            click.echo(_("no. {id} {part} “{name}” version {version}: {n} items; saved {at} by {by} {note}",
                         id=b.id, part=b.part, name=b.name, version=b.version, n=b.blueprint.n_items,
                         at=b.created_at, by=b.created_by, note=b.note))


@blueprint.command("show")
@with_bank
@option("--name", default=None)
@option("--version", type=int, default=None)
@click.pass_obj
def blueprint_show(settings: Settings, occupation_code: str, work_type: str | None, level: str, part: str,
                   name: str | None, version: int | None) -> None:
    """Print a stored blueprint as JSON (the form the API accepts)."""
    import assembly as asm
    from itembank import assembly_service as svc
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    try:
        with transaction(open_engine(settings)) as session:
            b = svc.load_blueprint(session, bank=cli_bank(session, occupation_code, level, work_type), part=Part(part),
                                   name=name, version=version)
    except ItemBankError as e:
        fail(e)
    click.echo(json.dumps(asm.blueprint_to_dict(b.blueprint), ensure_ascii=False, indent=2))


def print_run(run, papers) -> None:  # type: ignore[no-untyped-def]
    r = run.report.get("report", {})
    gap = r.get("rel_gap")
    from itembank.assembly_service import status_words

    gap_text = "—" if gap is None else format(gap, ".2%")
    click.echo(_("assembly run no. {id}: {outcome}; {message}", id=run.id, outcome=status_words(run.outcome),
                 message=run.message))
    click.echo("  " + _("solver {solver}: {status}; objective {objective}, bound {bound}, gap {gap}, {seconds:.1f} s; "
                        "model of {variables} variables and {constraints} constraints",
                        solver=SOLVER_NAMES.get(str(r.get("solver")), r.get("solver")),
                        status=status_words(str(r.get("status"))), objective=_number(r.get("objective")),
                        bound=_number(r.get("best_bound")), gap=gap_text,
                        seconds=r.get("time_s", 0), variables=r.get("n_variables"),
                        constraints=r.get("n_constraints")))
    for line in run.report.get("diagnosis", []):
        click.echo("  " + _("why: {text}", text=render(line)))
    for rel in run.report.get("relaxations", []):
        click.echo("  " + _("to relax: {text}", text=render(rel["message"])))
    for view in papers:
        rows = view.checks.get("rows", [])
        bad = [x for x in rows if x.get("ok") is False]
        click.echo("  " + _("{code} form {form}: {n} items, {points:g} points; {rows} blueprint rows checked, "
                            "{bad} off target", code=view.paper.code, form=view.paper.form_label,
                            n=len(view.paper.items), points=view.paper.total_points, rows=len(rows), bad=len(bad)))


def _number(value: object) -> str:
    return "—" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _item_type(value: object) -> object:
    try:
        return ItemType(str(value))
    except ValueError:
        return value


@command()
@with_bank
@option("--blueprint", "blueprint_name", default=None, help="Stored blueprint name (default: the latest; "
        "derived from the element table if the bank has none).")
@option("--version", "blueprint_version", type=int, default=None)
@option("--forms", "n_forms", type=int, default=2, show_default=True)
@option("--backups", "n_backups", type=int, default=1, show_default=True)
@option("--solver", type=Choice(["cbc", "highs"], SOLVER_NAMES), default="cbc", show_default=True)
@option("--time-limit", "time_limit_s", type=float, default=60.0, show_default=True)
@option("--gap", "rel_gap", type=float, default=0.01, show_default=True)
@option("--seed", type=int, default=0, show_default=True)
@option("--practice", is_flag=True, help="Allow a bank below its minimums (practice papers, ledgered).")
@option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Write the papers, keys and the assembly report here.")
@option("--actor", default="cli", show_default=True)
@click.pass_obj
def assemble(settings: Settings, occupation_code: str, work_type: str | None, level: str, part: str,
             blueprint_name: str | None, blueprint_version: int | None, n_forms: int, n_backups: int, solver: str,
             time_limit_s: float, rel_gap: float, seed: int, practice: bool, out_dir: Path | None, actor: str) -> None:
    """Assemble parallel papers and backups by integer programming, and record them."""
    from itembank import assembly_service as svc
    from itembank.db import transaction
    from itembank.errors import ItemBankError, NotFoundError

    try:
        with transaction(open_engine(settings)) as session:
            bank = cli_bank(session, occupation_code, level, work_type)
            try:
                stored = svc.load_blueprint(session, bank=bank, part=Part(part), name=blueprint_name,
                                            version=blueprint_version)
            except NotFoundError:
                if blueprint_name:
                    raise
                stored = svc.derive_standard_blueprint(session, bank=bank, part=Part(part), actor=actor)  # type: ignore[assignment]
            run = svc.run_assembly(session, bank=bank, blueprint=stored, actor=actor,  # type: ignore[arg-type]
                                   params=svc.RunParams(n_forms=n_forms, n_backups=n_backups, solver=solver,
                                                        time_limit_s=time_limit_s, rel_gap=rel_gap, seed=seed,
                                                        practice=practice))
            papers = [svc.get_paper(session, code=c, centre_name=settings.centre_name) for c in run.paper_codes]
            print_run(run, papers)
            if out_dir is not None and papers:
                write_run_documents(session, run=run, papers=papers, out_dir=out_dir, actor=actor,
                                    centre_name=settings.centre_name)
    except (ItemBankError, ValueError) as e:
        fail(e)
    if not run.paper_codes:
        sys.exit(1)


def write_run_documents(session, *, run, papers, out_dir: Path, actor: str, centre_name: str) -> list[Path]:  # type: ignore[no-untyped-def]
    """Papers, keys and the assembly report (.docx, curves .png/.svg) of a run, ledgered."""
    from exports import export_assembly_report, export_paper
    from exports.from_assembly import report_data
    from itembank import ledger

    from itembank.keys import write_private

    written = []
    for view in papers:
        for d in export_paper(view.paper):
            path = out_dir / d.filename
            write_private(path, d.content, exclusive=False)  # 0600, new directories 0700
            written.append(path)
        ledger.append(session, actor=actor, action="paper.exported", object_type="paper", object_id=view.paper.code,
                      details={"run": run.id, "out": str(out_dir)})
    p0 = papers[0].paper
    title = f"{p0.occupation.label}（{p0.level.title_zh}）{p0.part.zh} 组卷任务 #{run.id}"
    from itembank.elements import load_element_table
    from itembank.occupations import get_bank_by_id

    table = load_element_table(session, bank=get_bank_by_id(session, run.bank_id), part=p0.part)
    names = {n.code: n.name for n in table.nodes}
    for d in export_assembly_report(report_data(run, papers, title=title, centre_name=centre_name,
                                                element_names=names)):
        path = out_dir / d.filename
        write_private(path, d.content, exclusive=False)
        written.append(path)
    for path in written:
        click.echo("  " + _("wrote {path}", path=str(path)))
    return written


@group()
def papers() -> None:
    """Assembled papers: list, show, re-check, export."""


@papers.command("list")
@option("--occupation", "occupation_code", default=None, help="Occupation code (default: every bank).")
@option("--level", default=None, help="5..1 (with --occupation; default: every level).")
@option("--work-type", default=None)
@option("--part", type=Choice(Part), default=None, help="Default: every part.")
@option("--status", default=None)
@click.pass_obj
def papers_list(settings: Settings, occupation_code: str | None, level: str | None, work_type: str | None,
                part: str | None, status: str | None) -> None:
    """The assembled papers (codes for ``papers export CODE``), newest first, bank by bank."""
    from itembank import assembly_service as svc
    from itembank.db import transaction
    from itembank.domain import Level, PaperKind
    from itembank.errors import ItemBankError
    from itembank.occupations import list_banks
    from itembank.orm_assembly import PaperStatus

    try:
        with transaction(open_engine(settings)) as session:
            if occupation_code and level:
                banks = [cli_bank(session, occupation_code, level, work_type)]
            else:
                if level and not occupation_code:
                    fail(_("--level needs --occupation"))
                banks = [b for b in list_banks(session) if occupation_code in (None, b.occupation.code)
                         and (work_type is None or b.occupation.work_type == work_type)]
                if occupation_code and not banks:
                    fail(_("no bank of occupation {code}", code=occupation_code))
            listed = [(b, *svc.list_papers(session, bank=b, part=Part(part) if part else None, status=status,
                                           limit=500)) for b in sorted(banks, key=lambda b: (b.occupation.code,
                                                                                             -int(Level(b.level))))]
    except ItemBankError as e:
        fail(e)
    click.echo(_("{n} papers", n=sum(total for _b, _rows, total in listed)))
    for bank, rows, _total in listed:
        for p in Part:
            of_part = [r for r in rows if r["part"] == p.value]
            if not of_part:
                continue
            click.echo(_("{bank} {part}: {n} papers", bank=bank.label, part=p, n=len(of_part)))
            for r in of_part:
                line = _("{code} form {form}, {kind}, {status}: {n} items, assembly run no. {run}", code=r["code"],
                         form=r["form_label"], kind=_enum(PaperKind, r["kind"]), status=_enum(PaperStatus, r["status"]),
                         n=r["n_items"], run=r["run_id"])
                click.echo("  " + line + (_("; practice paper") if r["practice"] else ""))


@papers.command("recheck")
@argument("code")
@click.pass_obj
def papers_recheck(settings: Settings, code: str) -> None:
    """Re-check a paper against its blueprint version on its pool snapshot (no solver)."""
    from itembank import assembly_service as svc
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    try:
        with transaction(open_engine(settings)) as session:
            report = svc.recheck_paper(session, code=code)
    except ItemBankError as e:
        fail(e)
    for paper in report.papers:
        for row in paper.rows:
            mark = _("[met]") if row.ok else (_("[for information]") if row.ok is None else _("[not met]"))
            click.echo("  " + _("{mark} {label}: {achieved:g} (allowed {lo} to {hi})", mark=mark, label=row.label,
                                achieved=row.achieved, lo=_number(row.lo), hi=_number(row.hi)))
    if report.ok:
        click.echo(_("the paper meets its blueprint"))
    else:
        click.echo(_("the paper does not meet its blueprint:"))
        for v in report.violations:
            click.echo(f"  - {v}")
    sys.exit(0 if report.ok else 1)


@papers.command("export")
@argument("code")
@option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True)
@option("--answer-sheet", is_flag=True)
@option("--pdf", is_flag=True, help="A printable PDF beside each Word document (LibreOffice).")
@option("--actor", default="cli", show_default=True)
@click.pass_obj
def papers_export(settings: Settings, code: str, out_dir: Path, answer_sheet: bool, pdf: bool, actor: str) -> None:
    """Write a stored paper's documents (paper, key, sheets) with a manifest of their hashes."""
    from exports import ExportError, export_paper, sealing_manifest, with_pdfs
    from itembank import assembly_service as svc
    from itembank import ledger
    from itembank.db import transaction
    from itembank.errors import ItemBankError

    try:
        with transaction(open_engine(settings)) as session:
            view = svc.get_paper(session, code=code, centre_name=settings.centre_name)
            docs = export_paper(view.paper, answer_sheet=answer_sheet)
            if pdf:
                docs = list(with_pdfs(docs))
            ledger.append(session, actor=actor, action="paper.exported", object_type="paper", object_id=code,
                          details={"documents": [[d.filename, d.sha256] for d in docs]})
    except (ItemBankError, ExportError) as e:
        fail(e)
    from itembank.keys import write_private

    for d in docs:  # 0600, new directories 0700: papers are confidential
        write_private(out_dir / d.filename, d.content, exclusive=False)
        click.echo("  " + _("wrote {path}", path=str(out_dir / d.filename)))
    manifest = out_dir / f"{code}_manifest.json"
    write_private(manifest, json.dumps(sealing_manifest(docs), ensure_ascii=False, indent=2).encode("utf-8"),
                  exclusive=False)
    click.echo("  " + _("wrote {path}", path=str(manifest)))


def _enum(kind, value: object) -> object:  # type: ignore[no-untyped-def]
    try:
        return kind(value)
    except ValueError:
        return value
