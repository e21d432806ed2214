from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy.orm import Session

from itembank.demo import DEFAULT_SPECS, DemoBankSpec, build_demo
from itembank.domain import ItemType, Level, Part
from itembank.items import content_hash
from itembank.ledger import verify_ledger
from itembank.pool import load_pool
from itembank.readiness import bank_readiness

SMALL = (
    DemoBankSpec("electrician", Level.L5, n_theory=300, n_practical=20, n_past_sessions=1, n_compromised=2),
    DemoBankSpec("electrician", Level.L2, n_theory=200, n_practical=8, n_defence=4, subjective_share=0.25,
                 n_past_sessions=0, n_compromised=0),
)


def test_demo_is_deterministic(engine) -> None:
    from sqlalchemy.orm import sessionmaker

    hashes = []
    for _ in range(2):
        with engine.connect() as conn:
            trans = conn.begin()
            session = sessionmaker()(bind=conn, join_transaction_mode="create_savepoint")
            summary = build_demo(session, seed=7, specs=SMALL)
            pool = load_pool(session, bank=summary.banks[0])
            hashes.append([(it.code, content_hash(it.content), it.irt, it.usage) for it in pool])
            session.close()
            trans.rollback()
    assert hashes[0] == hashes[1]
    assert len(hashes[0]) == 320


def test_small_demo_content_is_plausible(session: Session) -> None:
    summary = build_demo(session, seed=3, specs=SMALL)
    l5, l2 = summary.banks
    pool = load_pool(session, bank=l5, part=Part.THEORY)
    assert len({it.content.stem + "".join(o.text for o in it.content.options) for it in pool}) == len(pool)
    singles = [it for it in pool if it.item_type is ItemType.SINGLE_CHOICE]
    assert all(len(it.content.options) == 4 and it.content.key[0] in "ABCD" for it in singles)
    # a stem starts with a Chinese character, ASCII, or Chinese punctuation (“干一行…”, 《劳动法》)
    assert all("\u4e00" <= it.content.stem[0] <= "\u9fff" or it.content.stem[0].isascii()
               or it.content.stem[0] in "“‘《（【" for it in pool)
    assert sum(it.usage.compromised for it in pool) == 2
    assert sum(1 for it in pool if it.set_code) % 3 == 0 and any(it.set_code for it in pool)
    assert any(it.enemies for it in pool)
    l2_types = {it.item_type for it in load_pool(session, bank=l2, part=Part.THEORY)}
    assert ItemType.SHORT_ANSWER in l2_types and ItemType.SINGLE_CHOICE in l2_types
    assert [it.item_type for it in load_pool(session, bank=l2, part=Part.DEFENCE)] == [ItemType.DEFENCE_TOPIC] * 4
    assert verify_ledger(session).ok


def test_default_demo_has_a_ready_bank_and_a_short_one(session: Session) -> None:
    summary = build_demo(session)
    verdicts = {(b.occupation.code, int(b.level)): bank_readiness(session, bank=b) for b in summary.banks}
    assert verdicts[("6-31-01-03", 5)].ready
    assert verdicts[("6-31-01-03", 2)].ready, verdicts[("6-31-01-03", 2)].shortfalls
    short = verdicts[("4-04-05-01", 4)]
    assert not short.ready and len(short.shortfalls) == 2
    assert summary.n_items == sum(s.n_theory + s.n_practical + s.n_defence for s in DEFAULT_SPECS)


def test_cli_demo_builds_the_sqlite_file_and_prints_readiness(tmp_path: Path) -> None:
    from api.cli import main

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(main, ["--database-url", url, "demo"])
    assert result.exit_code == 0, result.output
    assert "五级/初级工（技术技能型）：达标" in result.output
    assert "未达标：有 " in result.output
    again = CliRunner().invoke(main, ["--database-url", url, "demo"])
    assert again.exit_code == 2 and "中已有数据" in again.output
    ready = CliRunner().invoke(main, ["--database-url", url, "readiness", "--occupation", "6-31-01-03",
                                      "--level", "5", "--json"])
    assert ready.exit_code == 0, ready.output
    assert '"ready": true' in ready.output
    not_ready = CliRunner().invoke(main, ["--database-url", url, "readiness", "--occupation", "4-04-05-01"])
    assert not_ready.exit_code == 1
    verify = CliRunner().invoke(main, ["--database-url", url, "ledger", "verify"])
    assert verify.exit_code == 0 and "条记录未发现问题" in verify.output
