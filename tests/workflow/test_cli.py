"""The command line end to end on a SQLite file: templates, element and item imports,
the workflow from draft to committee acceptance, QTI export/import, ledger show/query."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from api.cli import main

from .test_imports import RUBRIC, practical_row, theory_row

BANK = ["--occupation", "6-31-01-03", "--level", "5"]


def test_cli_end_to_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, ["--database-url", url, *args])
        assert result.exit_code == code, f"{args}: exit {result.exit_code}\n{result.output}"
        return result.output

    run("occupations", "add", "6-31-01-03", "电工", "--category", "technical_skill")
    run("banks", "create", "--occupation", "6-31-01-03", "--level", "5")
    run("template", "elements", str(tmp_path / "e.xlsx"))
    wb = load_workbook(tmp_path / "e.xlsx")
    for row in (["实际操作", "P", "操作技能", None, 100, None], ["实际操作", "P-01", "线路安装", "P", 100, "X"]):
        wb["认定要素细目表"].append(row)
    wb.save(tmp_path / "e.xlsx")
    assert "theory: saved as table version 1" in run("import", "elements", str(tmp_path / "e.xlsx"), *BANK)

    run("template", "xlsx", str(tmp_path / "items.xlsx"))
    wb = load_workbook(tmp_path / "items.xlsx")
    wb["理论知识"].append(theory_row("T1"))
    wb["理论知识"].append(theory_row("T2", 答案="Z", 鉴定点="NO-1"))
    wb["实际操作"].append(practical_row("P1"))
    for r in RUBRIC:
        wb["评分要点"].append(r)
    wb.save(tmp_path / "items.xlsx")

    run("experts", "register", "w1", "王一", "--actor", "m1")
    out = run("experts", "grant", "w1", "--occupation", "6-31-01-03", "--role", "writer", "--years", "3",
              "--actor", "m1", code=2)
    assert "3 year(s) in the occupation; at least 5" in out
    run("experts", "grant", "w1", "--occupation", "6-31-01-03", "--role", "writer", "--years", "6",
        "--certificate-level", "2", "--actor", "m1")

    bad = run("import", "items", str(tmp_path / "items.xlsx"), *BANK, "--actor", "m1", code=1)
    assert "理论知识 row 3, column 答案: item T2: Z not among the options ABCD" in bad
    assert "理论知识 row 3, column 鉴定点" in bad and "nothing was written" in bad
    wb["理论知识"].delete_rows(3)
    wb.save(tmp_path / "items.xlsx")
    assert "would import 2 items" in run("import", "items", str(tmp_path / "items.xlsx"), *BANK, "--dry-run")
    assert "2 new" in run("import", "items", str(tmp_path / "items.xlsx"), *BANK, "--actor", "m1")
    assert "2 unchanged" in run("import", "items", str(tmp_path / "items.xlsx"), *BANK, "--actor", "m1")

    # through the workflow to the bank
    run("experts", "register", "r1", "审一", "--title-rank", "senior", "--actor", "m1")
    run("experts", "grant", "r1", "--occupation", "6-31-01-03", "--role", "reviewer", "--years", "10",
        "--actor", "m1")
    assert "submitted" in run("workflow", "submit", "T1", *BANK, "--actor", "w1")
    run("workflow", "assign", "T1", *BANK, "--reviewer", "r1", "--actor", "m1")
    assert "approved" in run("workflow", "review", "T1", *BANK, "--decision", "approve", "--actor", "r1")
    members = [f"c{i}" for i in range(1, 6)]
    out = run("workflow", "batch", "create", *BANK, "--code", "T1", *sum((["--member", m] for m in members), []),
              "--actor", "m1")
    batch = out.split()[1].rstrip(":")
    for m in members[:4]:
        assert "waiting for" in run("workflow", "batch", "sign", batch, "--actor", m)
    assert "accepted; every member signed" in run("workflow", "batch", "sign", batch, "--actor", "c5")
    assert "c3           signed" in run("workflow", "batch", "show", batch)
    history = run("workflow", "history", "T1", *BANK)
    assert "v1 approved -> accepted" in history and "c5" in history

    # QTI out and back in (unchanged), and the ledger
    out = run("export", "qti", str(tmp_path / "pkg.zip"), *BANK, "--actor", "m1")
    assert "exported 1 items" in out
    assert "1 unchanged" in run("import", "qti", str(tmp_path / "pkg.zip"), *BANK, "--as-accepted",
                                "--batch-ref", "x", "--actor", "m1")
    shown = run("ledger", "show", "--item", "T1", *BANK)
    assert "item.import" in shown and "item.state" in shown and "batch.sign" not in shown
    lines = run("ledger", "query", "--by", "m1", "--action", "export.qti").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["details"]["n_items"] == 1
    assert "(0 entries)" in run("ledger", "show", "--since", "2999-01-01")
    assert "ledger intact" in run("ledger", "verify")
