"""Near-duplicate and cueing detection on a bank: planted pairs found, shown for one new
item, confirmed as enemies, and kept apart by assembly (every assembled paper checked)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session

import assembly as asm
from itembank import assembly_service as svc
from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import BankRef, Item, ItemType, Level, Part, VersionState
from itembank.i18n import render, use_locale
from itembank.items import NewItem, add_items
from itembank.pool import load_pool
from itembank.readiness import set_minimum_rule
from itembank.similarity import MatchKind, SimilarityConfig, build_index, item_facets, match_items, match_within
from itembank.similarity_service import bank_matches, confirm_as_enemies, paper_cueing


def _bank(session: Session) -> BankRef:
    bank = build_demo(session, seed=5, specs=(DemoBankSpec("electrician", Level.L5, n_theory=400, n_practical=20,
                                                           n_past_sessions=0, n_compromised=0),)).banks[0]
    set_minimum_rule(session, part=Part.THEORY, minimum=200, actor="admin")
    return bank


def _plant(session: Session, bank: BankRef) -> tuple[list[tuple[str, str, MatchKind]], dict[str, Item]]:
    """Two planted pairs: a true/false item that states a single-choice item's answer, and a
    near copy of another single-choice item."""
    pool = load_pool(session, bank=bank, part=Part.THEORY)
    single = [it for it in pool if it.item_type is ItemType.SINGLE_CHOICE]
    tf = next(it for it in pool if it.item_type is ItemType.TRUE_FALSE)
    x = next(it for it in single if any(f.place in ("answer", "key") and len(f.text) >= 12
                                        for f in item_facets(it.content)))
    answer = next(f.text for f in item_facets(x.content) if f.place in ("answer", "key") and len(f.text) >= 12)
    y = next(it for it in single if it.code != x.code and len(it.content.stem) >= 15)
    planted_tf = NewItem(code=f"{tf.code}P", content=dataclasses.replace(tf.content, stem=answer, key=("T",)))
    stem = y.content.stem
    near = NewItem(code=f"{y.code}P", content=dataclasses.replace(y.content, stem=stem[:-2] + "是" + stem[-2:]))
    add_items(session, bank=bank, items=[planted_tf, near], actor="writer", state=VersionState.ACCEPTED)
    items = {it.code: it for it in load_pool(session, bank=bank, part=Part.THEORY)}
    return ([(x.code, planted_tf.code, MatchKind.STATEMENT_IS_KEY), (y.code, near.code, MatchKind.NEAR_DUPLICATE)],
            items)


def test_planted_pairs_are_found_confirmed_and_kept_apart(session: Session) -> None:
    bank = _bank(session)
    # the demo bank's own pairs are confirmed already: nothing is left to confirm
    assert bank_matches(session, bank=bank, unconfirmed_only=True) == []
    planted, items = _plant(session, bank)
    found = bank_matches(session, bank=bank, unconfirmed_only=True)
    by_pair = {m.pair: m for m in found}
    for a, b, kind in planted:
        pair = tuple(sorted((a, b)))
        assert pair in by_pair, (pair, [m.pair for m in found])
        assert by_pair[pair].kind is kind
        # the paper check sees the pair when both are in one paper
        assert [m.pair for m in paper_cueing([items[a], items[b]])] == [pair]
    planted_codes = {c for a, b, _ in planted for c in (a, b)}
    assert all(set(m.pair) & planted_codes for m in found)  # nothing else turns up

    assert confirm_as_enemies(session, bank=bank, matches=found, actor="manager") == len(found)
    assert bank_matches(session, bank=bank, unconfirmed_only=True) == []
    rows, _ = svc.element_rows(session, bank=bank, part=Part.THEORY)
    bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 30, 30.0), asm.TypeRule("true_false", 10, 10.0)],
                              name="wide", level=5, tolerance=0.5, min_tolerance=3.0)
    stored = svc.save_blueprint(session, bank=bank, blueprint=bp, actor="manager")
    run = svc.run_assembly(session, bank=bank, blueprint=stored, actor="manager",
                           params=svc.RunParams(n_forms=2, n_backups=1, seed=1, time_limit_s=120, solver="highs"))
    assert len(run.paper_codes) == 3, (run.outcome, run.message)
    for code in run.paper_codes:
        view = svc.get_paper(session, code=code)
        codes = {it.code for it in view.paper.items}
        assert view.checks["cueing"] == []
        assert paper_cueing(view.paper.items) == []
        for m in found:
            assert not set(m.pair) <= codes


def test_one_new_item_is_matched_against_the_bank_as_it_is_written(session: Session) -> None:
    bank = _bank(session)
    pool = load_pool(session, bank=bank, part=Part.THEORY)
    index = build_index([(it.code, it.content) for it in pool])
    single = next(it for it in pool if it.item_type is ItemType.SINGLE_CHOICE and len(it.content.stem) >= 15)
    draft = dataclasses.replace(single.content, stem=single.content.stem + "（　）")
    hits = match_items(index, draft, code="NEW-1")
    assert single.code in {c for m in hits for c in m.pair}
    # the item itself, excluded (a revision), matches nothing else of the bank
    assert match_items(index, single.content, code=single.code, exclude=[single.code]) == []
    with pytest.raises(ValueError):
        SimilarityConfig(near_duplicate=0.0)


def test_a_paper_of_distinct_items_passes_and_a_copy_does_not(session: Session) -> None:
    bank = _bank(session)
    pool = [it for it in load_pool(session, bank=bank, part=Part.THEORY) if not it.enemies][:60]
    assert match_within(tuple((it.code, it.content) for it in pool)) == []
    copy = dataclasses.replace(pool[0], code=pool[0].code + "C")
    assert [m.kind for m in paper_cueing([*pool, copy])] == [MatchKind.NEAR_DUPLICATE]


def _wide_blueprint(session: Session, bank: BankRef, **changes: object) -> svc.StoredBlueprint:
    rows, _ = svc.element_rows(session, bank=bank, part=Part.THEORY)
    bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 30, 30.0), asm.TypeRule("true_false", 10, 10.0)],
                              name="wide", level=5, tolerance=0.5, min_tolerance=3.0)
    return svc.save_blueprint(session, bank=bank, blueprint=bp.with_changes(**changes), actor="manager")


def test_unconfirmed_pairs_are_kept_apart_by_assembly(session: Session) -> None:
    """Planted pairs nobody confirmed: every paper is still free of them. Asked to include
    both items of a pair in one paper, assembly finds no paper (the pair is kept apart); asked
    to include one, the other stays out."""
    bank = _bank(session)
    planted, items = _plant(session, bank)
    pairs = [tuple(sorted((a, b))) for a, b, _ in planted]
    assert {m.pair for m in bank_matches(session, bank=bank, unconfirmed_only=True)} >= set(pairs)
    prepared_pool = svc.load_bank_pool(session, bank=bank, part=Part.THEORY)
    assert set(pairs) <= set(prepared_pool.kept_apart)

    for a, b in pairs:
        both = _wide_blueprint(session, bank, include_items=(a, b))
        run = svc.run_assembly(session, bank=bank, blueprint=both, actor="manager",
                               params=svc.RunParams(n_forms=1, n_backups=0, seed=2, time_limit_s=60, solver="highs"))
        assert run.paper_codes == (), (a, b, run.paper_codes)
        assert run.outcome == "infeasible"
        with use_locale("zh_CN"):
            why = render(run.message)
        assert a in why and b in why and "互斥" in why  # the diagnosis names both items
        one = _wide_blueprint(session, bank, include_items=(a,))  # every paper includes a
        run = svc.run_assembly(session, bank=bank, blueprint=one, actor="manager",
                               params=svc.RunParams(n_forms=1, n_backups=0, seed=2, time_limit_s=60, solver="highs"))
        assert len(run.paper_codes) == 1, run.message
        for code in run.paper_codes:
            view = svc.get_paper(session, code=code)
            codes = {it.code for it in view.paper.items}
            assert not {a, b} <= codes
            assert view.checks["cueing"] == []
        # the report says which pairs the check kept apart
        notes = " ".join(render(n) for n in run.report["notes"])
        assert a in notes and b in notes and [a, b] in run.report["kept_apart"]


def test_a_paper_holding_a_cueing_pair_is_refused_with_both_items_named(session: Session) -> None:
    """The check before a paper is recorded: a solve that put a cueing pair on one paper (here
    a pool built without the pairs kept apart) gives no papers, and the run's message names the
    paper, both items and their texts."""
    bank = _bank(session)
    planted, items = _plant(session, bank)
    a, b, _kind = planted[0]
    stored = _wide_blueprint(session, bank, include_items=(a, b))
    view = svc.request_run(session, bank=bank, blueprint=stored, actor="manager",
                           params=svc.RunParams(n_forms=1, n_backups=0, seed=2, time_limit_s=60, solver="highs"))
    prepared = svc.prepare_run(session, run_id=view.id)
    blind = svc.build_pool(list(prepared.bank_pool.items.values()))  # the pairs not kept apart
    assert blind.kept_apart == ()
    result = svc.solve_run(dataclasses.replace(prepared, bank_pool=blind))
    assert result.forms and {a, b} <= set(result.forms[0])
    run = svc.record_run_result(session, prepared=prepared, result=result)
    assert run.outcome == "refused" and run.paper_codes == ()
    with use_locale("zh_CN"):
        text = render(run.message)
        assert "未予接受" in text and a in text and b in text and "试卷A" in text
        assert items[b].content.stem[:10] in text or items[a].content.stem[:10] in text
        assert "给出了另一题的答案" in text or "两题雷同" in text or "道出了另一题的答案" in text
    assert svc.list_papers(session, bank=bank)[1] == 0


def test_cli_report_lists_the_pairs_left_and_confirm_records_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``itembank similarity report`` exits 1 while pairs are left to confirm, naming both items
    and their texts; ``confirm --pair`` records the pair (ledgered); then nothing is left."""
    from click.testing import CliRunner

    from api.cli import main
    from itembank.db import make_engine, transaction, upgrade
    from itembank.ledger import query_ledger

    url = f"sqlite:///{tmp_path / 'sim.db'}"
    engine = make_engine(url=url)
    upgrade(engine)
    with transaction(engine) as s:
        bank = _bank(s)
        planted, items = _plant(s, bank)
    engine.dispose()
    run = CliRunner()
    args = ["--database-url", url, "--lang", "zh_CN", "similarity"]
    bank_args = ["--occupation", bank.occupation.code, "--level", "5"]
    r = run.invoke(main, [*args, "report", *bank_args, "--actor", "manager"])
    assert r.exit_code == 1, r.output
    assert "其中 2 对尚未确认为互斥试题" in r.output
    for a, b, _kind in planted:
        pair = sorted((a, b))
        assert f"{pair[0]} 与 {pair[1]}" in r.output
        assert items[b].content.stem in r.output  # the texts side by side
    a, b, _ = planted[0]
    r = run.invoke(main, [*args, "confirm", *bank_args, "--pair", f"{a},{b}", "--actor", "manager"])
    assert r.exit_code == 0 and "新增 1 对" in r.output, r.output
    r = run.invoke(main, [*args, "confirm", *bank_args, "--pair", f"{a}", "--actor", "manager"])
    assert r.exit_code == 2 and "两个试题编号" in r.output
    r = run.invoke(main, [*args, "confirm", *bank_args, "--all-found", "--actor", "manager"])
    assert r.exit_code == 0 and "已确认 1 对" in r.output, r.output
    r = run.invoke(main, [*args, "report", *bank_args, "--actor", "manager", "--json"])
    assert r.exit_code == 0 and '"unconfirmed": 0' in r.output
    engine = make_engine(url=url)
    with transaction(engine) as s:
        assert len(query_ledger(s, action="similarity.report")) == 2
        assert len(query_ledger(s, action="items.enemies")) >= 2
    engine.dispose()
