"""``itembank analyse ...`` on a committed copy of the simulated world (the CLI commits)."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from api.cli import main
from itembank.db import make_engine, upgrade
from tests.words import english_words

from .conftest import World, build_world


@pytest.fixture()
def cli_world(world_engine: tuple[Engine, str], world: World, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, World]]:
    """(database URL, world) of a private copy the CLI may commit to."""
    eng, where = world_engine
    if eng.dialect.name == "sqlite":
        src = sqlite3.connect(where.removeprefix("sqlite:///"))
        dst = sqlite3.connect(tmp_path / "cli.db")
        src.backup(dst)
        src.close()
        dst.close()
        # the ledger key lives beside the database file (itembank.keys): the copy needs it too
        import shutil

        from itembank.keys import LEDGER_KEY_FILE, WITNESS_FILE

        for name in (LEDGER_KEY_FILE, WITNESS_FILE):
            beside = Path(where.removeprefix("sqlite:///")).parent / name
            if beside.exists():
                shutil.copy2(beside, tmp_path / name)
        yield f"sqlite:///{tmp_path / 'cli.db'}", world
        return
    url = os.environ["ITEMBANK_TEST_DATABASE_URL"]
    schema = f"cli_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url=url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    own = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(own)
    with Session(own) as s, s.begin():
        copy = build_world(s, schema)
    own.dispose()
    # the CLI connects with the plain URL; libpq's PGOPTIONS puts it in the private schema
    monkeypatch.setenv("PGOPTIONS", f"-csearch_path={schema}")
    yield url, copy
    monkeypatch.delenv("PGOPTIONS")
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_cli_analyse_history_review_show(cli_world: tuple[str, World]) -> None:
    url, world = cli_world
    run = CliRunner()
    occ = world.bank.occupation.code

    r = run.invoke(main, ["--lang", "en", "--database-url", url, "analyse", "--session", world.s1, "--actor", "题库管理员"])
    assert r.exit_code == 0, r.output
    out = r.output
    for words in (f"== Analysis no. ", f"exam sessions {world.s1}", "760 candidates", "2PL for items scored 0/1",
                  "GPCM for items scored by rubric", "marginal maximum likelihood (MML)", "D = 1",
                  "scale: set by this sample", "converged after", "EM iterations",
                  "standard errors: observed information", "S1-A", "S1-C", "alpha", "items needing review",
                  "suspected miskey", f"{world.miskeyed.code} v1", "check the key", f"{world.easy.code} v1",
                  "too few responses for IRT (10)"):
        assert words in out, words
    cal_id = int(out.split("== Analysis no. ")[1].split(":")[0])

    r = run.invoke(main, ["--lang", "en", "--database-url", url, "analyse", "--session", world.s2, "--D", "1.702", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["calibration"]["scale"] == "bank" and data["calibration"]["n_anchors"] == 15
    assert data["calibration"]["D"] == 1.702 and all(i["D"] == 1.702 for i in data["items"] if i["D"])
    assert data["calibration"]["session_codes"] == [world.s2]
    assert {i["code"] for i in data["items"] if i["irt_role"] == "anchor"} == set(world.anchors_in_s2)

    anchor = world.anchors_in_s2[0]
    r = run.invoke(main, ["--database-url", url, "analyse", "history", "--occupation", occ, "--level", "5",
                          "--item", anchor])
    assert r.exit_code == 0, r.output
    assert f"{anchor}：共 2 次分析" in r.output and "（现行）" in r.output and "IRT（锚题，2PL）" in r.output
    assert english_words(r.output, {"IRT", "PL"}) == [], r.output
    r = run.invoke(main, ["--database-url", url, "analyse", "history", "--occupation", occ, "--level", "5",
                          "--item", "NOPE", "--json"])
    assert r.exit_code == 2 and "中没有试题 NOPE" in r.output

    r = run.invoke(main, ["--lang", "en", "--database-url", url, "analyse", "review", "--occupation", occ, "--level", "5"])
    assert r.exit_code == 0, r.output
    assert f"{world.miskeyed.code} version 1" in r.output and "negative" in r.output
    # in Chinese by default (the centre's staff): the same review, from the catalog
    r = run.invoke(main, ["--database-url", url, "analyse", "review", "--occupation", occ, "--level", "5"])
    assert r.exit_code == 0 and "疑似答案错误" in r.output, r.output
    assert english_words(r.output) == [], r.output

    r = run.invoke(main, ["--lang", "en", "--database-url", url, "analyse", "show", str(cal_id)])
    assert r.exit_code == 0 and f"== Analysis no. {cal_id}:" in r.output
    r = run.invoke(main, ["--database-url", url, "analyse", "show", str(cal_id)])
    assert r.exit_code == 0 and f"== 第 {cal_id} 号分析：" in r.output and "模型：0/1 计分试题用 2PL" in r.output
    assert english_words(r.output, {"GPCM"}) == [], r.output

    r = run.invoke(main, ["--database-url", url, "analyse", "--session", "NOPE"])
    assert r.exit_code == 2 and "未保存任何结果：没有考试场次 NOPE" in r.output
    r = run.invoke(main, ["--database-url", url, "analyse"])
    assert r.exit_code == 2 and "请给出 --session" in r.output
