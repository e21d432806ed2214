"""Demo data: realistic banks built deterministically from a seed (``itembank demo``).

Two occupations with element tables: 电工 (technical-skill) with banks at levels 5, 4, 3 and
2 that meet every minimum, and 计算机程序设计员 (knowledge-skill) at level 4, which falls short
(knowledge-skill occupations need as many practical items as theory items, 附件11 第7条).
Items carry plausible Chinese stems, options, keys, element tags, expert ratings, classical
statistics and 3PL parameters; a usage history of past sessions, a few compromised items,
enemy pairs and item sets make assembly realistic. An unfiled occupation is registered too.

Items are distinct: every statement, completion, calculation and task of
``itembank.demo_content`` becomes at most one item of a bank, so no statement is printed twice
and no item gives another's answer away. Calculations of one generator differ only in their
numbers; the bank's own similarity check (``itembank.similarity``) finds them, with anything
else it finds, and the demo records those pairs as enemies, as a bank manager confirming the
similarity report would. Practical tasks get the scoring rubric of their kind (installation,
measurement, fault finding, programming, debugging), each row's deductions within its points.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
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
from itembank.i18n import Message
from itembank.items import NewItem, add_enemies, add_items
from itembank.occupations import create_bank, create_occupation
from itembank.pool import load_pool
from itembank.similarity import build_index, find_matches
from itembank.usage import mark_compromised, record_usage

log = logging.getLogger(__name__)

DEMO_ACTOR = "demo"
LABELS = "ABCDE"
FAMILY_SIZE = 11  # at most this many calculations of one generator in a bank


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
    content: dict[str, str]
    tasks: dict[str, list[tuple[str, str, str]]]
    numeric: dict[str, list[dc.Numeric]]


OCCUPATIONS = {
    "electrician": DemoOccupation(
        code="6-31-01-03", name="电工", category=OccupationCategory.TECHNICAL_SKILL, prefix="DG",
        theory_table=dc.ELECTRICIAN_TABLE, practical_table=dc.ELECTRICIAN_PRACTICAL_TABLE,
        defence_table=dc.ELECTRICIAN_DEFENCE_TABLE, content=dc.ELECTRICIAN_CONTENT,
        tasks=dc.ELECTRICIAN_TASKS, numeric=dc.ELECTRICIAN_NUMERIC,
    ),
    "programmer": DemoOccupation(
        code="4-04-05-01", name="计算机程序设计员", category=OccupationCategory.KNOWLEDGE_SKILL,
        prefix="CX", theory_table=dc.PROGRAMMER_TABLE, practical_table=dc.PROGRAMMER_PRACTICAL_TABLE,
        defence_table=None, content=dc.PROGRAMMER_CONTENT, tasks=dc.PROGRAMMER_TASKS,
        numeric=dc.PROGRAMMER_NUMERIC,
    ),
}

DEFAULT_SPECS: tuple[DemoBankSpec, ...] = (
    DemoBankSpec("electrician", Level.L5, n_theory=1230, n_practical=24),
    DemoBankSpec("electrician", Level.L4, n_theory=1230, n_practical=22),
    DemoBankSpec("electrician", Level.L3, n_theory=1230, n_practical=22),
    DemoBankSpec("electrician", Level.L2, n_theory=1230, n_practical=20, n_defence=12, subjective_share=0.05),
    DemoBankSpec("programmer", Level.L4, n_theory=400, n_practical=30, n_past_sessions=2, n_compromised=0),
)

# Level shifts the expert difficulty rating: higher levels, harder items.
LEVEL_SHIFT = {Level.L5: -0.6, Level.L4: -0.2, Level.L3: 0.2, Level.L2: 0.5, Level.L1: 0.8}
# the share of each objective type a bank aims at (what a paper of the level asks for, and more)
TYPE_SHARES = {ItemType.TRUE_FALSE: 0.24, ItemType.MULTIPLE_CHOICE: 0.14, ItemType.SINGLE_CHOICE: 0.62}


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


def _allocate(total: int, weights: Sequence[float], capacity: Sequence[int] | None = None) -> list[int]:
    """Split ``total`` by ``weights`` (largest remainder), no share above its ``capacity``:
    what a share cannot take goes to the others by their weights.

    Raises
    ------
    ValueError
        The capacities add up to less than ``total``.
    """
    n = len(weights)
    cap = list(capacity) if capacity is not None else [total] * n
    if sum(cap) < total:
        raise ValueError(f"{total} wanted, at most {sum(cap)} available")
    out = [0] * n
    left = total
    open_ = [i for i in range(n) if cap[i] > 0]
    while left > 0 and open_:
        w = [weights[i] if weights[i] > 0 else 1e-6 for i in open_]
        raw = [left * x / sum(w) for x in w]
        base = [int(math.floor(x)) for x in raw]
        rest = left - sum(base)
        order = sorted(range(len(raw)), key=lambda k: (raw[k] - base[k], -k), reverse=True)
        for k in order[:rest]:
            base[k] += 1
        for k, i in enumerate(open_):
            take = min(base[k], cap[i] - out[i])
            out[i] += take
            left -= take
        open_ = [i for i in open_ if out[i] < cap[i]]
    return out


# --------------------------------------------------------------------------------------
# What items are written from


@dataclass
class _Draft:
    item_type: ItemType
    stem: str
    options: tuple[Option, ...] = ()
    key: tuple[str, ...] = ()
    rubric: tuple[RubricPoint, ...] = ()
    analysis: str = ""
    hardness: float = 0.0  # added to the rating
    family: str = ""  # calculations of one generator: never two on one paper
    numeric: bool = False


_ENTRY = re.compile(r"^([TFCMQE])\s+(.+)$")


def parse_content(element: str, block: str) -> list[tuple[str, list[str]]]:
    """The entries of one element's block: (kind, fields). See ``itembank.demo_content``.

    Raises
    ------
    ValueError
        A line that is not an entry, or an entry with the wrong number of fields, named by
        element and line.
    """
    out: list[tuple[str, list[str]]] = []
    for n, line in enumerate(block.strip().splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        m = _ENTRY.match(line)
        if not m:
            raise ValueError(f"demo content {element} line {n}: {line!r} is not 'T|F|C|M|Q|E text'")
        kind, body = m.groups()
        fields = [f.strip() for f in body.split("|")]
        want = {"T": 1, "F": 1, "C": 5, "M": 3, "Q": 5, "E": 6}[kind]
        if len(fields) != want or any(not f for f in fields):
            raise ValueError(f"demo content {element} line {n}: {kind} takes {want} non-empty field(s), "
                             f"got {len(fields)}: {line!r}")
        if kind in "CM" and "（　）" not in fields[0]:
            raise ValueError(f"demo content {element} line {n}: the stem has no blank （　）")
        if kind == "M":
            right, wrong = fields[1].split(";"), fields[2].split(";")
            if not (2 <= len(right) <= 4 and len(right) + len(wrong) == 5):
                raise ValueError(f"demo content {element} line {n}: a multiple choice item takes 2-4 right "
                                 f"and 5 options in all, got {len(right)} + {len(wrong)}")
        out.append((kind, fields))
    return out


def _choice(rng: random.Random, stem: str, correct: str, wrong: Sequence[str], **kw) -> _Draft:  # type: ignore[no-untyped-def]
    opts = [correct, *wrong[:3]]
    rng.shuffle(opts)
    options = tuple(Option(LABELS[i], t) for i, t in enumerate(opts))
    return _Draft(ItemType.SINGLE_CHOICE, stem, options, (LABELS[opts.index(correct)],), **kw)


def _drafts(occ: DemoOccupation, code: str, rng: random.Random) -> dict[str, list[_Draft]]:
    """Every item one element's content allows, by kind: "tf", "single", "multi", "subjective"."""
    out: dict[str, list[_Draft]] = {"tf": [], "single": [], "multi": [], "subjective": []}
    for kind, f in parse_content(code, occ.content.get(code, "")):
        if kind in "TF":
            out["tf"].append(_Draft(ItemType.TRUE_FALSE, f[0] + "。", key=("T" if kind == "T" else "F",),
                                    hardness=-0.1 if kind == "T" else 0.1))
        elif kind == "C":
            out["single"].append(_choice(rng, f[0], f[1], f[2:], hardness=0.4))
        elif kind == "M":
            right, wrong = f[1].split(";"), f[2].split(";")
            opts = right + wrong
            rng.shuffle(opts)
            key = tuple(LABELS[i] for i, o in enumerate(opts) if o in right)
            out["multi"].append(_Draft(ItemType.MULTIPLE_CHOICE, f[0], tuple(Option(LABELS[i], o)
                                                                              for i, o in enumerate(opts)),
                                       key, hardness=1.1))
        else:
            points = f[1:]
            essay = kind == "E"
            # house standard (assembly presets): short answer 5 points, essay 10 points
            weights = [2.0] * 5 if essay else [2.0, 1.0, 1.0, 1.0]
            out["subjective"].append(_Draft(
                ItemType.ESSAY if essay else ItemType.SHORT_ANSWER, f[0],
                rubric=tuple(RubricPoint(p, w, "答出要点得满分，答不全酌情给分") for p, w in zip(points, weights)),
                analysis="参考要点：" + "；".join(points) + "。", hardness=1.2))
    for gen in occ.numeric.get(code, []):
        family = f"{code}:{gen.__name__.strip('_')}"
        seen: set[str] = set()
        variants = []
        for _ in range(12 * FAMILY_SIZE):
            stem, correct, wrong = gen(rng)
            if stem in seen or len(wrong) < 3:
                continue
            seen.add(stem)
            variants.append((stem, correct, wrong))
            if len(variants) == FAMILY_SIZE:
                break
        for k, (stem, correct, wrong) in enumerate(variants):
            if k == len(variants) - 1 and k >= 2:  # the last one: a calculation (levels 二级, 一级)
                out["subjective"].append(_Draft(
                    ItemType.CALCULATION, stem.replace("（　）", "多少").rstrip("。") + "？写出计算过程。",
                    rubric=(RubricPoint("写出正确的计算公式", 2.0, "公式错误不得分"),
                            RubricPoint("代入数据正确", 2.0, "代入错误扣2分"),
                            RubricPoint(f"计算结果正确：{correct}", 1.0, "结果错误不得分；单位错误扣0.5分")),
                    analysis=f"答案：{correct}", hardness=1.4, family=family, numeric=True))
            elif k % 4 == 2:  # a true/false statement with a right or a wrong value
                shown = correct if (k // 4) % 2 == 0 else wrong[0]
                out["tf"].append(_Draft(ItemType.TRUE_FALSE, stem.replace("（　）", shown),
                                        key=("T" if shown == correct else "F",), hardness=0.5, family=family,
                                        numeric=True))
            else:
                out["single"].append(_choice(rng, stem, correct, wrong, hardness=0.9, family=family, numeric=True))
    for lst in out.values():
        rng.shuffle(lst)
    # calculations of one generator spread out: one of each family before the second of any
    out["single"] = _spread(out["single"])
    out["tf"] = _spread(out["tf"])
    return out


def _spread(drafts: list[_Draft]) -> list[_Draft]:
    """Authored items first (mixed with one calculation of each family), then further members
    of each family round by round."""
    rounds: dict[str, int] = {}
    keyed = []
    for i, d in enumerate(drafts):
        r = rounds.get(d.family, 0) if d.family else 0
        if d.family:
            rounds[d.family] = r + 1
        keyed.append((r, i, d))
    return [d for _, _, d in sorted(keyed, key=lambda x: (x[0], x[1]))]


def _pick(lists: dict[str, list[_Draft]], n: int) -> list[_Draft]:
    """``n`` objective drafts of one element, the types near ``TYPE_SHARES`` as far as the
    content allows."""
    by_type = {ItemType.TRUE_FALSE: list(lists["tf"]), ItemType.MULTIPLE_CHOICE: list(lists["multi"]),
               ItemType.SINGLE_CHOICE: list(lists["single"])}
    taken = {t: 0 for t in by_type}
    out: list[_Draft] = []
    while len(out) < n:
        avail = [t for t in by_type if by_type[t]]
        if not avail:
            break
        t = min(avail, key=lambda t: (taken[t] + 1) / TYPE_SHARES[t])
        out.append(by_type[t].pop(0))
        taken[t] += 1
    return out


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


_POINTS = {ItemType.SINGLE_CHOICE: 1.0, ItemType.TRUE_FALSE: 1.0, ItemType.MULTIPLE_CHOICE: 2.0}
_TIME_S = {ItemType.SINGLE_CHOICE: 60.0, ItemType.TRUE_FALSE: 30.0, ItemType.MULTIPLE_CHOICE: 90.0,
           ItemType.SHORT_ANSWER: 420.0, ItemType.CALCULATION: 480.0, ItemType.ESSAY: 900.0}


def _theory_items(occ: DemoOccupation, spec: DemoBankSpec, rng: random.Random,
                  nrng: np.random.Generator) -> tuple[list[NewItem], dict[str, str]]:
    """The bank's theory items, and each calculation's family by item code."""
    leaves = _leaves(occ.theory_table)
    drafts = {code: _drafts(occ, code, rng) for code, *_ in leaves}
    weights = [w for _, _, w, _ in leaves]
    n_subj = int(round(spec.n_theory * spec.subjective_share))
    subj_cap = [len(drafts[c]["subjective"]) for c, *_ in leaves]
    obj_cap = [len(drafts[c]["tf"]) + len(drafts[c]["single"]) + len(drafts[c]["multi"]) for c, *_ in leaves]
    try:
        subj = _allocate(n_subj, weights, subj_cap)
        obj = _allocate(spec.n_theory - n_subj, weights, obj_cap)
    except ValueError as e:
        raise ValueError(f"demo content of {occ.name} cannot fill a bank of {spec.n_theory} theory items "
                         f"({n_subj} subjective): {e}") from None
    items: list[NewItem] = []
    families: dict[str, str] = {}
    seq = 0
    lvl = int(spec.level)
    for (code, _name, _w, _imp), n_obj, n_sub in zip(leaves, obj, subj):
        # written questions (short answer, essay) before calculations: a level 二级 paper asks for them
        subjective = sorted(drafts[code]["subjective"], key=lambda d: d.item_type is ItemType.CALCULATION)
        chosen = _pick(drafts[code], n_obj) + subjective[:n_sub]
        for d in chosen:
            seq += 1
            item_code = f"{occ.prefix}{lvl}-T-{seq:04d}"
            rating = _rating(rng, d.hardness, spec.level)
            points = _POINTS.get(d.item_type, float(sum(r.points for r in d.rubric)) or 5.0)
            irt, stats = _irt_and_stats(nrng, d.item_type, rating, calibrated=rng.random() < 0.85)
            content = ItemContent(
                item_type=d.item_type, stem=d.stem, points=points, element_codes=(code,),
                options=d.options, key=d.key, rubric=d.rubric, analysis=d.analysis or _analysis(d),
                estimated_time_s=_TIME_S[d.item_type], difficulty_rating=rating,
            )
            items.append(NewItem(item_code, content, classical=stats, irt=irt))
            if d.family:
                families[item_code] = d.family
    return items, families


def _analysis(d: _Draft) -> str:
    if d.item_type is ItemType.TRUE_FALSE:
        return "该说法正确。" if d.key == ("T",) else "该说法错误。"
    return f"正确答案为{''.join(d.key)}。"


def similar_pairs(items: Sequence[NewItem]) -> list[tuple[str, str]]:
    """The pairs the bank's similarity check finds among ``items`` (near duplicates and
    cueing): what a bank manager confirms as enemies."""
    index = build_index([(it.code, it.content) for it in items])
    return [m.pair for m in find_matches(index)]


# --------------------------------------------------------------------------------------
# Practical tasks: one rubric per kind of task. Each row: (scoring point, share of the task's
# points, deduction rule). A rule's "{a}" is filled with a deduction of about that share of
# the row's points (never more than the row), "{row}" with the row's points.

RUBRICS: dict[str, tuple[tuple[str, float, str], ...]] = {
    dc.INSTALL: (
        ("元件检查与选用", 0.10, "元件漏检或错检每只扣{a:0.2}分，扣完为止"),
        ("元件安装", 0.15, "元件安装不牢固每只扣{a:0.2}分；布置不合理扣{a:0.3}分，扣完为止"),
        ("布线与接线", 0.35, "不按图接线每处扣{a:0.3}分；布线不规范、压线松动每处扣{a:0.1}分；"
                            "损伤导线绝缘每处扣{a:0.1}分，扣完为止"),
        ("通电试验", 0.25, "第一次试验不成功扣{a:0.5}分，第二次试验不成功扣{row}分"),
        ("安全文明生产", 0.10, "违反安全操作规程每次扣{a:0.5}分；工位不整洁扣{a:0.2}分；发生触电或设备事故本题记0分"),
        ("考核时间", 0.05, "在规定时间内完成；每超时5分钟扣{a:0.5}分，扣完为止"),
    ),
    dc.MEASURE: (
        ("仪表选择", 0.15, "仪表或量程选择错误每次扣{a:0.3}分，扣完为止"),
        ("使用前检查与调零", 0.15, "未检查仪表或未调零每项扣{a:0.5}分"),
        ("测量接线与操作", 0.35, "接线方法错误每处扣{a:0.3}分；操作不规范每次扣{a:0.1}分，扣完为止"),
        ("读数与记录", 0.20, "读数错误每处扣{a:0.3}分；记录不完整扣{a:0.2}分，扣完为止"),
        ("结果分析", 0.10, "结论错误扣{row}分；结论不完整扣{a:0.5}分"),
        ("安全文明生产", 0.05, "违反安全操作规程扣{row}分；损坏仪表本题记0分"),
    ),
    dc.FAULT: (
        ("故障现象观察", 0.15, "未通电观察故障现象扣{a:0.5}分；现象描述错误扣{a:0.5}分"),
        ("故障分析", 0.20, "故障范围判断错误每处扣{a:0.5}分"),
        ("故障查找", 0.25, "查找方法不正确扣{a:0.4}分；每少查出一处故障扣{a:0.5}分"),
        ("故障排除", 0.25, "每少排除一处故障扣{a:0.5}分；排除中扩大故障每处扣{a:0.5}分"),
        ("通电试验", 0.05, "排除后通电试验不成功扣{row}分"),
        ("安全文明生产", 0.10, "带电查找故障未采取安全措施扣{a:0.5}分；发生触电或设备事故本题记0分"),
    ),
    dc.PROGRAM: (
        ("需求分析与程序设计", 0.20, "算法设计不合理扣{a:0.5}分；数据结构选择不当扣{a:0.3}分"),
        ("代码编写", 0.35, "每缺少一项功能扣{a:0.3}分；代码存在明显逻辑错误每处扣{a:0.2}分，扣完为止"),
        ("编译与运行", 0.20, "不能编译运行扣{row}分；运行结果错误每处扣{a:0.3}分，扣完为止"),
        ("代码规范与注释", 0.15, "命名不规范扣{a:0.3}分；缺少必要注释扣{a:0.3}分"),
        ("提交与说明", 0.10, "未按要求提交源程序扣{a:0.5}分；缺少运行说明扣{a:0.5}分"),
    ),
    dc.DEBUG: (
        ("错误定位", 0.30, "每少找出一处错误扣{a:0.33}分"),
        ("错误修正", 0.30, "每少修正一处错误扣{a:0.33}分；修正引入新错误每处扣{a:0.2}分，扣完为止"),
        ("测试用例设计与执行", 0.25, "测试用例未覆盖主要情况扣{a:0.4}分；未执行测试扣{a:0.6}分"),
        ("调试与测试记录", 0.15, "记录不完整扣{a:0.5}分；缺少结论扣{a:0.5}分"),
    ),
}

_RULE_FIELD = re.compile(r"\{(a:[0-9.]+|row)\}")


def rubric_for(kind: str, points: float) -> tuple[RubricPoint, ...]:
    """The scoring rubric of a practical task of ``kind`` worth ``points``: rows add up to
    ``points`` (halves), and no deduction named in a row exceeds the row's points."""
    rows = RUBRICS[kind]
    raw = [points * share for _, share, _ in rows]
    row_points = [max(0.5, round(x * 2) / 2) for x in raw]
    row_points[int(np.argmax(row_points))] += points - sum(row_points)  # the rounding goes to the largest row

    def fill(rule: str, row: float) -> str:
        def one(m: re.Match[str]) -> str:
            if m.group(1) == "row":
                return _fmt_points(row)
            share = float(m.group(1)[2:])
            return _fmt_points(min(row, max(0.5, round(row * share * 2) / 2)))

        return _RULE_FIELD.sub(one, rule)

    return tuple(RubricPoint(desc, p, fill(rule, p)) for (desc, _s, rule), p in zip(rows, row_points))


def _fmt_points(x: float) -> str:
    return str(int(x)) if abs(x - round(x)) < 1e-9 else f"{x:g}"


def _practical_items(occ: DemoOccupation, spec: DemoBankSpec, rng: random.Random) -> list[NewItem]:
    leaves = _leaves(occ.practical_table)
    caps = [len(occ.tasks.get(code, [])) for code, *_ in leaves]
    try:
        counts = _allocate(spec.n_practical, [w for _, _, w, _ in leaves], caps)
    except ValueError as e:
        raise ValueError(f"demo content of {occ.name} cannot fill {spec.n_practical} practical tasks: {e}") from None
    scope_points = {c: w for c, p, n, w, imp in occ.practical_table if p == occ.practical_table[0][0]}
    parent_of = {c: p for c, p, *_ in occ.practical_table}
    items: list[NewItem] = []
    seq = 0
    lvl = int(spec.level)
    for (code, _name, _w, _imp), n in zip(leaves, counts):
        tasks = list(occ.tasks.get(code, []))
        rng.shuffle(tasks)
        scope = parent_of[code] if parent_of[code] in scope_points else code
        # papers of 3 tasks (levels 5, 4) take one task per scope, worth the scope's weight;
        # papers of 4 tasks (levels 3-1) take tasks of 25 points (house standard, 100 in all)
        points = float(scope_points.get(scope, 30.0)) if spec.level in (Level.L5, Level.L4) else 25.0
        for title, materials, kind in tasks[:n]:
            # each task's own time (附件2), mostly an hour: papers of 3 tasks (levels 5, 4) add up to the
            # standard 180 min, of 4 tasks to 240 min (assembly.presets.STANDARD_PRACTICAL_TIME_S)
            minutes = rng.choices([30, 60, 90] if spec.level in (Level.L5, Level.L4) else [45, 60, 75],
                                  weights=[1, 3, 1])[0]
            seq += 1
            content = ItemContent(
                item_type=ItemType.PRACTICAL_TASK,
                stem=f"{title}。要求：按考场提供的图纸和资料完成，操作过程符合安全规范。",
                points=points, element_codes=(code,), rubric=rubric_for(kind, points),
                time_limit_min=float(minutes), equipment=materials,
                estimated_time_s=float(minutes * 60),
                difficulty_rating=_rating(rng, 0.5, spec.level),
                analysis="评分时由3名以上考评员按评分标准独立评分，取平均分。",
            )
            items.append(NewItem(f"{occ.prefix}{lvl}-P-{seq:03d}", content))
    return items


def _defence_items(occ: DemoOccupation, spec: DemoBankSpec, rng: random.Random) -> list[NewItem]:
    assert occ.defence_table is not None
    leaves = _leaves(occ.defence_table)
    caps = [len(dc.ELECTRICIAN_DEFENCE_TOPICS.get(code, [])) for code, *_ in leaves]
    try:
        counts = _allocate(spec.n_defence, [w for _, _, w, _ in leaves], caps)
    except ValueError as e:
        raise ValueError(f"demo content of {occ.name} cannot fill {spec.n_defence} defence topics: {e}") from None
    items: list[NewItem] = []
    seq = 0
    lvl = int(spec.level)
    for (code, _name, _w, _imp), n in zip(leaves, counts):
        for topic in dc.ELECTRICIAN_DEFENCE_TOPICS[code][:n]:
            seq += 1
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


def _add_sets(items: list[NewItem], rng: random.Random, n_sets: int, enemies: set[tuple[str, str]]) -> list[NewItem]:
    """Group hard single-choice items of one element, no two enemies, into sets of three taken
    whole (a case)."""
    by_elem: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        if it.content.item_type is ItemType.SINGLE_CHOICE and it.content.difficulty_rating >= 3:
            by_elem.setdefault(it.content.element_codes[0], []).append(i)
    out = list(items)
    made = 0
    for elem in sorted(by_elem):
        idx = by_elem[elem]
        rng.shuffle(idx)
        group: list[int] = []
        k = 0
        for i in idx:
            if made >= n_sets:
                return out
            if any(tuple(sorted((out[i].code, out[j].code))) in enemies for j in group):
                continue
            group.append(i)
            if len(group) == 3:
                k += 1
                set_code = f"SET-{elem}-{k:02d}"
                for j in group:
                    it = out[j]
                    out[j] = NewItem(it.code, it.content, set_code=set_code, classical=it.classical, irt=it.irt)
                made += 1
                group = []
    return out


# --------------------------------------------------------------------------------------
# Building


def build_demo(
    session: Session, *, seed: int = 20261128, specs: tuple[DemoBankSpec, ...] = DEFAULT_SPECS,
    today: date | None = None,
) -> DemoSummary:
    """Create the demo occupations, element tables, banks, items, usage history. Deterministic
    for a given seed (and ``today``, which dates the past sessions).

    Raises
    ------
    ValueError
        A spec asks for more items than the demo content holds distinct ones.
    """
    today = today or date(2026, 11, 1)
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    banks: list[BankRef] = []
    n_items = 0
    for key in sorted({s.occupation for s in specs}):
        occ = OCCUPATIONS[key]
        create_occupation(session, code=occ.code, name=occ.name, category=occ.category)
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
        theory, _families = _theory_items(occ, spec, rng, nrng)
        practical = _practical_items(occ, spec, rng)
        # what the bank's similarity check finds, confirmed: enemies (calculations of one
        # generator and anything else alike)
        pairs = similar_pairs(theory) + similar_pairs(practical)
        theory = _add_sets(theory, rng, n_sets=12, enemies=set(pairs))
        new = theory + practical
        if spec.n_defence and occ.defence_table:
            save_element_table(session, bank=bank, part=Part.DEFENCE, nodes=element_nodes(occ.defence_table),
                               note="演示数据", actor=DEMO_ACTOR)
            new += _defence_items(occ, spec, rng)
        add_items(session, bank=bank, items=new, actor=DEMO_ACTOR, state=VersionState.ACCEPTED,
                  reason=Message("demo data: a bank accepted earlier by a committee"))
        n_items += len(new)
        if pairs:
            add_enemies(session, bank=bank, pairs=pairs, actor=DEMO_ACTOR,
                        reason="演示：相似题检测发现的题对，已确认为互斥题")
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
