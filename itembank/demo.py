"""Demo data: realistic banks built deterministically from a seed (``itembank demo``).

Two occupations with element tables: 电工 (technical-skill) with banks at levels 5, 4, 3 and
2 that meet every minimum, and 计算机程序设计员 (knowledge-skill) at level 4, which falls short
(knowledge-skill occupations need as many practical items as theory items, 附件11 第7条).
Items carry plausible Chinese stems, options, keys, element tags, expert ratings, classical
statistics and 3PL parameters; a usage history of past sessions, a few compromised items,
enemy pairs and item sets make assembly realistic. An unfiled occupation is registered too.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy.orm import Session

from itembank import demo_content as dc
from itembank.domain import (
    BankRef,
    ClassicalStats,
    ElementNode,
    Importance,
    IrtModel,
    IrtParams,
    ItemContent,
    ItemType,
    Level,
    OccupationCategory,
    Option,
    Part,
    RubricPoint,
    VersionState,
)
from itembank.elements import save_element_table
from itembank.items import NewItem, add_enemies, add_items
from itembank.occupations import create_bank, create_occupation
from itembank.pool import load_pool
from itembank.usage import mark_compromised, record_usage

log = logging.getLogger(__name__)

DEMO_ACTOR = "demo"
LABELS = "ABCDE"


@dataclass(frozen=True, slots=True)
class DemoBankSpec:
    occupation: str  # key into OCCUPATIONS
    level: Level
    n_theory: int
    n_practical: int
    n_defence: int = 0
    subjective_share: float = 0.0
    n_past_sessions: int = 6
    n_compromised: int = 5


@dataclass(frozen=True, slots=True)
class DemoOccupation:
    code: str
    name: str
    category: OccupationCategory
    prefix: str
    theory_table: list
    practical_table: list
    defence_table: list | None
    facts: dict
    tasks: dict
    numeric: dict[str, list[Callable[[random.Random], tuple[str, str, list[str]]]]]


# --------------------------------------------------------------------------------------
# Numeric question generators: (stem, correct answer, distractors)


def _fmt(x: float) -> str:
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _distinct(correct: float, cands: list[float]) -> list[str]:
    out: list[str] = []
    for c in cands:
        s = _fmt(c)
        if s != _fmt(correct) and s not in out and c > 0:
            out.append(s)
    return out


def _ohm(r: random.Random) -> tuple[str, str, list[str]]:
    res = r.choice([2, 4, 5, 8, 10, 11, 20, 22, 40, 44, 55, 110])
    u = r.choice([6, 12, 24, 36, 110, 220, 380])
    i = u / res
    return (f"某电阻为{res}Ω，两端电压为{u}V，则通过该电阻的电流为（　）A。",
            _fmt(i), _distinct(i, [u * res, res / u, i * 2, i / 2, u / (res + 1)]))


def _series(r: random.Random) -> tuple[str, str, list[str]]:
    r1, r2 = r.sample([2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 40, 60], 2)
    tot = r1 + r2
    par = r1 * r2 / (r1 + r2)
    if r.random() < 0.5:
        return (f"电阻R1={r1}Ω与R2={r2}Ω串联，其等效电阻为（　）Ω。", _fmt(tot),
                _distinct(tot, [par, abs(r1 - r2), r1 * r2, tot * 2]))
    return (f"电阻R1={r1}Ω与R2={r2}Ω并联，其等效电阻为（　）Ω。", _fmt(par),
            _distinct(par, [tot, abs(r1 - r2), (r1 + r2) / 4, par * 2]))


def _power(r: random.Random) -> tuple[str, str, list[str]]:
    p = r.choice([100, 220, 440, 660, 880, 1100, 1320, 1760, 2200])
    i = p / 220
    return (f"额定电压220V、额定功率{p}W的电热器，正常工作时的电流为（　）A。", _fmt(i),
            _distinct(i, [p * 220 / 1000, i * 2, i / 2, 220 / p * 10]))


def _energy(r: random.Random) -> tuple[str, str, list[str]]:
    p = r.choice([40, 60, 100, 200, 500, 800, 1000, 1500, 2000])
    t = r.choice([2, 4, 5, 8, 10, 12, 20, 25])
    e = p * t / 1000
    return (f"功率为{p}W的用电设备连续工作{t}h，消耗的电能为（　）kW·h。", _fmt(e),
            _distinct(e, [p * t, e * 10, e / 10, p / t]))


def _wire(r: random.Random) -> tuple[str, str, list[str]]:
    length = r.choice([50, 100, 200, 400, 500, 1000])
    s = r.choice([1.5, 2.5, 4, 6, 10])
    res = 0.0175 * length / s
    return (f"长{length}m、截面积{_fmt(s)}mm²的铜导线（ρ=0.0175Ω·mm²/m），其电阻约为（　）Ω。",
            _fmt(round(res, 2)), _distinct(round(res, 2), [round(res * 2, 2), round(res / 2, 2),
                                                           round(0.0175 * s / length * 1000, 2),
                                                           round(res * 10, 2)]))


def _rms(r: random.Random) -> tuple[str, str, list[str]]:
    um = r.choice([14.1, 28.3, 141, 155.5, 311, 537])
    u = um / math.sqrt(2)
    return (f"正弦交流电压的最大值为{_fmt(um)}V，其有效值约为（　）V。", _fmt(round(u)),
            _distinct(round(u), [um, round(um * math.sqrt(2)), round(um / 2), round(u * 1.732)]))


def _line_voltage(r: random.Random) -> tuple[str, str, list[str]]:
    uph = r.choice([127, 220, 380, 3464, 6062])
    ul = round(uph * math.sqrt(3))
    return (f"三相对称电源星形连接，相电压为{uph}V，则线电压约为（　）V。", _fmt(ul),
            _distinct(ul, [uph, round(uph / math.sqrt(3)), uph * 3, uph * 2]))


def _period(r: random.Random) -> tuple[str, str, list[str]]:
    f = r.choice([25, 40, 50, 60, 100, 200, 400, 500])
    t = 1000 / f
    return (f"频率为{f}Hz的交流电，其周期为（　）ms。", _fmt(t),
            _distinct(t, [f / 10, t * 2, t / 2, 1 / f]))


def _sync_speed(r: random.Random) -> tuple[str, str, list[str]]:
    pairs = r.choice([1, 2, 3, 4, 5, 6])
    f = r.choice([50, 60])
    n1 = 60 * f / pairs
    return (f"电源频率为{f}Hz、磁极对数为{pairs}的三相异步电动机，其同步转速为（　）r/min。", _fmt(n1),
            _distinct(n1, [n1 * 2, n1 / 2, 60 * f * pairs, n1 * 0.96]))


def _slip(r: random.Random) -> tuple[str, str, list[str]]:
    n1 = r.choice([3000, 1500, 1000, 750])
    s = r.choice([0.02, 0.03, 0.04, 0.05, 0.06])
    n = round(n1 * (1 - s))
    return (f"某三相异步电动机同步转速为{n1}r/min，额定转速为{n}r/min，其额定转差率约为（　）。",
            _fmt(round(s, 2)), _distinct(round(s, 2), [round(1 - s, 2), round(s * 10, 2), round(s / 2, 3), round(s * 2, 2)]))


def _binary(r: random.Random) -> tuple[str, str, list[str]]:
    n = r.randint(5, 250)
    b = format(n, "b")
    return (f"二进制数{b}转换为十进制数是（　）。", str(n),
            _distinct(n, [n + 1, n - 1, int(b, 8) if all(c in "01234567" for c in b) else n * 2, n * 2]))


def _hex(r: random.Random) -> tuple[str, str, list[str]]:
    n = r.randint(17, 4000)
    h = format(n, "X")
    return (f"十六进制数{h}转换为十进制数是（　）。", str(n),
            _distinct(n, [n + 16, n - 16, n * 2, n + 1]))


def _loop_count(r: random.Random) -> tuple[str, str, list[str]]:
    start = r.randint(0, 10)
    stop = start + r.randint(5, 60)
    step = r.choice([1, 2, 3, 4, 5])
    n = len(range(start, stop, step))
    return (f"循环语句 for (i = {start}; i < {stop}; i += {step}) 的循环体共执行（　）次。", str(n),
            _distinct(n, [n + 1, n - 1, (stop - start), n * 2]))


def _binary_search(r: random.Random) -> tuple[str, str, list[str]]:
    size = r.choice([7, 15, 16, 31, 50, 63, 100, 127, 200, 255, 500, 1000, 1023, 2000])
    n = int(math.floor(math.log2(size))) + 1
    return (f"在长度为{size}的有序数组中进行二分查找，最多需要比较（　）次。", str(n),
            _distinct(n, [n + 1, n - 1, size // 2, n * 2]))


def _array_address(r: random.Random) -> tuple[str, str, list[str]]:
    base = r.choice([1000, 2000, 4096, 1200, 3000])
    size = r.choice([2, 4, 8])
    i = r.randint(3, 40)
    addr = base + i * size
    return (f"一维数组首地址为{base}，每个元素占{size}个字节，则下标为{i}的元素地址为（　）。",
            str(addr), _distinct(addr, [base + (i + 1) * size, base + i, base + (i - 1) * size, addr + size * 2]))


ELECTRICIAN_NUMERIC = {
    "A-02-01": [_ohm, _series, _power, _energy, _wire],
    "A-02-02": [_rms, _line_voltage, _period],
    "B-05-01": [_sync_speed, _slip],
}
PROGRAMMER_NUMERIC = {"A-02-01": [_binary, _hex], "B-01-01": [_loop_count],
                      "B-01-02": [_binary_search, _array_address]}

OCCUPATIONS = {
    "electrician": DemoOccupation(
        code="6-31-01-03", name="电工", category=OccupationCategory.TECHNICAL_SKILL, prefix="DG",
        theory_table=dc.ELECTRICIAN_TABLE, practical_table=dc.ELECTRICIAN_PRACTICAL_TABLE,
        defence_table=dc.ELECTRICIAN_DEFENCE_TABLE, facts=dc.ELECTRICIAN_FACTS,
        tasks=dc.ELECTRICIAN_TASKS, numeric=ELECTRICIAN_NUMERIC,
    ),
    "programmer": DemoOccupation(
        code="4-04-05-01", name="计算机程序设计员", category=OccupationCategory.KNOWLEDGE_SKILL,
        prefix="CX", theory_table=dc.PROGRAMMER_TABLE, practical_table=dc.PROGRAMMER_PRACTICAL_TABLE,
        defence_table=None, facts=dc.PROGRAMMER_FACTS, tasks=dc.PROGRAMMER_TASKS,
        numeric=PROGRAMMER_NUMERIC,
    ),
}

DEFAULT_SPECS: tuple[DemoBankSpec, ...] = (
    DemoBankSpec("electrician", Level.L5, n_theory=1230, n_practical=24),
    DemoBankSpec("electrician", Level.L4, n_theory=1230, n_practical=22),
    DemoBankSpec("electrician", Level.L3, n_theory=1230, n_practical=22),
    DemoBankSpec("electrician", Level.L2, n_theory=1230, n_practical=20, n_defence=12, subjective_share=0.2),
    DemoBankSpec("programmer", Level.L4, n_theory=400, n_practical=30, n_past_sessions=2, n_compromised=0),
)

# Level shifts the expert difficulty rating: higher levels, harder items.
LEVEL_SHIFT = {Level.L5: -0.6, Level.L4: -0.2, Level.L3: 0.2, Level.L2: 0.5, Level.L1: 0.8}


@dataclass(frozen=True, slots=True)
class DemoSummary:
    banks: tuple[BankRef, ...]
    n_items: int


def element_nodes(rows: list) -> list[ElementNode]:
    return [
        ElementNode(code=c, name=n, weight=float(w), parent_code=p,
                    importance=Importance(imp) if imp else None)
        for c, p, n, w, imp in rows
    ]


def _leaves(rows: list) -> list[tuple[str, str, float, str]]:
    parents = {p for _, p, _, _, _ in rows if p}
    return [(c, n, float(w), imp) for c, p, n, w, imp in rows if c not in parents]


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder split of ``total`` by ``weights``."""
    raw = [total * w / sum(weights) for w in weights]
    base = [int(math.floor(x)) for x in raw]
    rest = total - sum(base)
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - base[i], -i), reverse=True)
    for i in order[:rest]:
        base[i] += 1
    return base


# --------------------------------------------------------------------------------------
# Item writing


@dataclass
class _Draft:
    item_type: ItemType
    stem: str
    options: tuple[Option, ...] = ()
    key: tuple[str, ...] = ()
    rubric: tuple[RubricPoint, ...] = ()
    analysis: str = ""
    hardness: float = 0.0  # added to the rating
    cue: str = ""  # the statement the key rests on: items sharing a cue are enemies
    set_code: str | None = None


def _choice(rng: random.Random, stem: str, correct: str, wrong: list[str], hardness: float, cue: str) -> _Draft:
    opts = [correct] + wrong[:3]
    rng.shuffle(opts)
    options = tuple(Option(LABELS[i], t) for i, t in enumerate(opts))
    key = LABELS[opts.index(correct)]
    return _Draft(ItemType.SINGLE_CHOICE, stem, options, (key,), hardness=hardness, cue=cue)


def _candidates(occ: DemoOccupation, code: str, name: str, rng: random.Random) -> dict[ItemType, list[_Draft]]:
    """Every distinct objective item the facts of one element allow, shuffled."""
    trues, falses = occ.facts.get(code, ([], []))
    single: list[_Draft] = []
    multiple: list[_Draft] = []
    tf: list[_Draft] = []
    for t in trues:
        for i in range(len(falses)):
            for j in range(i + 1, len(falses)):
                for k in range(j + 1, len(falses)):
                    single.append(_choice(rng, f"下列关于{name}的说法中，正确的是（　）。", t,
                                          [falses[i], falses[j], falses[k]], 0.0, t))
    for f in falses:
        for i in range(len(trues)):
            for j in range(i + 1, len(trues)):
                for k in range(j + 1, len(trues)):
                    single.append(_choice(rng, f"下列关于{name}的说法中，错误的是（　）。", f,
                                          [trues[i], trues[j], trues[k]], 0.5, f))
    if len(trues) >= 3 and len(falses) >= 2:
        for n_true in (2, 3):
            for _ in range(40):
                picked_t = rng.sample(trues, n_true)
                picked_f = rng.sample(falses, 5 - n_true)
                opts = picked_t + picked_f
                rng.shuffle(opts)
                key = tuple(LABELS[i] for i, o in enumerate(opts) if o in picked_t)
                multiple.append(_Draft(ItemType.MULTIPLE_CHOICE, f"下列关于{name}的说法中，正确的有（　）。",
                                       tuple(Option(LABELS[i], o) for i, o in enumerate(opts)), key,
                                       hardness=1.0, cue="|".join(sorted(picked_t))))
    for s in trues:
        tf.append(_Draft(ItemType.TRUE_FALSE, f"{s}。", key=("T",), hardness=-0.5, cue=s))
    for s in falses:
        tf.append(_Draft(ItemType.TRUE_FALSE, f"{s}。", key=("F",), hardness=-0.3, cue=s))
    seen: set[str] = set()
    for gen in occ.numeric.get(code, []):
        for _ in range(60):
            stem, correct, wrong = gen(rng)
            if stem in seen or len(wrong) < 3:
                continue
            seen.add(stem)
            single.append(_choice(rng, stem, correct, wrong, 0.8, stem))
            if rng.random() < 0.35:
                shown = correct if rng.random() < 0.5 else wrong[0]
                tf.append(_Draft(ItemType.TRUE_FALSE, stem.replace("（　）", shown) ,
                                 key=("T" if shown == correct else "F",), hardness=0.2, cue=stem))
    for lst in (single, multiple, tf):
        rng.shuffle(lst)
    # drop repeated option sets among multiple choice items
    uniq: dict[tuple, _Draft] = {}
    for d in multiple:
        uniq.setdefault(tuple(sorted(o.text for o in d.options)), d)
    return {ItemType.SINGLE_CHOICE: single, ItemType.MULTIPLE_CHOICE: list(uniq.values()),
            ItemType.TRUE_FALSE: tf}


def _subjective(occ: DemoOccupation, code: str, name: str, rng: random.Random, n: int) -> list[_Draft]:
    trues, _ = occ.facts.get(code, ([], []))
    out: list[_Draft] = []
    forms = [("简述{name}的主要要点。", ItemType.SHORT_ANSWER),
             ("结合工作实际，说明{name}在生产中的应用及注意事项。", ItemType.SHORT_ANSWER),
             ("试论述{name}对安全生产和产品质量的影响。", ItemType.ESSAY)]
    for i in range(n):
        tmpl, t = forms[i % len(forms)]
        pts = rng.sample(trues, min(len(trues), 4 if t is ItemType.SHORT_ANSWER else 5))
        # house standard (assembly presets): short answer 5 points, essay 10 points
        weights = [2.0, 1.0, 1.0, 1.0] if t is ItemType.SHORT_ANSWER else [2.0] * 5
        weights = weights[: len(pts)]
        stem = tmpl.format(name=name) if i < len(forms) else f"{tmpl.format(name=name)}（第{i // len(forms) + 1}组）"
        out.append(_Draft(t, stem, rubric=tuple(RubricPoint(p, w, "答出要点即得分") for p, w in zip(pts, weights)),
                          analysis="答出以下要点：" + "；".join(pts) + "。", hardness=1.2, cue=f"subj:{stem}"))
    for gen in occ.numeric.get(code, []):
        for _ in range(3):
            stem, correct, _w = gen(rng)
            stem = stem.replace("（　）", "多少") + "写出计算过程。"
            out.append(_Draft(ItemType.CALCULATION, stem,
                              rubric=(RubricPoint("写出正确的公式", 2.0, "公式错误不得分"),
                                      RubricPoint("代入数据正确", 2.0, "代入错误扣2分"),
                                      RubricPoint(f"计算结果正确：{correct}", 1.0, "单位错误扣0.5分")),
                              analysis=f"答案：{correct}", hardness=1.4, cue=stem))
    rng.shuffle(out)
    return out[:n]


def _rating(rng: random.Random, hardness: float, level: Level) -> int:
    x = 2.6 + hardness + LEVEL_SHIFT[level] + rng.gauss(0.0, 0.8)
    return int(min(5, max(1, round(x))))


def _irt_and_stats(
    nrng: np.random.Generator, item_type: ItemType, rating: int, calibrated: bool
) -> tuple[IrtParams | None, ClassicalStats | None]:
    if not calibrated or item_type not in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE, ItemType.TRUE_FALSE):
        return None, None
    a = float(np.exp(nrng.normal(0.15, 0.3)))
    b = float((rating - 3) * 0.7 + nrng.normal(0.0, 0.45))
    c_mean = {ItemType.SINGLE_CHOICE: 0.2, ItemType.MULTIPLE_CHOICE: 0.05, ItemType.TRUE_FALSE: 0.3}[item_type]
    c = float(np.clip(nrng.beta(20 * c_mean, 20 * (1 - c_mean)), 0.0, 0.45))
    n = int(nrng.integers(150, 900))
    # classical facility and discrimination implied by the 3PL for theta ~ N(0, 1)
    nodes, weights = np.polynomial.hermite_e.hermegauss(31)
    weights = weights / weights.sum()
    p_theta = c + (1 - c) / (1 + np.exp(-a * (nodes - b)))
    p = float(weights @ p_theta)
    cov = float(weights @ (nodes * p_theta))
    r_pb = cov / math.sqrt(max(p * (1 - p), 1e-9))
    se_b = float(1.2 / (a * math.sqrt(n)) * (1 + abs(b)))
    se_a = float(0.9 * a / math.sqrt(n) * 2)
    return (
        IrtParams(model=IrtModel.THREE_PL, a=round(a, 4), b=round(b, 4), c=round(c, 4),
                  se_a=round(se_a, 4), se_b=round(se_b, 4), se_c=0.03, D=1.0),
        ClassicalStats(p_value=round(p, 4), discrimination=round(min(r_pb, 0.95), 4), n=n),
    )


def _theory_items(occ: DemoOccupation, spec: DemoBankSpec, rng: random.Random, nrng: np.random.Generator) -> tuple[list[NewItem], list[tuple[str, str]]]:
    leaves = _leaves(occ.theory_table)
    counts = _allocate(spec.n_theory, [w for _, _, w, _ in leaves])
    items: list[NewItem] = []
    cues: dict[str, list[str]] = {}
    seq = 0
    lvl = int(spec.level)
    for (code, name, _w, _imp), n in zip(leaves, counts):
        cands = _candidates(occ, code, name, rng)
        n_subj = int(round(n * spec.subjective_share))
        n_obj = n - n_subj
        n_tf = min(len(cands[ItemType.TRUE_FALSE]), int(round(n_obj * 0.2)))
        n_multi = min(len(cands[ItemType.MULTIPLE_CHOICE]), int(round(n_obj * 0.1)))
        n_single = n_obj - n_tf - n_multi
        if n_single > len(cands[ItemType.SINGLE_CHOICE]):
            raise RuntimeError(f"demo content of element {code} supports only "
                               f"{len(cands[ItemType.SINGLE_CHOICE])} single choice items, {n_single} wanted")
        drafts = (cands[ItemType.SINGLE_CHOICE][:n_single] + cands[ItemType.MULTIPLE_CHOICE][:n_multi]
                  + cands[ItemType.TRUE_FALSE][:n_tf])
        if n_subj:
            drafts += _subjective(occ, code, name, rng, n_subj)
        for d in drafts:
            seq += 1
            item_code = f"{occ.prefix}{lvl}-T-{seq:04d}"
            rating = _rating(rng, d.hardness, spec.level)
            points = {ItemType.SINGLE_CHOICE: 1.0, ItemType.TRUE_FALSE: 1.0, ItemType.MULTIPLE_CHOICE: 2.0}.get(
                d.item_type, float(sum(r.points for r in d.rubric)) or 5.0)
            est = {ItemType.SINGLE_CHOICE: 60.0, ItemType.TRUE_FALSE: 30.0, ItemType.MULTIPLE_CHOICE: 90.0,
                   ItemType.SHORT_ANSWER: 420.0, ItemType.CALCULATION: 480.0, ItemType.ESSAY: 900.0}[d.item_type]
            irt, stats = _irt_and_stats(nrng, d.item_type, rating, calibrated=rng.random() < 0.85)
            content = ItemContent(
                item_type=d.item_type, stem=d.stem, points=points, element_codes=(code,),
                options=d.options, key=d.key, rubric=d.rubric,
                analysis=d.analysis or _analysis(d), estimated_time_s=est, difficulty_rating=rating,
            )
            items.append(NewItem(item_code, content, set_code=d.set_code, classical=stats, irt=irt))
            cues.setdefault(d.cue, []).append(item_code)
    # items resting on the same statement cue each other: enemies
    pairs: list[tuple[str, str]] = []
    for codes in cues.values():
        if len(codes) > 1:
            pairs += [(codes[0], c) for c in codes[1:3]]
    return items, pairs


def _analysis(d: _Draft) -> str:
    if d.item_type is ItemType.TRUE_FALSE:
        return "该说法正确。" if d.key == ("T",) else "该说法错误。"
    return f"正确答案为{''.join(d.key)}。"


def _practical_items(occ: DemoOccupation, spec: DemoBankSpec, rng: random.Random) -> list[NewItem]:
    leaves = _leaves(occ.practical_table)
    counts = _allocate(spec.n_practical, [w for _, _, w, _ in leaves])
    scope_points = {c: w for c, p, n, w, imp in occ.practical_table if p == occ.practical_table[0][0]}
    parent_of = {c: p for c, p, *_ in occ.practical_table}
    items: list[NewItem] = []
    seq = 0
    variants = ["", "（A型设备）", "（B型设备）", "（C型设备）", "（D型设备）", "（E型设备）", "（F型设备）",
                "（G型设备）", "（H型设备）", "（I型设备）"]
    lvl = int(spec.level)
    for (code, name, _w, _imp), n in zip(leaves, counts):
        tasks = occ.tasks.get(code, [(f"完成{name}操作", "按考场提供")])
        scope = parent_of[code] if parent_of[code] in scope_points else code
        # papers of 3 tasks (levels 5, 4) take one task per scope, worth the scope's weight;
        # papers of 4 tasks (levels 3-1) take tasks of 25 points (house standard, 100 in all)
        points = float(scope_points.get(scope, 30.0)) if spec.level in (Level.L5, Level.L4) else 25.0
        for k in range(n):
            title, materials = tasks[k % len(tasks)]
            title = title + variants[(k // len(tasks)) % len(variants)]
            minutes = rng.choice([60, 90]) if spec.level in (Level.L5, Level.L4) else rng.choice([45, 60])
            seq += 1
            shares = [0.2, 0.3, 0.3, 0.1, 0.1]
            pts = [round(points * s, 1) for s in shares]
            pts[-1] = round(points - sum(pts[:-1]), 1)
            rubric = (
                RubricPoint("工具、仪表及材料准备齐全，检查元件", pts[0], "漏检一只元件扣1分"),
                RubricPoint("按图接线，布线合理、规范", pts[1], "接线错误每处扣2分；布线不规范每处扣1分"),
                RubricPoint("通电试验一次成功，功能符合要求", pts[2], "一次不成功扣5分，二次不成功扣10分"),
                RubricPoint("安全文明生产", pts[3], "违反安全规程酌情扣分，发生事故本题0分"),
                RubricPoint("在规定时间内完成", pts[4], "每超时5分钟扣1分"),
            )
            content = ItemContent(
                item_type=ItemType.PRACTICAL_TASK,
                stem=f"{title}。要求：按考场提供的图纸和元件完成操作，操作过程符合安全规范。",
                points=points, element_codes=(code,), rubric=rubric,
                time_limit_min=float(minutes), equipment=materials,
                estimated_time_s=float(minutes * 60),
                difficulty_rating=_rating(rng, 0.5, spec.level),
                analysis="评分时由3名以上考评员独立评分，取平均分。",
            )
            items.append(NewItem(f"{occ.prefix}{lvl}-P-{seq:03d}", content))
    return items


def _defence_items(occ: DemoOccupation, spec: DemoBankSpec, rng: random.Random) -> list[NewItem]:
    assert occ.defence_table is not None
    leaves = _leaves(occ.defence_table)
    counts = _allocate(spec.n_defence, [w for _, _, w, _ in leaves])
    items: list[NewItem] = []
    seq = 0
    lvl = int(spec.level)
    for (code, _name, _w, _imp), n in zip(leaves, counts):
        topics = dc.ELECTRICIAN_DEFENCE_TOPICS.get(code, [])
        for k in range(n):
            seq += 1
            topic = topics[k % len(topics)] + ("" if k < len(topics) else f"（选题{k // len(topics) + 1}）")
            rubric = (
                RubricPoint("选题具有实用价值和技术先进性", 20.0),
                RubricPoint("技术方案正确、论证充分", 40.0),
                RubricPoint("答辩回答问题准确、思路清晰", 30.0),
                RubricPoint("文字表达规范、图表清楚", 10.0),
            )
            items.append(NewItem(f"{occ.prefix}{lvl}-D-{seq:03d}", ItemContent(
                item_type=ItemType.DEFENCE_TOPIC, stem=topic, points=100.0, element_codes=(code,),
                rubric=rubric, estimated_time_s=1800.0, difficulty_rating=_rating(rng, 1.0, spec.level),
            )))
    return items


def _add_sets(items: list[NewItem], rng: random.Random, n_sets: int) -> list[NewItem]:
    """Group numeric single-choice items of one element into sets taken whole (a case)."""
    by_elem: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        if it.content.item_type is ItemType.SINGLE_CHOICE and it.content.difficulty_rating >= 3:
            by_elem.setdefault(it.content.element_codes[0], []).append(i)
    out = list(items)
    made = 0
    for elem in sorted(by_elem):
        idx = by_elem[elem]
        rng.shuffle(idx)
        for g in range(0, len(idx) - 2, 3):
            if made >= n_sets:
                return out
            set_code = f"SET-{elem}-{g // 3 + 1:02d}"
            for i in idx[g : g + 3]:
                it = out[i]
                out[i] = NewItem(it.code, it.content, set_code=set_code, classical=it.classical, irt=it.irt)
            made += 1
    return out


# --------------------------------------------------------------------------------------
# Building


def build_demo(
    session: Session, *, seed: int = 20261128, specs: tuple[DemoBankSpec, ...] = DEFAULT_SPECS,
    today: date | None = None,
) -> DemoSummary:
    """Create the demo occupations, element tables, banks, items, usage history. Deterministic
    for a given seed (and ``today``, which dates the past sessions)."""
    today = today or date(2026, 11, 1)
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    occ_done: set[str] = set()
    banks: list[BankRef] = []
    n_items = 0
    for key in sorted({s.occupation for s in specs}):
        occ = OCCUPATIONS[key]
        create_occupation(session, code=occ.code, name=occ.name, category=occ.category)
        occ_done.add(key)
    # an occupation the centre has not filed: it may not get a bank
    create_occupation(session, code="6-31-01-10", name="智能楼宇管理员",
                      category=OccupationCategory.COMPOSITE_SKILL, filed=False)
    for spec in specs:
        occ = OCCUPATIONS[spec.occupation]
        bank = create_bank(session, occupation_code=occ.code, level=spec.level)
        banks.append(bank)
        save_element_table(session, bank=bank, part=Part.THEORY, nodes=element_nodes(occ.theory_table),
                           note="演示数据：依据国家职业技能标准编写", actor=DEMO_ACTOR)
        save_element_table(session, bank=bank, part=Part.PRACTICAL, nodes=element_nodes(occ.practical_table),
                           note="演示数据", actor=DEMO_ACTOR)
        theory, enemy_pairs = _theory_items(occ, spec, rng, nrng)
        theory = _add_sets(theory, rng, n_sets=12)
        new = theory + _practical_items(occ, spec, rng)
        if spec.n_defence and occ.defence_table:
            save_element_table(session, bank=bank, part=Part.DEFENCE, nodes=element_nodes(occ.defence_table),
                               note="演示数据", actor=DEMO_ACTOR)
            new += _defence_items(occ, spec, rng)
        add_items(session, bank=bank, items=new, actor=DEMO_ACTOR, state=VersionState.ACCEPTED,
                  reason="demo data: legacy bank accepted by committee")
        n_items += len(new)
        # enemies never include an item paired with a set member of another set: keep it simple
        set_codes = {it.code for it in theory if it.set_code}
        add_enemies(session, bank=bank, pairs=[p for p in enemy_pairs if not set(p) & set_codes][:200],
                    actor=DEMO_ACTOR, reason="demo: items resting on the same statement")
        _usage_history(session, bank=bank, spec=spec, rng=rng, today=today)
    return DemoSummary(banks=tuple(banks), n_items=n_items)


def _usage_history(session: Session, *, bank: BankRef, spec: DemoBankSpec, rng: random.Random, today: date) -> None:
    pool = load_pool(session, bank=bank, part=Part.THEORY)
    objective = [it for it in pool if it.item_type.is_objective and it.irt is not None]
    objective.sort(key=lambda it: it.code)
    prefix = OCCUPATIONS[spec.occupation].prefix
    lvl = int(spec.level)
    for s in range(spec.n_past_sessions):
        used_on = today - timedelta(days=90 * (spec.n_past_sessions - s))
        session_code = f"{used_on.year}-{prefix}{lvl}-S{s + 1:02d}"
        picks = rng.sample(objective, min(200, len(objective)))
        for f, half in enumerate((picks[:100], picks[100:200])):
            if half:
                record_usage(session, version_ids=[it.version_id for it in half],  # type: ignore[misc]
                             paper_code=f"{session_code}-{'AB'[f]}", session_code=session_code,
                             used_on=used_on, actor=DEMO_ACTOR)
    if spec.n_compromised and objective:
        leaked = sorted(it.code for it in rng.sample(objective, spec.n_compromised))
        mark_compromised(session, bank=bank, codes=leaked, actor=DEMO_ACTOR,
                         reason="演示：2025年第3次考试试卷B卷部分试题外泄（事件记录 INC-2025-07）")
