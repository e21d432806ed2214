"""What ``itembank demo`` does after building the banks: the main job end to end —
assemble parallel papers and backups for the ready level-5 bank, and write the papers,
keys and the assembly report (with its information and characteristic curves)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from itembank.i18n import _

DEMO_OUT = Path("itembank-demo-out")


def run_after_demo(settings: Any, engine: Any, summary: Any, *, seed: int, out_dir: Path = DEMO_OUT) -> None:
    from api.cli.assembly import print_run, write_run_documents
    from itembank import assembly_service as svc
    from itembank.db import transaction
    from itembank.domain import Level, Part
    from itembank.readiness import bank_readiness

    ready = [b for b in summary.banks if b.level is Level.L5 and b.occupation.code == "6-31-01-03"]
    if not ready:
        return
    bank = ready[0]
    with transaction(engine) as session:
        if not bank_readiness(session, bank=bank).ready:
            click.echo(_("{bank} does not meet its minimums; no official papers assembled", bank=bank.label))
            return
        for part, n_forms, n_backups in ((Part.THEORY, 2, 2), (Part.PRACTICAL, 1, 1)):
            stored = svc.derive_standard_blueprint(session, bank=bank, part=part, actor="demo")
            click.echo("\n" + _("== assembling {bank} {part}: {n_forms} papers and {n_backups} backup papers, "
                                "blueprint “{name}” version {version}", bank=bank.label, part=part,
                                n_forms=n_forms, n_backups=n_backups, name=stored.name,  # type: ignore[union-attr]
                                version=stored.version))  # type: ignore[union-attr]
            run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="demo",  # type: ignore[arg-type]
                                   params=svc.RunParams(n_forms=n_forms, n_backups=n_backups, seed=seed % 1000,
                                                        # 4 disjoint papers: HiGHS proves them in about 20 s
                                                        # on 2 busy cores (CBC about 75 s); the limit a guard
                                                        solver="highs", time_limit_s=180))
            papers = [svc.get_paper(session, code=c, centre_name=settings.centre_name) for c in run.paper_codes]
            print_run(run, papers)
            if papers:
                write_run_documents(session, run=run, papers=papers, out_dir=out_dir / part.value, actor="demo",
                                    centre_name=settings.centre_name)
    click.echo("\n" + _("the papers and the assembly report are in {path}/", path=str(out_dir)))
