"""The command line end to end on a SQLite file: templates, element and item imports,
the workflow from draft to committee acceptance, QTI export/import, ledger show/query."""

from __future__ import annotations

import json
import re
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
    assert "理论知识：已保存为细目表第 1 版" in run("import", "elements", str(tmp_path / "e.xlsx"), *BANK)

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
    assert "从事本职业 3 年，须 5 年以上" in out and out.startswith("错误：")
    run("experts", "grant", "w1", "--occupation", "6-31-01-03", "--role", "writer", "--years", "6",
        "--certificate-level", "2", "--actor", "m1")

    bad = run("import", "items", str(tmp_path / "items.xlsx"), *BANK, "--actor", "m1", code=1)
    assert "理论知识第 3 行“答案”列：答案 Z 不在选项 ABCD 中" in bad
    assert "理论知识第 3 行“鉴定点”列" in bad and "未写入任何数据" in bad
    wb["理论知识"].delete_rows(3)
    wb.save(tmp_path / "items.xlsx")
    assert "未写入；将作为草稿导入 2 道试题" in run("import", "items", str(tmp_path / "items.xlsx"), *BANK, "--dry-run")
    assert "新增 2 道" in run("import", "items", str(tmp_path / "items.xlsx"), *BANK, "--actor", "m1")
    assert "未变 2 道" in run("import", "items", str(tmp_path / "items.xlsx"), *BANK, "--actor", "m1")

    # through the workflow to the bank
    run("experts", "register", "r1", "审一", "--title-rank", "senior", "--actor", "m1")
    run("experts", "grant", "r1", "--occupation", "6-31-01-03", "--role", "reviewer", "--years", "10",
        "--actor", "m1")
    assert "T1 v1：已提交" in run("workflow", "submit", "T1", *BANK, "--actor", "w1")
    run("workflow", "assign", "T1", *BANK, "--reviewer", "r1", "--actor", "m1")
    assert "T1 v1：审核通过" in run("workflow", "review", "T1", *BANK, "--decision", "approve", "--actor", "r1")
    members = [f"c{i}" for i in range(1, 6)]
    out = run("workflow", "batch", "create", *BANK, "--code", "T1", *sum((["--member", m] for m in members), []),
              "--actor", "m1")
    batch = re.search(r"验收批次 (\S+)：共 1 道试题", out).group(1)
    for m in members[:4]:
        assert "待 " in run("workflow", "batch", "sign", batch, "--actor", m)
    assert "已验收；全体委员已签署" in run("workflow", "batch", "sign", batch, "--actor", "c5")
    assert re.search(r"c3 +\d{4}年\d+月\d+日 \d\d:\d\d 已签署", run("workflow", "batch", "show", batch))
    history = run("workflow", "history", "T1", *BANK)
    assert "将试题 T1 第 1 版由“审核通过”改为“已验收”" in history and "审一（r1） 审核试题 T1 第 1 版：审核通过；无意见" in history

    # QTI out and back in (unchanged), and the ledger
    out = run("export", "qti", str(tmp_path / "pkg.zip"), *BANK, "--actor", "m1")
    assert "已导出 1 道试题" in out
    assert "未变 1 道" in run("import", "qti", str(tmp_path / "pkg.zip"), *BANK, "--as-accepted",
                                "--batch-ref", "x", "--actor", "m1")
    shown = run("ledger", "show", "--item", "T1", *BANK)
    assert "m1 从 items.xlsx 导入试题 T1 第 1 版" in shown and "由“草稿”改为“已提交”" in shown and " 签署了" not in shown
    raw = run("ledger", "show", "--item", "T1", *BANK, "--raw")
    assert '"action": "item.state"' in raw and '"action": "batch.sign"' not in raw
    lines = run("ledger", "query", "--by", "m1", "--action", "export.qti").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["details"]["n_items"] == 1
    assert "（共 0 条）" in run("ledger", "show", "--since", "2999-01-01")
    assert "条记录未发现问题" in run("ledger", "verify")
    english = run("--lang", "en", "ledger", "show", "--item", "T1", *BANK)
    assert "m1 imported item T1 version 1 from items.xlsx" in english and "entries)" in english


def test_ledger_dates_are_the_centres_local_time() -> None:
    """An operator writes local (Asia/Shanghai) times; the ledger stores UTC."""
    from datetime import datetime

    from api.cli.io import _parse_when

    assert _parse_when("2026-11-28T08:30") == datetime(2026, 11, 28, 0, 30)
    assert _parse_when("2026-11-28") == datetime(2026, 11, 27, 16, 0)
    assert _parse_when("2026-11-28T08:30+00:00") == datetime(2026, 11, 28, 8, 30)
