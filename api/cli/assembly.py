"""``itembank blueprint ...``, ``itembank assemble``, ``itembank papers ...``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from api.cli.common import cli_bank, fail, open_engine
from api.cli.common import with_bank_part as with_bank
from itembank.config import Settings
from itembank.domain import Part
from itembank.i18n import render


@click.group()
def blueprint() -> None:
    """Blueprints (组卷方案): stored and versioned per bank and part."""


@blueprint.command("derive")
@with_bank
@click.option("--name", default=None, help="Default: the level's standard name.")
@click.option("--max-overlap", type=int, default=0, show_default=True, help="Items two papers may share.")
@click.option("--objective", type=click.Choice(["none", "maximin", "target_information", "target_tcc"]),
              default=None, help="Default: maximin information for levels 5-3 theory.")
@click.option("--actor", default="cli", show_default=True)
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
        fail(getattr(e, "message", str(e)))
    bp = stored.blueprint  # type: ignore[union-attr]
    click.echo(f"blueprint {stored.name!r} v{stored.version}: {bp.n_items} items, "  # type: ignore[union-attr]
               f"{', '.join(f'{t.item_type} x{t.count}' for t in bp.item_types)}; {len(bp.elements)} coverage rows")


@blueprint.command("list")
@with_bank
@click.pass_obj
def blueprint_list(settings: Settings, occupation_code: str, work_type: str | None, level: str, part: str) -> None:
    from itembank import assembly_service as svc
    from itembank.db import transaction

    with transaction(open_engine(settings)) as session:
        for b in svc.list_blueprints(session, bank=cli_bank(session, occupation_code, level, work_type), part=Part(part)):
            click.echo(f"#{b.id:<4} {b.part.value:<9} {b.name!r} v{b.version}  {b.blueprint.n_items} items  "
                       f"{b.created_at:%Y-%m-%d %H:%M} {b.created_by}  {b.note}")


@blueprint.command("show")
@with_bank
@click.option("--name", default=None)
@click.option("--version", type=int, default=None)
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
        fail(e.message)
    click.echo(json.dumps(asm.blueprint_to_dict(b.blueprint), ensure_ascii=False, indent=2))


def print_run(run, papers) -> None:  # type: ignore[no-untyped-def]
    r = run.report.get("report", {})
    gap = r.get("rel_gap")
    click.echo(f"run #{run.id}: {run.outcome} — {run.message}")
    click.echo(f"  solver {r.get('solver')} status {r.get('status')} objective {r.get('objective')} "
               f"bound {r.get('best_bound')} gap {'-' if gap is None else f'{gap:.2%}'} time {r.get('time_s', 0):.1f} s "
               f"model {r.get('n_variables')} vars / {r.get('n_constraints')} rows")
    for line in run.report.get("diagnosis", []):
        click.echo(f"  diagnosis: {render(line)}")
    for rel in run.report.get("relaxations", []):
        click.echo(f"  relax: {render(rel['message'])}")
    for view in papers:
        rows = view.checks.get("rows", [])
        bad = [x for x in rows if x.get("ok") is False]
        click.echo(f"  {view.paper.code} {view.paper.form_label}: {len(view.paper.items)} items, "
                   f"{view.paper.total_points:g} points, {len(rows)} blueprint rows checked, {len(bad)} off target")


@click.command()
@with_bank
@click.option("--blueprint", "blueprint_name", default=None, help="Stored blueprint name (default: the latest; "
              "derived from the element table if the bank has none).")
@click.option("--version", "blueprint_version", type=int, default=None)
@click.option("--forms", "n_forms", type=int, default=2, show_default=True)
@click.option("--backups", "n_backups", type=int, default=1, show_default=True)
@click.option("--solver", type=click.Choice(["cbc", "highs"]), default="cbc", show_default=True)
@click.option("--time-limit", "time_limit_s", type=float, default=60.0, show_default=True)
@click.option("--gap", "rel_gap", type=float, default=0.01, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--practice", is_flag=True, help="Allow a bank below its minimums (practice papers, ledgered).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the papers, keys and the assembly report here.")
@click.option("--actor", default="cli", show_default=True)
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
        fail(getattr(e, "message", str(e)))
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
        click.echo(f"  wrote {path}")
    return written


@click.group()
def papers() -> None:
    """Assembled papers: list, show, re-check, export."""


@papers.command("list")
@with_bank
@click.option("--status", default=None)
@click.pass_obj
def papers_list(settings: Settings, occupation_code: str, work_type: str | None, level: str, part: str,
                status: str | None) -> None:
    from itembank import assembly_service as svc
    from itembank.db import transaction

    with transaction(open_engine(settings)) as session:
        rows, total = svc.list_papers(session, bank=cli_bank(session, occupation_code, level, work_type),
                                      part=Part(part), status=status, limit=500)
    click.echo(f"{total} paper(s)")
    for r in rows:
        click.echo(f"  {r['code']:<34} {r['form_label']:<4} {r['kind']:<7} {r['status']:<9} {r['n_items']:>4} items"
                   f"  run #{r['run_id']}{'  practice' if r['practice'] else ''}")


@papers.command("recheck")
@click.argument("code")
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
        fail(e.message)
    for paper in report.papers:
        for row in paper.rows:
            mark = "ok " if row.ok else ("-- " if row.ok is None else "NO ")
            click.echo(f"  [{mark}] {row.label}: {row.achieved:g} (target {row.lo}..{row.hi})")
    click.echo("paper meets its blueprint" if report.ok else "VIOLATIONS:\n  " + "\n  ".join(report.violations))
    sys.exit(0 if report.ok else 1)


@papers.command("export")
@click.argument("code")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True)
@click.option("--answer-sheet", is_flag=True)
@click.option("--pdf", is_flag=True, help="A printable PDF beside each Word document (LibreOffice).")
@click.option("--actor", default="cli", show_default=True)
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
        fail(e.message)
    from itembank.keys import write_private

    for d in docs:  # 0600, new directories 0700: papers are confidential
        write_private(out_dir / d.filename, d.content, exclusive=False)
        click.echo(f"  wrote {out_dir / d.filename}")
    manifest = out_dir / f"{code}_manifest.json"
    write_private(manifest, json.dumps(sealing_manifest(docs), ensure_ascii=False, indent=2).encode("utf-8"),
                  exclusive=False)
    click.echo(f"  wrote {manifest}")
