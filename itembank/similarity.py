"""Near-duplicate and cueing detection over a bank's items (pure: no database).

An exam office sends a paper back as 题目雷同 when two of its items are the same question, or
when one item shows what another asks: a true/false statement that is word for word the key
of a choice item, a choice stem filled with its key that another item states. This module
finds both, for a whole bank at once and for one item against a bank:

- **near duplicates**: the item's whole text (stem and options) against every other item's.
  Digits are folded (``220V`` and ``380V`` read alike), so that parametric clones of one
  calculation count as near duplicates of each other.
- **cueing**: every statement an item shows (its stem, each option) against every other
  item's answers (a choice item's key options, its stem completed with the key, a true
  statement of a true/false item) and, for a stem, against the other item's options.
  Statements shorter than ``min_statement_chars`` (a term, a number) are not compared: a
  short option such as ``短路``, ``跨步电压触电`` or ``50Hz`` is no give-away.

Similarity is the Jaccard index of the texts' character bigram sets after normalisation
(NFKC, lower case, no punctuation or spaces): Chinese has no word boundaries, and character
n-grams are the usual unit for Chinese near-duplicate detection (Manning, Raghavan & Schütze,
*Introduction to Information Retrieval*, 2008, §19.6 on shingling; bigrams for Chinese,
Nie et al. 2000, "On the use of words and n-grams for Chinese information retrieval").

The join is exact (no false negatives at the threshold): prefix filtering (Chaudhuri, Ganti
& Kaushik 2006; Bayardo, Ma & Srikant 2007, "Scaling up all pairs similarity search").
Tokens are ordered rarest first; a set of size s indexes only its first ``s - ceil(t·s) + 1``
tokens, and two sets with Jaccard >= t always share one of those. Candidates are the pairs
sharing a prefix token (one sparse product), each verified with the exact overlap. Equal
token sets are joined once. ``bench/similarity.py`` measures it on 100,000 items against a
brute-force baseline.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from itembank.domain import ItemContent, ItemType

IntArray = npt.NDArray[np.int64]

__all__ = [
    "DEFAULT_CONFIG", "Evidence", "Facet", "Match", "MatchKind", "SimilarityConfig", "SimilarityIndex",
    "build_index", "find_matches", "item_facets", "match_items", "normalize",
]


@dataclass(frozen=True, slots=True)
class SimilarityConfig:
    """Thresholds (Jaccard of character bigram sets, 0..1) and the shortest statement compared.

    near_duplicate
        Whole items (stem and options, digits folded) at least this similar are near duplicates.
    cueing
        A statement one item shows and another item's answer (or option) at least this similar.
    min_statement_chars
        Statements shorter than this (after normalisation, counting a Chinese character, a
        Latin word or a number as one) are not compared.
    """

    near_duplicate: float = 0.6
    cueing: float = 0.75
    min_statement_chars: int = 8

    def __post_init__(self) -> None:
        for name in ("near_duplicate", "cueing"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} threshold must be in (0, 1], got {value!r}")
        if self.min_statement_chars < 1:
            raise ValueError(f"min_statement_chars must be >= 1, got {self.min_statement_chars!r}")


DEFAULT_CONFIG = SimilarityConfig()


class MatchKind(str, enum.Enum):
    """Why two items may not share a paper, strongest first."""

    STATEMENT_IS_KEY = "statement_is_key"  # a text one item shows is the other item's answer
    NEAR_DUPLICATE = "near_duplicate"  # the two items are (nearly) the same question
    STATEMENT_IS_OPTION = "statement_is_option"  # one item's statement is an option of the other

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {MatchKind.STATEMENT_IS_KEY: 0, MatchKind.NEAR_DUPLICATE: 1, MatchKind.STATEMENT_IS_OPTION: 2}

# roles of a facet (bit flags)
STATEMENT = 1  # a statement printed on the paper: a true/false stem, an option
QUESTION = 2  # a question printed on the paper: the stem of any other item
ANSWER = 4  # what the item asks for: a key option, the stem completed with the key, a true statement
STEM = 8  # the item's stem


@dataclass(frozen=True, slots=True)
class Facet:
    """One text of an item: its stem, an option, or its answer statement.

    ``place`` is ``"stem"``, ``"option"`` (``label`` the letter), ``"key"`` (a key option,
    ``label`` the letter) or ``"answer"`` (the stem completed with the key)."""

    place: str
    label: str
    text: str
    roles: int


@dataclass(frozen=True, slots=True)
class Evidence:
    """The two texts that matched: ``place_a`` / ``text_a`` of item a, ``place_b`` / ``text_b``
    of item b (places as in :class:`Facet`, ``"item"`` for the whole item)."""

    place_a: str
    label_a: str
    text_a: str
    place_b: str
    label_b: str
    text_b: str
    score: float


@dataclass(frozen=True, slots=True)
class Match:
    """Two items that should not share a paper: ``code_a < code_b``, the strongest kind found,
    its similarity (0..1) and up to three pieces of evidence, strongest first."""

    code_a: str
    code_b: str
    kind: MatchKind
    score: float
    evidence: tuple[Evidence, ...] = field(default=())

    @property
    def pair(self) -> tuple[str, str]:
        return (self.code_a, self.code_b)


# --------------------------------------------------------------------------------------
# Text


def _drop_table() -> dict[int, None]:
    """Punctuation, separators and control characters of the BMP: dropped by ``normalize``."""
    drop = {}
    for cp in range(0x10000):
        cat = unicodedata.category(chr(cp))
        if cat[0] in "PZC":
            drop[cp] = None
    return drop


_DROP = _drop_table()
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_UNITS = re.compile(r"[a-z]+|\d+(?:\.\d+)?|.")
_BLANK = re.compile(r"[（(][\s\u3000]*[）)]|_{2,}|＿{2,}")


def normalize(text: str, *, fold_digits: bool = False) -> str:
    """NFKC, lower case, without punctuation, spaces and blanks; digit runs become ``#``
    when ``fold_digits``. ``"TN-S系统中，保护线（PE）…。"`` -> ``"tns系统中保护线pe…"``."""
    t = unicodedata.normalize("NFKC", text).lower()
    if fold_digits:
        t = _DIGITS.sub("#", t)
    return t.translate(_DROP)


def statement_length(normalized: str) -> int:
    """Length of a normalised text in reading units: a Chinese character, a Latin word or a
    number each count one (``continue`` and ``10100000`` are one unit, not eight)."""
    return len(_UNITS.findall(normalized))


def _is_true(key: Sequence[str]) -> bool:
    return bool(key) and key[0].strip().upper() in ("T", "TRUE", "√", "对", "正确", "Y")


def _fill(stem: str, answers: Sequence[str]) -> str | None:
    """The stem with its blanks filled by ``answers`` in order; None without a blank."""
    if not _BLANK.search(stem):
        return None
    it = iter(answers)
    return _BLANK.sub(lambda _m: next(it, ""), stem)


def item_facets(content: ItemContent) -> list[Facet]:
    """The texts of an item that cueing compares: what it shows and what it asks for."""
    t = content.item_type
    stem = content.stem
    out: list[Facet] = []
    if t is ItemType.TRUE_FALSE:
        out.append(Facet("stem", "", stem, STATEMENT | STEM | (ANSWER if _is_true(content.key) else 0)))
    elif t.has_options:
        out.append(Facet("stem", "", stem, QUESTION | STEM))
        keys = {k.strip() for k in content.key}
        key_texts = []
        for o in content.options:
            is_key = o.label in keys
            out.append(Facet("key" if is_key else "option", o.label, o.text, STATEMENT | (ANSWER if is_key else 0)))
            if is_key:
                key_texts.append(o.text)
        if len(key_texts) == 1:
            filled = _fill(stem, key_texts)
            if filled is not None:
                out.append(Facet("answer", "", filled, ANSWER))
    elif t is ItemType.FILL_IN:
        out.append(Facet("stem", "", stem, QUESTION | STEM))
        filled = _fill(stem, list(content.key))
        if filled is not None and content.key:
            out.append(Facet("answer", "", filled, ANSWER))
    else:
        out.append(Facet("stem", "", stem, QUESTION | STEM))
    return out


def whole_text(content: ItemContent) -> str:
    """The item as one text for near-duplicate comparison: stem and option texts."""
    return " ".join([content.stem, *(o.text for o in content.options)])


# --------------------------------------------------------------------------------------
# Token sets


_BIG = np.int64(1 << 21)


def _bigram_codes(texts: Sequence[str]) -> tuple[IntArray, IntArray]:
    """(doc index, bigram code) of every character bigram of every text; a one-character text
    is its single character. Codes are exact (two code points), not hashes."""
    lengths = np.fromiter((len(s) for s in texts), dtype=np.int64, count=len(texts))
    if lengths.sum() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    doc_of_char = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    # a bigram at position i when i + 1 is still in the same text
    ok = doc_of_char[:-1] == doc_of_char[1:]
    docs = doc_of_char[:-1][ok]
    codes = cps[:-1][ok] * _BIG + cps[1:][ok] + 1
    single = np.flatnonzero(lengths == 1)
    if single.size:
        docs = np.concatenate([docs, single])
        codes = np.concatenate([codes, cps[starts[single]] * _BIG])
    return docs, codes


@dataclass(frozen=True, slots=True, eq=False)
class _SetJoin:
    """Token sets of many texts with a prefix-filter index for one Jaccard threshold.

    Equal token sets are stored once (``rep_of`` maps every text to its representative;
    ``members`` lists each representative's texts). ``A`` (n_reps x n_tokens) holds the sets,
    ``P`` only each set's prefix (csc: posting lists); ``rank`` orders tokens rarest first."""

    threshold: float
    vocab: IntArray  # sorted bigram codes
    rank: IntArray  # (n_tokens,) position of each token in the global order
    sizes: IntArray  # (n_reps,)
    A: sp.csr_matrix
    P: sp.csc_matrix
    rep_of: IntArray  # (n_texts,)
    member_order: IntArray  # texts sorted by representative
    member_starts: IntArray  # (n_reps + 1,)

    def members(self, rep: int) -> IntArray:
        return self.member_order[self.member_starts[rep]:self.member_starts[rep + 1]]


def _prefix_length(sizes: IntArray, t: float) -> IntArray:
    return sizes - np.ceil(t * sizes - 1e-9).astype(np.int64) + 1


def _build_join(texts: Sequence[str], threshold: float) -> _SetJoin:
    n = len(texts)
    docs, codes = _bigram_codes(texts)
    vocab, tok = np.unique(codes, return_inverse=True)
    V = max(int(vocab.size), 1)
    key = np.unique(docs * V + tok.astype(np.int64))
    docs, tok = key // V, key % V
    sizes_all = np.bincount(docs, minlength=n).astype(np.int64)
    # equal sets once: a random 64-bit value per token, summed per text, with the size
    rnd = np.random.default_rng(0x51A).integers(0, np.iinfo(np.int64).max, size=V, dtype=np.int64)
    h = np.zeros(n, dtype=np.int64)
    with np.errstate(over="ignore"):
        np.add.at(h, docs, rnd[tok])
    sig = np.stack([h, sizes_all], axis=1)
    _, first, rep_of = np.unique(sig, axis=0, return_index=True, return_inverse=True)
    rep_of = rep_of.reshape(-1).astype(np.int64)
    n_reps = first.size
    keep = docs == first[rep_of[docs]]  # the tokens of the first text of each set
    r_docs, r_tok = rep_of[docs[keep]], tok[keep]
    sizes = np.bincount(r_docs, minlength=n_reps).astype(np.int64)
    A = sp.csr_matrix((np.ones(r_docs.size, dtype=np.float32), (r_docs, r_tok)), shape=(n_reps, V))
    A.sort_indices()
    df = np.bincount(r_tok, minlength=V)
    order = np.lexsort((np.arange(V), df))  # rarest first, ties by code
    rank = np.empty(V, dtype=np.int64)
    rank[order] = np.arange(V, dtype=np.int64)
    # each set's prefix: its first s - ceil(t s) + 1 tokens in that order
    by = np.lexsort((rank[r_tok], r_docs))
    sd, st = r_docs[by], r_tok[by]
    starts = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    pos = np.arange(sd.size, dtype=np.int64) - starts[sd]
    pre = pos < _prefix_length(sizes, threshold)[sd]
    P = sp.csc_matrix((np.ones(int(pre.sum()), dtype=np.float32), (sd[pre], st[pre])), shape=(n_reps, V))
    member_order = np.argsort(rep_of, kind="stable").astype(np.int64)
    member_starts = np.concatenate([[0], np.cumsum(np.bincount(rep_of, minlength=n_reps))]).astype(np.int64)
    return _SetJoin(threshold, vocab, rank, sizes, A, P, rep_of, member_order, member_starts)


def _overlaps(A: sp.csr_matrix, I: IntArray, J: IntArray, chunk: int = 200_000) -> IntArray:
    out = np.empty(I.size, dtype=np.int64)
    for s in range(0, I.size, chunk):
        a, b = A[I[s:s + chunk]], A[J[s:s + chunk]]
        out[s:s + chunk] = np.asarray(a.multiply(b).sum(axis=1)).ravel().astype(np.int64)
    return out


def _self_join(j: _SetJoin, *, eligible: npt.NDArray[np.bool_] | None = None) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
    """All pairs of representatives (i < j) with Jaccard >= threshold, and their scores.
    ``eligible`` (n_reps,) leaves sets out (too short to compare)."""
    P = j.P.tocsr()
    if eligible is not None:
        P = sp.diags(eligible.astype(np.float32)) @ P
    C = sp.triu(P @ P.T, k=1).tocoo()
    I, J = C.row.astype(np.int64), C.col.astype(np.int64)
    si, sj = j.sizes[I], j.sizes[J]
    t = j.threshold
    ok = (np.minimum(si, sj) >= t * np.maximum(si, sj) - 1e-9)
    I, J, si, sj = I[ok], J[ok], si[ok], sj[ok]
    o = _overlaps(j.A, I, J)
    score = o / np.maximum(si + sj - o, 1)
    ok = score >= t - 1e-9
    return I[ok], J[ok], score[ok]


def _query(j: _SetJoin, text: str, *, eligible: npt.NDArray[np.bool_] | None = None) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Representatives with Jaccard >= threshold to ``text`` (already normalised)."""
    _, codes = _bigram_codes([text])
    codes = np.unique(codes)
    if codes.size == 0 or j.vocab.size == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    pos = np.searchsorted(j.vocab, codes)
    pos = np.minimum(pos, j.vocab.size - 1)
    known = j.vocab[pos] == codes
    s = codes.size
    # unknown tokens first (they are in no indexed set), then the index's order
    ranks = np.where(known, j.rank[pos], -1 - np.arange(s))
    p = int(_prefix_length(np.array([s]), j.threshold)[0])
    prefix = pos[known][np.argsort(ranks[known])][: max(0, p - int((~known).sum()))]
    if prefix.size == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    cands = np.unique(j.P[:, prefix].tocoo().row.astype(np.int64))
    if eligible is not None:
        cands = cands[eligible[cands]]
    t = j.threshold
    sz = j.sizes[cands]
    cands = cands[(np.minimum(sz, s) >= t * np.maximum(sz, s) - 1e-9)]
    if cands.size == 0:
        return cands, np.zeros(0)
    q = np.zeros(j.vocab.size, dtype=np.float32)
    q[pos[known]] = 1.0
    o = np.asarray(j.A[cands] @ q).ravel().astype(np.int64)
    score = o / np.maximum(j.sizes[cands] + s - o, 1)
    ok = score >= t - 1e-9
    return cands[ok], score[ok]


# --------------------------------------------------------------------------------------
# The index of a bank


@dataclass(frozen=True, slots=True, eq=False)
class SimilarityIndex:
    """Items of a bank ready for comparison (build with :func:`build_index`).

    codes : (n_items,) item codes; facets are flattened with ``facet_item`` (n_facets,) their
    item's index and ``facet_roles`` their role flags."""

    config: SimilarityConfig
    codes: tuple[str, ...]
    whole_texts: tuple[str, ...]
    facets: tuple[Facet, ...]
    facet_item: IntArray
    facet_roles: IntArray
    whole: _SetJoin
    parts: _SetJoin
    part_eligible: npt.NDArray[np.bool_]  # per representative: one of its texts is long enough
    facet_long: npt.NDArray[np.bool_]  # per facet: long enough to compare

    @property
    def n_items(self) -> int:
        return len(self.codes)


def build_index(items: Iterable[tuple[str, ItemContent]], config: SimilarityConfig = DEFAULT_CONFIG) -> SimilarityIndex:
    """Index ``(code, content)`` pairs (codes unique) for :func:`find_matches` and
    :func:`match_items`.

    Raises
    ------
    ValueError
        A code appears twice.
    """
    codes: list[str] = []
    wholes: list[str] = []
    facets: list[Facet] = []
    facet_item: list[int] = []
    seen: set[str] = set()
    for code, content in items:
        if code in seen:
            raise ValueError(f"item {code} is given twice")
        seen.add(code)
        k = len(codes)
        codes.append(code)
        wholes.append(whole_text(content))
        for f in item_facets(content):
            facets.append(f)
            facet_item.append(k)
    whole = _build_join([normalize(w, fold_digits=True) for w in wholes], config.near_duplicate)
    normal = [normalize(f.text) for f in facets]
    parts = _build_join(normal, config.cueing)
    long_enough = np.fromiter((statement_length(s) >= config.min_statement_chars for s in normal), dtype=bool,
                              count=len(normal))
    eligible = np.zeros(parts.sizes.size, dtype=bool)
    eligible[parts.rep_of[long_enough]] = True
    return SimilarityIndex(
        config=config, codes=tuple(codes), whole_texts=tuple(wholes), facets=tuple(facets),
        facet_item=np.asarray(facet_item, dtype=np.int64),
        facet_roles=np.fromiter((f.roles for f in facets), dtype=np.int64, count=len(facets)),
        whole=whole, parts=parts, part_eligible=eligible, facet_long=long_enough,
    )


def _kind(f_roles: int, g_roles: int) -> MatchKind | None:
    """The kind for facet f of one item against facet g of another (one direction)."""
    if f_roles & STATEMENT and g_roles & ANSWER:
        return MatchKind.STATEMENT_IS_KEY  # f's item prints g's answer
    if f_roles & STATEMENT and f_roles & STEM and g_roles & STATEMENT and not g_roles & (STEM | ANSWER):
        return MatchKind.STATEMENT_IS_OPTION  # a true/false statement that is a distractor elsewhere
    if f_roles & (ANSWER | QUESTION) and g_roles & ANSWER:
        return MatchKind.NEAR_DUPLICATE  # both ask for the same statement
    return None


def _pair_kind(f_roles: int, g_roles: int) -> MatchKind | None:
    kinds = [k for k in (_kind(f_roles, g_roles), _kind(g_roles, f_roles)) if k is not None]
    return min(kinds, key=lambda k: k.rank) if kinds else None


class _Collector:
    """Item pairs with their strongest kind and evidence."""

    def __init__(self) -> None:
        self.best: dict[tuple[str, str], tuple[MatchKind, float, list[Evidence]]] = {}

    def add(self, code_a: str, code_b: str, kind: MatchKind, ev: Evidence) -> None:
        if code_a > code_b:
            code_a, code_b = code_b, code_a
            ev = Evidence(ev.place_b, ev.label_b, ev.text_b, ev.place_a, ev.label_a, ev.text_a, ev.score)
        key = (code_a, code_b)
        old = self.best.get(key)
        if old is None:
            self.best[key] = (kind, ev.score, [ev])
            return
        okind, oscore, evs = old
        if len(evs) < 3 and ev not in evs:
            evs.append(ev)
        if (kind.rank, -ev.score) < (okind.rank, -oscore):
            self.best[key] = (kind, ev.score, evs)

    def matches(self) -> list[Match]:
        out = []
        for (a, b), (kind, score, evs) in self.best.items():
            evs = sorted(evs, key=lambda e: -e.score)
            out.append(Match(a, b, kind, round(float(score), 4), tuple(evs)))
        return sorted(out, key=lambda m: (m.kind.rank, -m.score, m.code_a, m.code_b))


def _facet_evidence(index: SimilarityIndex, f: int, g: int, score: float) -> Evidence:
    a, b = index.facets[f], index.facets[g]
    return Evidence(a.place, a.label, a.text, b.place, b.label, b.text, round(float(score), 4))


def find_matches(index: SimilarityIndex) -> list[Match]:
    """Every pair of indexed items that are near duplicates or cue each other, strongest first.

    Cost: one sparse product over the prefix index and an exact check of its candidates;
    ``bench/similarity.py`` gives the figures for 100,000 items."""
    col = _Collector()
    # near duplicates: whole texts
    w = index.whole
    I, J, S = _self_join(w)
    for r, s_, sc in zip(I.tolist(), J.tolist(), S.tolist()):
        for x in w.members(r).tolist():
            for y in w.members(s_).tolist():
                _add_whole(index, col, x, y, sc)
    for r in range(w.sizes.size):
        m = w.members(r)
        if m.size > 1 and w.sizes[r] > 0:
            ml = m.tolist()
            for i, x in enumerate(ml):
                for y in ml[i + 1:]:
                    _add_whole(index, col, x, y, 1.0)
    # cueing: statements against answers and options
    p = index.parts
    long_ = index.facet_long

    def members(rep: int) -> list[int]:
        m = p.members(rep)
        return m[long_[m]].tolist()

    I, J, S = _self_join(p, eligible=index.part_eligible)
    pairs: list[tuple[int, int, float]] = []
    for r, s_, sc in zip(I.tolist(), J.tolist(), S.tolist()):
        for f in members(r):
            for g in members(s_):
                pairs.append((f, g, sc))
    for r in np.flatnonzero(index.part_eligible).tolist():
        ml = members(r)
        if len(ml) > 1:
            for i, f in enumerate(ml):
                for g in ml[i + 1:]:
                    pairs.append((f, g, 1.0))
    items, roles = index.facet_item, index.facet_roles
    for f, g, sc in pairs:
        x, y = int(items[f]), int(items[g])
        if x == y:
            continue
        kind = _pair_kind(int(roles[f]), int(roles[g]))
        if kind is not None:
            col.add(index.codes[x], index.codes[y], kind, _facet_evidence(index, f, g, sc))
    return col.matches()


def _add_whole(index: SimilarityIndex, col: _Collector, x: int, y: int, score: float) -> None:
    if x == y:
        return
    col.add(index.codes[x], index.codes[y], MatchKind.NEAR_DUPLICATE,
            Evidence("item", "", index.whole_texts[x], "item", "", index.whole_texts[y], round(float(score), 4)))


def match_items(index: SimilarityIndex, content: ItemContent, *, code: str = "", exclude: Iterable[str] = ()) -> list[Match]:
    """The indexed items that ``content`` (a draft, or a new item) duplicates or cues, with
    ``code`` (default ``""``, the draft) as ``code_a`` or ``code_b`` by order. Items whose
    codes are in ``exclude`` (the item's own earlier versions) are left out."""
    skip = set(exclude) | ({code} if code else set())
    col = _Collector()
    draft = code or ""
    w = index.whole
    wt = whole_text(content)
    reps, scores = _query(w, normalize(wt, fold_digits=True))
    for r, sc in zip(reps.tolist(), scores.tolist()):
        for x in w.members(r).tolist():
            other = index.codes[x]
            if other in skip:
                continue
            col.add(draft, other, MatchKind.NEAR_DUPLICATE,
                    Evidence("item", "", wt, "item", "", index.whole_texts[x], round(float(sc), 4)))
    p = index.parts
    for f in item_facets(content):
        text = normalize(f.text)
        if statement_length(text) < index.config.min_statement_chars:
            continue
        reps, scores = _query(p, text, eligible=index.part_eligible)
        for r, sc in zip(reps.tolist(), scores.tolist()):
            m = p.members(r)
            for g in m[index.facet_long[m]].tolist():
                other = index.codes[int(index.facet_item[g])]
                if other in skip:
                    continue
                kind = _pair_kind(f.roles, int(index.facet_roles[g]))
                if kind is None:
                    continue
                fg = index.facets[g]
                col.add(draft, other, kind, Evidence(f.place, f.label, f.text, fg.place, fg.label, fg.text,
                                                     round(float(sc), 4)))
    return col.matches()


def match_within(items: Sequence[tuple[str, ItemContent]], config: SimilarityConfig = DEFAULT_CONFIG) -> list[Match]:
    """Pairs among ``items`` alone (one paper): the check every assembled paper passes."""
    if len(items) < 2:
        return []
    return find_matches(build_index(items, config))
