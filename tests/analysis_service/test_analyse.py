"""``analyse_session`` end to end on the simulated world of conftest.py: recovery of known
parameters, statistics on the versions and in the history, anchoring of a later session on
the first calibration, planted bad items flagged by code, and failures that change nothing."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from analysis import CttThresholds
from itembank import i18n
from itembank.analysis_service import (
    FLAG_DEGENERATE,
    FLAG_DISTRACTOR,
    FLAG_FEW_RESPONSES,
    FLAG_LABELS,
    FLAG_LOW_CORRECTED_R,
    FLAG_MISFIT,
    FLAG_MISKEY,
    FLAG_NEGATIVE_DISCRIMINATION,
    FLAG_TOO_EASY,
    ReviewRules,
    analyse_session,
    calibration_history,
    get_calibration,
    items_needing_review,
)
from itembank.domain import IrtModel, ItemContent, ItemType, Level, Option, Part, VersionState
from itembank.errors import NotFoundError, ValidationError
from itembank.items import add_item
from itembank.ledger import query_ledger, verify_ledger
from itembank.occupations import create_bank
from itembank.orm import ItemVersionRecord, LedgerEntryRecord
from itembank.orm_analysis import CalibrationRecord, ItemStatisticsRecord
from itembank.orm_lifecycle import ApplicationRecord, PartResultRecord, ResponseRecord
from itembank.pool import load_pool

from .conftest import N_A, N_B, N_C, N_D, World, english
from .simulation import rmse


def _pool(db: Session, world: World) -> dict:
    return {it.code: it for it in load_pool(db, bank=world.bank, part=Part.THEORY)}


def _recovered(rep, world: World, codes=None):  # type: ignore[no-untyped-def]
    """(estimated, true) a and b of the 0/1 items estimated in ``rep`` (planted items excluded)."""
    planted = {world.miskeyed.code, world.easy.code}
    est = [it for it in rep.items if it.irt_role == "estimated" and it.model == "2pl"
           and it.code not in planted and (codes is None or it.code in codes)]
    return (np.array([it.a for it in est]), np.array([world.truth[it.code].a for it in est]),
            np.array([it.b for it in est]), np.array([world.truth[it.code].b for it in est]))


def test_first_analysis_recovers_parameters_and_stores_them(db: Session, world: World) -> None:
    before = _pool(db, world)
    rep = analyse_session(db, session_code=world.s1, actor="analyst")
    cal = rep.calibration

    # -- what was analysed, how, and how it converged ------------------------------------------
    assert (cal.model, cal.polytomous_model, cal.D, cal.part) == ("2pl", "gpcm", 1.0, Part.THEORY)
    assert "D a (theta - b)" in cal.parameterisation
    assert cal.session_codes == (world.s1,) and cal.paper_codes == ("S1-A", "S1-B", "S1-C")
    assert cal.n_persons == N_A + N_B + N_C
    assert cal.n_responses == 30 * (N_A + N_B) + 15 * N_C
    assert cal.n_items == 60 and cal.n_items_irt == 50  # 10 backup-only items: CTT only
    assert cal.scale == "sample" and cal.n_anchors == 0  # demo parameters are not a calibration
    assert cal.population_mean == 0.0 and cal.population_sd == 1.0
    assert cal.method == "mml" and cal.status == "converged"  # not a Rasch-scale bank: 2PL by MML
    assert cal.convergence is not None and cal.convergence.converged
    assert cal.convergence.se_method == "observed" and 0 < cal.convergence.max_change < 1e-4
    assert cal.quadrature["n_nodes"] == 41 and cal.quadrature["rule"] == "rectangular"
    assert any("scale is set by this sample" in english(n) for n in cal.notes)

    # -- per paper: mean, SD, alpha, SEM ----------------------------------------------------------
    forms = {f.paper_code: f for f in cal.forms}
    assert [forms[p].n_persons for p in ("S1-A", "S1-B", "S1-C")] == [N_A, N_B, N_C]
    for f in cal.forms:
        assert f.alpha is not None and f.alpha > 0.6
        assert f.sem == pytest.approx(f.sd * math.sqrt(1 - f.alpha))
        assert f.std_alpha is not None and f.g6 is not None and f.g6 >= f.alpha - 0.1
    assert forms["S1-A"].max_possible == sum(ti.item.points for ti in world.papers["S1-A"].items)

    # -- recovery (350-760 responses per item, 30-item papers) -----------------------------------
    a, ta, b, tb = _recovered(rep, world)
    assert len(a) >= 40
    assert rmse(a, ta) < 0.25 and rmse(b, tb) < 0.28, (rmse(a, ta), rmse(b, tb))
    assert np.corrcoef(b, tb)[0, 1] > 0.97
    for code in ("SA-1", "SA-2"):  # rubric-scored: GPCM on the 0..5 points
        it = rep.item(code)
        assert it.model == "gpcm" and it.score_categories == (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
        assert rmse(it.thresholds, world.truth[code].thresholds) < 0.35
        assert abs(it.a - 1.0) < 0.25 and all(0 < se < 0.3 for se in it.se_thresholds)

    # -- too few responses: classical statistics only, said so ------------------------------------
    for code in world.backup_only:
        it = rep.item(code)
        assert it.irt_role == "none" and it.n == N_C and it.a is None
        assert FLAG_FEW_RESPONSES in it.flags
        assert any(f"{code} v1: {N_C} responses, fewer than 100" in english(r) for r in it.reasons)
    assert {it.code for it in rep.ctt_only} == set(world.backup_only)
    assert any("10 item(s) have fewer than 100 responses" in english(n) for n in cal.notes)

    # -- the statistics landed on the versions (what load_pool and assembly read) ----------------
    pool = _pool(db, world)
    for it in rep.items:
        item = pool[it.code]
        assert item.classical is not None and item.classical.n == it.n
        assert item.classical.p_value == pytest.approx(it.p_value)
        assert item.classical.discrimination == pytest.approx(it.corrected_r)
        if it.irt_role == "estimated" and not {FLAG_DEGENERATE, FLAG_MISKEY} & set(it.flags):
            irt = item.irt
            assert irt is not None and irt.calibration_id == cal.id
            assert irt.model is IrtModel(it.model) and irt.D == 1.0
            assert (irt.a, irt.b, irt.se_b) == pytest.approx((it.a, it.b, it.se_b))
            if it.model == "gpcm":
                assert irt.thresholds == pytest.approx(it.thresholds)
        else:  # no IRT here: whatever the version carried stays
            assert item.irt == before[it.code].irt

    # -- history, read-back, ledger ---------------------------------------------------------------
    hist = calibration_history(db, bank=world.bank, code=world.anchors_in_s2[0])
    assert [(h.calibration_id, h.current, h.stats.irt_role) for h in hist] == [(cal.id, True, "estimated")]
    (bad,) = calibration_history(db, bank=world.bank, code=world.miskeyed.code)
    assert not bad.current  # suspected miskey: in the history, not on the version
    again = get_calibration(db, cal.id)
    assert again.calibration == cal
    assert {it.code: (it.a, it.p_value, it.flags) for it in again.items} == {
        it.code: (it.a, it.p_value, it.flags) for it in rep.items}
    (entry,) = query_ledger(db, object_type="calibration", object_id=cal.id)
    assert entry.action == "analysis.calibrate" and entry.actor == "analyst"
    assert entry.details["sessions"] == [world.s1] and entry.details["n_persons"] == cal.n_persons
    assert verify_ledger(db).ok
    assert set(rep.timings) == {"load", "ctt", "calibration", "fit", "write", "total"}
    assert rep.to_dict()["calibration"]["id"] == cal.id


def test_planted_bad_items_are_flagged_by_code(db: Session, world: World) -> None:
    rep = analyse_session(db, session_code=world.s1, actor="analyst")
    bad = rep.item(world.miskeyed.code)
    # the key is really a distractor: able candidates choose the true answer
    assert {FLAG_NEGATIVE_DISCRIMINATION, FLAG_LOW_CORRECTED_R, FLAG_DISTRACTOR} <= set(bad.flags)
    assert bad.discrimination_index < 0 and bad.corrected_r < 0
    text = "\n".join(english(r) for r in bad.reasons)
    assert f"{world.miskeyed.code} v1: discrimination index D = -0." in text and "check the key" in text
    assert f"option {world.miskeyed.true_option} was chosen by" in text
    # the reasons are messages of the catalog: the centre's staff read them in Chinese
    with i18n.use_locale("zh_CN"):
        zh = "\n".join(str(r) for r in bad.reasons)
    assert world.miskeyed.code in zh and "区分度" in zh and "discrimination" not in zh
    d = bad.distractors
    assert world.miskeyed.true_option in d["flagged"]
    assert d["options"][int(np.argmax(d["upper_share"]))] == world.miskeyed.true_option
    assert bad.distractors["key"] == world.miskeyed.item.content.key[0]
    easy = rep.item(world.easy.code)
    assert FLAG_TOO_EASY in easy.flags and easy.p_value > 0.9
    assert any(english(r).startswith(f"{world.easy.code} v1: facility p = 0.9") and english(r).endswith("(too easy)")
               for r in easy.reasons)
    # rubric items simulated from the GPCM fit it; at most a stray 0/1 item misfits
    assert FLAG_MISFIT not in rep.item("SA-1").flags and FLAG_MISFIT not in rep.item("SA-2").flags
    good = [it for it in rep.items if it.irt_role == "estimated" and it.code != bad.code]
    assert sum(FLAG_MISFIT in it.flags for it in good) <= 2
    assert all(it.fit is not None and 0.5 < it.fit["infit_msq"] < 1.5 for it in good)
    # guessing on hard items spreads the upper group over the options: not a distractor flag
    assert sum(FLAG_DISTRACTOR in it.flags for it in rep.items if it.code != bad.code) <= 1
    # the 2PL estimates the miskeyed item with a negative slope and a finite difficulty
    # (not a -> 0, b -> infinity) and flags it as a suspected miskey with the classical
    # statistics; it stays in the history, not on the version
    assert FLAG_MISKEY in bad.flags and FLAG_DEGENERATE not in bad.flags
    assert bad.a < -0.5 and abs(bad.b) < 3 and bad.se_a is not None and bad.se_a < 0.3
    miskey = next(english(r) for w, r in zip(bad.flags, bad.reasons) if w == FLAG_MISKEY)
    assert "suspected miskey" in miskey and "IRT slope a = -" in miskey and "corrected item-total r = -0." in miskey
    assert sum(FLAG_MISKEY in it.flags for it in good) == 0
    version = _pool(db, world)[bad.code]
    assert version.irt is None or version.irt.calibration_id != rep.calibration.id

    review = items_needing_review(db, bank=world.bank)
    by_code = {r.code: r for r in review}
    assert world.miskeyed.code in by_code and world.easy.code in by_code
    assert by_code[world.miskeyed.code].reasons == bad.reasons
    assert by_code[world.miskeyed.code].calibration_id == rep.calibration.id
    # too few responses alone is information, not a reason to review the item
    only_few = [it.code for it in rep.items if it.flags == (FLAG_FEW_RESPONSES,)]
    assert only_few and not set(only_few) & set(by_code)
    assert {it.code for it in rep.needing_review} == set(by_code)
    assert items_needing_review(db, bank=world.bank, part=Part.PRACTICAL) == []

    # thresholds are the administrator's: stricter facility bounds flag more items
    strict = analyse_session(db, session_code=world.s1, actor="analyst",
                             thresholds=CttThresholds(p_min=0.3, p_max=0.7))
    assert len(strict.needing_review) > len(rep.needing_review)
    assert strict.calibration.settings["ctt"]["p_min"] == 0.3


def test_second_session_anchors_on_the_first_and_history_is_kept(db: Session, world: World) -> None:
    first = analyse_session(db, session_code=world.s1, actor="analyst")
    second = analyse_session(db, session_code=world.s2, actor="analyst")
    c1, c2 = first.calibration, second.calibration

    # fixed-parameter calibration: the anchors hold, the new cohort's mean is estimated
    assert c2.scale == "bank" and c2.n_anchors == 15
    assert {cid for _vid, cid in c2.anchors} == {c1.id}
    assert c2.population_mean == pytest.approx(0.5, abs=0.2)  # simulated N(0.5, 1)
    assert c2.population_sd == pytest.approx(1.0, abs=0.2)
    assert any("anchor item(s)" in english(n) for n in c2.notes)
    for code in world.anchors_in_s2:
        a2, a1 = second.item(code), first.item(code)
        assert a2.irt_role == "anchor" and (a2.a, a2.b) == (a1.a, a1.b) and a2.se_b is None
        assert a2.n == N_D
    # new items land on the bank's scale (the scale of the first calibration = the truth's)
    a, ta, b, tb = _recovered(second, world, codes=world.new_in_s2)
    assert len(a) == 15 and rmse(b, tb) < 0.35 and rmse(a, ta) < 0.3, (rmse(a, ta), rmse(b, tb))
    assert abs(np.mean(b - tb)) < 0.2

    # versions: anchors keep the parameters of the first calibration, new items the second's;
    # classical statistics are the latest
    pool = _pool(db, world)
    anchor = pool[world.anchors_in_s2[0]]
    assert anchor.irt.calibration_id == c1.id and anchor.irt.b == first.item(anchor.code).b
    assert anchor.classical.n == N_D
    new = pool[world.new_in_s2[0]]
    assert new.irt.calibration_id == c2.id and new.irt.b == second.item(new.code).b

    # history keeps both calibrations, the first one current for the anchor's IRT
    hist = calibration_history(db, bank=world.bank, code=world.anchors_in_s2[0])
    assert [(h.calibration_id, h.stats.irt_role, h.current) for h in hist] == [
        (c1.id, "estimated", True), (c2.id, "anchor", False)]
    assert hist[0].stats.n != hist[1].stats.n and hist[0].session_codes == (world.s1,)
    assert db.scalar(select(func.count()).select_from(ItemStatisticsRecord)) == 60 + 30

    # a re-analysis of the same session reproduces the linking: the new items are not anchored
    # on their own earlier estimates, the S1 anchors still are
    again = analyse_session(db, session_code=world.s2, actor="analyst")
    assert again.calibration.n_anchors == 15 and again.calibration.scale == "bank"
    assert any("15 item(s) were calibrated on this same data before" in english(n) for n in again.calibration.notes)
    for code in world.new_in_s2:
        assert again.item(code).irt_role == "estimated"
        assert again.item(code).b == pytest.approx(second.item(code).b, abs=1e-6)
    assert len(calibration_history(db, bank=world.bank, code=world.new_in_s2[0])) == 2

    # without anchors the second cohort defines its own N(0, 1) scale: new b shift by ~ -0.5
    free = analyse_session(db, session_code=world.s2, actor="analyst", anchor="none")
    assert free.calibration.scale == "sample" and free.calibration.n_anchors == 0
    assert any("replaced by estimates on this sample's scale" in english(n) for n in free.calibration.notes)
    shift = np.mean([free.item(c).b - second.item(c).b for c in world.new_in_s2])
    assert shift == pytest.approx(-c2.population_mean, abs=0.15)


def test_model_and_d_are_explicit_and_anchors_are_converted(db: Session, world: World) -> None:
    first = analyse_session(db, session_code=world.s1, actor="analyst")  # D = 1
    second = analyse_session(db, session_code=world.s2, actor="analyst", model="3pl", D=1.702)
    c2 = second.calibration
    assert (c2.model, c2.D, c2.scale) == ("3pl", 1.702, "bank")
    code = world.anchors_in_s2[0]
    # the same response function on the other metric: a' = a * 1.0 / 1.702
    assert second.item(code).a == pytest.approx(first.item(code).a / 1.702)
    assert second.item(code).D == 1.702
    new = second.item(world.new_in_s2[0])
    assert new.model == "3pl" and 0 < new.c < 0.5 and new.se_c is not None
    version = _pool(db, world)[new.code].irt
    assert version.model is IrtModel.THREE_PL and version.D == 1.702 and version.c == pytest.approx(new.c)

    grm = analyse_session(db, session_code=world.s1, actor="analyst", polytomous_model="grm", anchor="none")
    sa = grm.item("SA-1")
    assert sa.model == "grm" and list(sa.thresholds) == sorted(sa.thresholds) and len(sa.thresholds) == 5
    assert grm.calibration.polytomous_model == "grm"


def test_paper_scope_and_left_out_sittings(db: Session, world: World) -> None:
    rep = analyse_session(db, paper_codes=["S1-A", "S1-B"], actor="analyst",
                          rules=ReviewRules(fit_statistics=False))
    assert rep.calibration.paper_codes == ("S1-A", "S1-B") and rep.calibration.session_codes == (world.s1,)
    assert rep.calibration.n_persons == N_A + N_B and all(it.fit is None for it in rep.items)
    # papers of two sessions: one sitting per candidate and session
    both = analyse_session(db, paper_codes=["S2-D", "S1-A"], actor="analyst", anchor="none")
    assert both.calibration.session_codes == (world.s1, world.s2)
    assert both.calibration.paper_codes == ("S1-A", "S2-D") and both.calibration.n_persons == N_A + N_D
    shared = world.papers["S2-D"].items[0].code  # on S1-A and S2-D
    assert both.item(shared).paper_codes == ("S1-A", "S2-D") and both.item(shared).n == N_A + N_D

    # one sitting not yet fully scored, one paper voided (附件14): both left out, and said so
    apps = list(db.scalars(select(ResponseRecord.application_id).where(
        ResponseRecord.paper_code == "S1-A").distinct().order_by(ResponseRecord.application_id).limit(2)))
    sa = next(ti.item.version_id for ti in world.papers["S1-A"].items if ti.code == "SA-1")
    db.execute(update(ResponseRecord).where(ResponseRecord.application_id == apps[0],
                                            ResponseRecord.item_version_id == sa).values(score=None))
    session_id = db.scalar(select(ResponseRecord.session_id).where(ResponseRecord.application_id == apps[1]).limit(1))
    db.add(PartResultRecord(application_id=apps[1], part="theory", session_id=session_id, raw_points=0.0,
                            max_points=0.0, score=0.0, status="voided", reason="test",
                            computed_at=datetime.now(timezone.utc)))
    db.flush()
    rep = analyse_session(db, paper_codes=["S1-A"], actor="analyst")
    assert rep.calibration.n_persons == N_A - 2
    assert any("1 sitting(s) with responses not yet scored" in english(n) for n in rep.calibration.notes)
    assert any("1 sitting(s) voided" in english(n) for n in rep.calibration.notes)


def _counts(db: Session) -> tuple:
    return (db.scalar(select(func.count()).select_from(CalibrationRecord)),
            db.scalar(select(func.count()).select_from(ItemStatisticsRecord)),
            db.scalar(select(func.count()).select_from(LedgerEntryRecord)),
            tuple(db.execute(select(ItemVersionRecord.id, ItemVersionRecord.p_value, ItemVersionRecord.irt_b,
                                    ItemVersionRecord.calibration_id).order_by(ItemVersionRecord.id)).all()))


def test_failures_leave_the_database_unchanged(db: Session, world: World) -> None:
    before = _counts(db)
    with pytest.raises(NotFoundError, match="没有考试场次 NOPE") as nf:
        analyse_session(db, session_code="NOPE", actor="analyst")
    assert nf.value.params == {"session": "NOPE"}
    with pytest.raises(NotFoundError) as nf:
        analyse_session(db, paper_codes=["S1-A", "S9-Z"], actor="analyst")
    assert nf.value.params == {"papers": ["S9-Z"]} and nf.value.field == "paper_codes"
    with pytest.raises(NotFoundError) as nf:
        analyse_session(db, session_code=world.s2, paper_codes=["S1-A"], actor="analyst")
    assert nf.value.params == {"session": world.s2, "papers": ["S1-A"]}
    with pytest.raises(ValidationError) as e:
        analyse_session(db, session_code=world.s1, model="4pl", D=-1, anchor="maybe", actor=" ")
    assert [m.field for m in e.value.errors] == ["model", "D", "anchor", "actor"]
    with pytest.raises(ValidationError) as e:  # CML exists only for the Rasch family
        analyse_session(db, session_code=world.s1, model="2pl", method="cml", actor="analyst")
    assert e.value.errors[0].field == "method"
    assert e.value.errors[0].message.msgid.startswith("conditional ML (cml) exists only for the Rasch family")
    assert e.value.errors[0].message.params["model"] == ["2pl"]
    assert _counts(db) == before

    # a response to an item of another bank is found before anything is written
    other = create_bank(db, occupation_code=world.bank.occupation.code, level=Level.L4)
    from itembank.elements import save_element_table
    from tests.itembank.conftest import SMALL_TABLE

    save_element_table(db, bank=other, part=Part.THEORY, nodes=SMALL_TABLE, actor="t")
    stray = add_item(db, bank=other, code="X-1", actor="t", state=VersionState.ACCEPTED, content=ItemContent(
        ItemType.SINGLE_CHOICE, "？", 1.0, ("A-01",), (Option("A", "1"), Option("B", "2")), ("A",)))
    row = db.scalar(select(ResponseRecord).where(ResponseRecord.paper_code == "S1-A").limit(1))
    db.add(ResponseRecord(application_id=row.application_id, session_id=row.session_id, paper_code="S1-A",
                          position=99, item_version_id=stray.version_id, response=["A"], score=1.0,
                          max_points=1.0))
    db.flush()
    before = _counts(db)
    with pytest.raises(ValidationError) as e:
        analyse_session(db, session_code=world.s1, actor="analyst")
    assert "outside the bank" in e.value.head_text.msgid
    assert any(m.params.get("code") == "X-1" and m.params.get("version") == 1 and "another bank" in m.msgid
               for m in e.value.errors)
    assert _counts(db) == before
    assert db.scalar(select(func.count()).select_from(ApplicationRecord)) > 0


def test_rasch_scale_banks_are_calibrated_by_cml_and_the_review_lists_misfit_and_miskeys(
        db: Session, world: World) -> None:
    """A Rasch analysis (CML by default for the Rasch family) makes the bank a Rasch-scale bank:
    the next analysis chooses the Rasch model and CML by itself and anchors on those items."""
    first = analyse_session(db, session_code=world.s1, model="rasch", actor="analyst")
    c1 = first.calibration
    assert (c1.model, c1.polytomous_model, c1.method, c1.status) == ("rasch", "pcm", "cml", "converged")
    assert c1.population_mean is None and c1.quadrature == {}
    assert c1.convergence.se_method == "conditional" and "Newton iterations" in english(c1.convergence.message)
    assert any("centring the item difficulties" in english(n) for n in c1.notes)
    est = [it for it in first.items if it.irt_role == "estimated"]
    assert all(it.a == 1.0 and it.model in ("rasch", "pcm") for it in est)
    assert abs(np.mean([it.b for it in est if it.model == "rasch"])) < 0.5
    # the planted wrong key: misfit (infit/outfit) and a suspected miskey by its classical statistics
    bad = first.item(world.miskeyed.code)
    assert {FLAG_MISFIT, FLAG_MISKEY} <= set(bad.flags)
    assert bad.fit["outfit_msq"] > 1.3 and bad.fit["outfit_t"] > 2
    misfit_text = next(english(r) for w, r in zip(bad.flags, bad.reasons) if w == FLAG_MISFIT)
    assert "misfits the Rasch model" in misfit_text and "noisier than the model expects" in misfit_text
    review = {r.code: r for r in items_needing_review(db, bank=world.bank)}
    item = review[world.miskeyed.code]
    assert item.suspected_miskey and item.misfit and item.fit["infit_msq"] == bad.fit["infit_msq"]
    assert item.corrected_r is not None and item.corrected_r < 0
    with i18n.use_locale("zh_CN"):
        assert str(FLAG_LABELS[FLAG_MISKEY]) == "疑似答案错误"

    # the bank is now on a Rasch scale: no model named, CML with the Rasch items as anchors
    second = analyse_session(db, session_code=world.s2, actor="analyst")
    c2 = second.calibration
    assert (c2.model, c2.polytomous_model, c2.method) == ("rasch", "pcm", "cml")
    assert c2.scale == "bank" and c2.n_anchors == 15 and c2.status == "converged"
    new = [second.item(c) for c in world.new_in_s2]
    tb = np.array([world.truth[it.code].b for it in new])
    assert np.corrcoef([it.b for it in new], tb)[0, 1] > 0.9
    # the versions carry the Rasch parameters of the calibrations that estimated them
    pool = _pool(db, world)
    assert pool[world.new_in_s2[0]].irt.model is IrtModel.RASCH
    assert pool[world.new_in_s2[0]].irt.calibration_id == c2.id
    # an explicit MML Rasch calibration estimates the population SD instead of fixing it
    mml = analyse_session(db, session_code=world.s1, model="rasch", method="mml", anchor="none", actor="analyst")
    assert mml.calibration.method == "mml" and mml.calibration.population_sd != 1.0
