"""Near-duplicate and cueing detection at bank scale (``itembank.similarity``).

What it measures, on a synthetic bank of 100,000 items whose texts follow the character
statistics of the demo content (a first-order Markov chain over its characters), with planted
pairs:

- the whole comparison (index the bank, then every near-duplicate and cueing pair), against the
  60 s the issue allows;
- one new item against the indexed bank (median and 95th percentile over 300 items), against
  50 ms;
- precision and recall on the planted pairs: 1,000 near duplicates (a copy with one to three
  characters changed, options reordered, punctuation changed) and 500 cueing pairs (a
  true/false item stating a choice item's key, slightly reworded);
- beside it, the brute-force baseline on a subsample (every pair's Jaccard index with Python
  sets), timed and extrapolated to the whole bank, and the pairs both find on the subsample
  (the index is exact: the sets must agree).

Run: ``python bench/similarity.py [--items 100000] [--seed 7]`` (no database). Figures measured
here (2 shared cores, seed 7): the whole comparison in 25.4 s wall (index 9.2 s + all pairs
16.2 s; limit 60 s); one new item in 3.0 ms median, 7.9 ms p95 (limit 50 ms); recall 0.968 on
the planted near duplicates (the 32 missed fall below the 0.6 threshold: three characters
changed in a short item) and 0.976 on the planted cueing pairs; precision 0.893 counted as
"planted / found" — every pair found is above the threshold by a brute-force check, the others
are the synthetic text's own coincidences; brute force extrapolated to 1.5 h, agreeing with the
index on its subsample.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from itembank import demo_content as dc  # noqa: E402
from itembank.domain import ItemContent, ItemType, Option  # noqa: E402
from itembank.similarity import (  # noqa: E402
    DEFAULT_CONFIG,
    SHINGLE,
    MatchKind,
    build_index,
    find_matches,
    match_items,
    near_duplicate_pairs,
    normalize,
)

LABELS = "ABCD"


class Chain:
    """First-order Markov chain over the characters of the demo content."""

    def __init__(self, texts: list[str]) -> None:
        nxt: dict[str, list[str]] = defaultdict(list)
        starts = []
        for t in texts:
            t = t.strip()
            if len(t) < 4:
                continue
            starts.append(t[0])
            for a, b in zip(t, t[1:]):
                nxt[a].append(b)
        self.next = {k: v for k, v in nxt.items()}
        self.starts = starts

    def text(self, rng: random.Random, n: int) -> str:
        c = rng.choice(self.starts)
        out = [c]
        while len(out) < n:
            options = self.next.get(c)
            c = rng.choice(options) if options else rng.choice(self.starts)
            out.append(c)
        return "".join(out)


def corpus() -> list[str]:
    texts = []
    for content in (dc.ELECTRICIAN_CONTENT, dc.PROGRAMMER_CONTENT):
        for block in content.values():
            for line in block.strip().splitlines():
                texts += [f for f in line[2:].replace(";", "|").split("|") if f]
    return texts


def make_item(chain: Chain, rng: random.Random) -> ItemContent:
    if rng.random() < 0.25:
        return ItemContent(ItemType.TRUE_FALSE, chain.text(rng, rng.randint(12, 30)) + "。", 1.0, ("A",),
                           key=(rng.choice("TF"),))
    opts = tuple(Option(LABELS[i], chain.text(rng, rng.randint(4, 16))) for i in range(4))
    return ItemContent(ItemType.SINGLE_CHOICE, chain.text(rng, rng.randint(12, 30)) + "（　）。", 1.0, ("A",),
                       options=opts, key=(rng.choice(LABELS),))


def jaccard(a: str, b: str) -> float:
    """Shingle Jaccard of two texts after normalisation, by Python sets (the measure checked)."""
    def grams(t: str) -> set[str]:
        return {t[i:i + SHINGLE] for i in range(len(t) - SHINGLE + 1)} or {t}

    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def perturb(text: str, chain: Chain, rng: random.Random, n: int) -> str:
    chars = list(text)
    for _ in range(n):
        i = rng.randrange(len(chars))
        chars[i] = rng.choice(chain.starts)
    return "".join(chars).replace("，", ",")


def near_copy(c: ItemContent, chain: Chain, rng: random.Random) -> ItemContent:
    """The item reworded: one character in twenty of the stem changed (at least one),
    punctuation changed, options in another order."""
    stem = perturb(c.stem, chain, rng, max(1, round(len(c.stem) / 20)))
    opts = list(c.options)
    rng.shuffle(opts)
    options = tuple(Option(LABELS[i], o.text) for i, o in enumerate(opts))
    key = tuple(LABELS[[o.text for o in opts].index(next(x.text for x in c.options if x.label == k))] for k in c.key) \
        if c.options else c.key
    return ItemContent(c.item_type, stem, c.points, c.element_codes, options=options, key=key)


def cue_pair(chain: Chain, rng: random.Random) -> tuple[ItemContent, ItemContent]:
    """A choice item whose key is a statement, and a true/false item stating it word for word
    (half of them) or with one character changed, punctuation changed (the case of the issue:
    true/false item 1 is word for word option C of item 21)."""
    statement = chain.text(rng, rng.randint(15, 28))
    opts = [statement] + [chain.text(rng, rng.randint(10, 20)) for _ in range(3)]
    rng.shuffle(opts)
    choice = ItemContent(ItemType.SINGLE_CHOICE, chain.text(rng, rng.randint(12, 24)) + "，正确的是（　）。", 1.0,
                         ("A",), options=tuple(Option(LABELS[i], t) for i, t in enumerate(opts)),
                         key=(LABELS[opts.index(statement)],))
    stated = perturb(statement, chain, rng, rng.randint(0, 1)) + "。"
    return choice, ItemContent(ItemType.TRUE_FALSE, stated, 1.0, ("A",), key=("T",))


def brute_force(items: list[tuple[str, ItemContent]]) -> tuple[set[tuple[str, str]], float]:
    """Every pair's Jaccard index of the whole texts (near duplicates only), with Python sets."""
    t0 = time.perf_counter()
    sets = []
    for code, c in items:
        s = normalize(" ".join([c.stem, *(o.text for o in c.options)]), fold_digits=True)
        sets.append((code, {s[i:i + SHINGLE] for i in range(len(s) - SHINGLE + 1)} or {s}))
    found = set()
    t = DEFAULT_CONFIG.near_duplicate
    for i in range(len(sets)):
        ci, si = sets[i]
        for j in range(i + 1, len(sets)):
            cj, sj = sets[j]
            inter = len(si & sj)
            if inter and inter / (len(si) + len(sj) - inter) >= t - 1e-9:
                found.add(tuple(sorted((ci, cj))))
    return found, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--subsample", type=int, default=2_500, help="items compared by brute force")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    chain = Chain(corpus())
    n_near, n_cue = min(1000, args.items // 50), min(500, args.items // 100)
    base = args.items - n_near - n_cue
    items = [(f"I{k:06d}", make_item(chain, rng)) for k in range(base)]
    planted: dict[tuple[str, str], str] = {}
    picks = rng.sample(range(base), n_near + n_cue)  # distinct: a near copy's source is never replaced
    for k in picks[:n_near]:
        code = f"N{k:06d}"
        items.append((code, near_copy(items[k][1], chain, rng)))
        planted[tuple(sorted((items[k][0], code)))] = "near_duplicate"
    for k in picks[n_near:]:  # the choice item replaces a random one
        choice, tf = cue_pair(chain, rng)
        items[k] = (items[k][0], choice)
        code = f"Q{k:06d}"
        items.append((code, tf))
        planted[tuple(sorted((items[k][0], code)))] = "cueing"
    print(f"bank: {len(items):,} items ({base:,} random, {n_near} near duplicates and {n_cue} cueing items planted)")

    t0, c0 = time.perf_counter(), time.process_time()
    index = build_index(items)
    t1, c1 = time.perf_counter(), time.process_time()
    matches = find_matches(index)
    t2, c2 = time.perf_counter(), time.process_time()
    found = {m.pair: m for m in matches}
    hit_near = sum(1 for p, k in planted.items() if k == "near_duplicate" and p in found)
    hit_cue = sum(1 for p, k in planted.items() if k == "cueing" and p in found
                  and found[p].kind is MatchKind.STATEMENT_IS_KEY)
    precision = sum(1 for p in found if p in planted) / max(len(found), 1)
    # every reported pair re-checked with Python sets on the texts that matched
    confirmed = 0
    for m in found.values():
        e = m.evidence[0]
        fold = e.place_a == "item"
        t = DEFAULT_CONFIG.near_duplicate if fold else DEFAULT_CONFIG.cueing
        confirmed += jaccard(normalize(e.text_a, fold_digits=fold), normalize(e.text_b, fold_digits=fold)) >= t - 1e-9
    codes = dict(items)
    planted_j = sorted(jaccard(normalize(" ".join([codes[a].stem, *(o.text for o in codes[a].options)]), fold_digits=True),
                               normalize(" ".join([codes[b].stem, *(o.text for o in codes[b].options)]), fold_digits=True))
                       for (a, b), k in planted.items() if k == "near_duplicate")
    print(f"whole comparison: index {t1 - t0:.1f} s + all pairs {t2 - t1:.1f} s = {t2 - t0:.1f} s wall, "
          f"{c2 - c0:.1f} s CPU (limit 60 s): {len(found):,} pairs")
    print(f"  recall: near duplicates {hit_near}/{n_near} = {hit_near / max(n_near, 1):.3f} (their similarity: "
          f"min {planted_j[0]:.2f}, median {statistics.median(planted_j):.2f}; threshold "
          f"{DEFAULT_CONFIG.near_duplicate}), cueing {hit_cue}/{n_cue} = {hit_cue / max(n_cue, 1):.3f}")
    print(f"  precision: {precision:.3f} of the pairs found are planted; {confirmed}/{len(found)} are above the "
          f"threshold by a brute-force check (the rest of the synthetic text's own coincidences)")

    new = [make_item(chain, rng) for _ in range(300)] + [near_copy(items[k][1], chain, rng) for k in range(20)]
    times, cpu = [], []
    for c in new:
        q0, p0 = time.perf_counter(), time.process_time()
        match_items(index, c)
        times.append((time.perf_counter() - q0) * 1000)
        cpu.append((time.process_time() - p0) * 1000)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"one new item against the bank: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms wall "
          f"(median {statistics.median(cpu):.1f} ms CPU) (limit 50 ms)")

    sub = items[: args.subsample] + [it for it in items[base:] if int(it[0][1:]) < args.subsample]
    bf_pairs, bf_s = brute_force(sub)
    s0 = time.perf_counter()
    sub_index = build_index(sub)
    ix_pairs = {tuple(sorted((sub_index.codes[x], sub_index.codes[y]))) for x, y, _ in near_duplicate_pairs(sub_index)}
    s_ix = time.perf_counter() - s0
    scale = (len(items) / len(sub)) ** 2
    print(f"baseline, brute force on {len(sub):,} items: {bf_s:.1f} s (index: {s_ix:.2f} s); "
          f"extrapolated to {len(items):,} items: {bf_s * scale / 3600:.1f} h")
    print(f"  near-duplicate pairs on the subsample: brute force {len(bf_pairs)}, index {len(ix_pairs)}, "
          f"agree: {bf_pairs == ix_pairs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
