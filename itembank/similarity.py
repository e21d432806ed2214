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
import functools
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
    "build_index", "find_matches", "item_facets", "match_items", "match_within", "near_duplicate_pairs", "normalize",
    "statement_length", "whole_text",
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
    cueing: float = 0.6
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


@functools.cache
def _table() -> dict[int, str | None]:
    """``str.translate`` table of the BMP: each character to its NFKC form in lower case, with
    punctuation, separators and control characters dropped (built once, on first use)."""
    table: dict[int, str | None] = {}
    category, decomposition, nfkc = unicodedata.category, unicodedata.decomposition, unicodedata.normalize
    for cp in range(0x10000):
        ch = chr(cp)
        if category(ch)[0] in "PZC":
            table[cp] = None
        elif decomposition(ch) or ch.lower() != ch:
            t = "".join(c for c in nfkc("NFKC", ch).lower() if category(c)[0] not in "PZC")
            if t != ch:
                table[cp] = t or None
    return table


_DIGITS = re.compile(r"\d+")
_UNITS = re.compile(r"[a-z]+|\d+|.")
_BLANK = re.compile(r"[（(][\s\u3000]*[）)]|_{2,}|＿{2,}")


def normalize(text: str, *, fold_digits: bool = False) -> str:
    """NFKC, lower case, without punctuation, spaces and blanks; digit runs become ``#``
    when ``fold_digits``. ``"TN-S系统中，保护线（PE）…。"`` -> ``"tns系统中保护线pe"``."""
    t = text.translate(_table())
    return _DIGITS.sub("#", t) if fold_digits else t


def statement_length(normalized: str) -> int:
    """Length of a normalised text in reading units: a Chinese character, a Latin word or a
    number each count one (``continue`` and ``10100000`` are one unit, not eight)."""
    return len(_UNITS.findall(normalized))


def _statement_lengths(texts: Sequence[str]) -> IntArray:
    """``statement_length`` of many normalised texts at once (vectorised)."""
    lengths = np.fromiter((len(s) for s in texts), dtype=np.int64, count=len(texts))
    if lengths.sum() == 0:
        return lengths
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    text_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    letter = (cps >= 97) & (cps <= 122)
    digit = (cps >= 48) & (cps <= 57)
    cont = ((letter[1:] & letter[:-1]) | (digit[1:] & digit[:-1])) & (text_of[1:] == text_of[:-1])
    return lengths - np.bincount(text_of[1:][cont], minlength=len(texts))


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


_SHIFT = np.int64(1 << 21)  # code points are below 2**21: three of them fit an int64 exactly
SHINGLE = 3  # characters per shingle


def _shingle_codes(texts: Sequence[str], n: int = SHINGLE) -> tuple[IntArray, IntArray]:
    """(text index, shingle code) of every character n-gram of every text; a text shorter
    than ``n`` is one shingle of itself. Codes are exact (the code points), not hashes."""
    lengths = np.fromiter((len(s) for s in texts), dtype=np.int64, count=len(texts))
    if lengths.sum() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    text_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    m = cps.size - n + 1
    if m > 0:
        ok = text_of[:m] == text_of[n - 1:]  # the n-gram at i stays inside its text
        codes = np.zeros(m, dtype=np.int64)
        for k in range(n):
            codes = codes * _SHIFT + cps[k:k + m]
        docs, codes = text_of[:m][ok], codes[ok] + 1
    else:
        docs, codes = np.zeros(0, np.int64), np.zeros(0, np.int64)
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if short.size:
        extra = np.zeros(short.size, dtype=np.int64)
        for k in range(n - 1):  # pad with zeros: a code no full n-gram has (full ones are + 1)
            take = lengths[short] > k
            extra = extra * _SHIFT + np.where(take, cps[np.minimum(starts[short] + k, cps.size - 1)], 0)
        docs = np.concatenate([docs, short])
        codes = np.concatenate([codes, -extra - 1])
    return docs, codes


@dataclass(frozen=True, slots=True, eq=False)
class _SetJoin:
    """Shingle sets of many texts with a prefix-filter index for one Jaccard threshold.

    Equal sets are stored once (``rep_of`` maps every text to its representative; ``members``
    lists each representative's texts). ``A`` (n_reps x n_tokens) holds the sets, ``P`` only
    each set's prefix (csc: posting lists); ``rank`` orders tokens rarest first."""

    threshold: float
    vocab: IntArray  # sorted shingle codes
    rank: IntArray  # (n_tokens,) position of each token in the global order
    sizes: IntArray  # (n_reps,)
    A: sp.csr_matrix
    P: sp.csc_matrix
    rep_of: IntArray  # (n_texts,)
    member_order: IntArray  # texts sorted by representative
    member_starts: IntArray  # (n_reps + 1,)

    def members(self, rep: int) -> IntArray:
        return self.member_order[self.member_starts[rep]:self.member_starts[rep + 1]]


N_HASHES = 64
_HASH_A = np.random.default_rng(20261128).integers(1, 1 << 63, size=N_HASHES, dtype=np.uint64) | np.uint64(1)
_HASH_B = np.random.default_rng(20261129).integers(0, 1 << 63, size=N_HASHES, dtype=np.uint64)
# candidates whose MinHash estimate lies this far below the threshold are dropped unchecked: the
# estimate's standard error is at most 0.5 / sqrt(64) = 0.0625, so 0.25 is four of them
_SCREEN_MARGIN = 0.25


def _signatures(A: sp.csr_matrix) -> npt.NDArray[np.uint8]:
    """b-bit MinHash signatures (Broder 1997; Li & König 2010, b = 8) of the rows of ``A``:
    (n_rows, N_HASHES), per column the lowest 8 bits of the minimum over the row's token ids x of
    a multiply-shift hash ``(a x + b) >> 32`` (Dietzfelbinger et al. 1997; arithmetic mod 2**64)."""
    n = A.shape[0]
    sig = np.zeros((n, N_HASHES), dtype=np.uint8)
    nz = np.flatnonzero(np.diff(A.indptr) > 0)
    if nz.size == 0:
        return sig
    tok = A.indices.astype(np.uint64)
    starts = A.indptr[nz]
    for k in range(N_HASHES):
        h = (_HASH_A[k] * tok + _HASH_B[k]) >> np.uint64(32)
        sig[nz, k] = (np.minimum.reduceat(h, starts) & np.uint64(0xFF)).astype(np.uint8)
    return sig


def _prefix_length(sizes: IntArray, t: float) -> IntArray:
    return sizes - np.ceil(t * sizes - 1e-9).astype(np.int64) + 1


def _factorize(values: IntArray) -> tuple[IntArray, IntArray]:
    """(sorted distinct values, index of each value among them): ``np.unique(values,
    return_inverse=True)`` by one stable sort (faster on millions of int64)."""
    if values.size == 0:
        return values, np.zeros(0, np.int64)
    order = np.argsort(values)
    v = values[order]
    new = np.empty(v.size, dtype=bool)
    new[0] = True
    np.not_equal(v[1:], v[:-1], out=new[1:])
    ids = np.cumsum(new) - 1
    inverse = np.empty(values.size, dtype=np.int64)
    inverse[order] = ids
    return v[new], inverse


def _build_join(texts: Sequence[str], threshold: float) -> _SetJoin:
    n = len(texts)
    docs, codes = _shingle_codes(texts)
    vocab, tok = _factorize(codes)
    V = max(int(vocab.size), 1)
    key = np.sort(docs * V + tok)
    if key.size:
        key = key[np.concatenate([[True], key[1:] != key[:-1]])]  # each shingle once per text
    docs, tok = key // V, key % V
    sizes_all = np.bincount(docs, minlength=n).astype(np.int64)
    # equal sets once: a random 64-bit value per token, summed per text, mixed with the size
    rnd = np.random.default_rng(0x51A).integers(0, np.iinfo(np.int64).max, size=V, dtype=np.int64)
    h = np.zeros(n, dtype=np.int64)
    nonempty = np.flatnonzero(sizes_all)
    with np.errstate(over="ignore"):
        if nonempty.size:  # docs are sorted: one sum per text's run
            h[nonempty] = np.add.reduceat(rnd[tok], (np.cumsum(sizes_all) - sizes_all)[nonempty])
        h = h * np.int64(1_000_003) + sizes_all
    _, rep_of = _factorize(h)
    n_reps = int(rep_of.max()) + 1 if n else 0
    member_order = np.argsort(rep_of, kind="stable").astype(np.int64)
    member_starts = np.concatenate([[0], np.cumsum(np.bincount(rep_of, minlength=n_reps))]).astype(np.int64)
    first = member_order[member_starts[:-1]]  # the first text of each set
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
    by = np.argsort(r_docs * V + rank[r_tok])
    sd, st = r_docs[by], r_tok[by]
    starts = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    pos = np.arange(sd.size, dtype=np.int64) - starts[sd]
    pre = pos < _prefix_length(sizes, threshold)[sd]
    P = sp.csc_matrix((np.ones(int(pre.sum()), dtype=np.float32), (sd[pre], st[pre])), shape=(n_reps, V))
    return _SetJoin(threshold, vocab, rank, sizes, A, P, rep_of, member_order, member_starts)


def _overlaps(A: sp.csr_matrix, I: IntArray, J: IntArray, chunk: int = 200_000) -> IntArray:
    """Exact |row I ∩ row J| for each pair."""
    out = np.empty(I.size, dtype=np.int64)
    for s in range(0, I.size, chunk):
        a, b = A[I[s:s + chunk]], A[J[s:s + chunk]]
        out[s:s + chunk] = np.asarray(a.multiply(b).sum(axis=1)).ravel().astype(np.int64)
    return out


def _screen(A: sp.csr_matrix, I: IntArray, J: IntArray, threshold: float, chunk: int = 250_000) -> npt.NDArray[np.bool_]:
    """Candidates whose MinHash estimate comes within ``_SCREEN_MARGIN`` of the threshold
    (signatures only of the rows that occur)."""
    keep = np.ones(I.size, dtype=bool)
    if I.size < 5_000:  # few: the exact check is cheaper than signatures
        return keep
    rows, inv = np.unique(np.concatenate([I, J]), return_inverse=True)
    sig = _signatures(A[rows])
    si, sj = inv[:I.size], inv[I.size:]
    # with b bits two different minima agree by chance with probability 2**-b: the matching
    # share m estimates J + (1 - J) / 256, i.e. J = (m - 1/256) / (1 - 1/256) <= m
    floor = threshold - _SCREEN_MARGIN
    for s in range(0, I.size, chunk):
        matches = (sig[si[s:s + chunk]] == sig[sj[s:s + chunk]]).sum(axis=1)
        keep[s:s + chunk] = matches >= floor * N_HASHES
    return keep


def _self_join(j: _SetJoin, *, eligible: npt.NDArray[np.bool_] | None = None) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
    """All pairs of representatives (i < j) with Jaccard >= threshold, and their scores.
    ``eligible`` (n_reps,) leaves sets out (too short to compare)."""
    P = j.P.tocsr()
    if eligible is not None:
        P = sp.diags(eligible.astype(np.float32)) @ P
    C = sp.triu(P @ P.T, k=1).tocoo()
    I, J = C.row.astype(np.int64), C.col.astype(np.int64)
    del C
    si, sj = j.sizes[I], j.sizes[J]
    t = j.threshold
    ok = (np.minimum(si, sj) >= t * np.maximum(si, sj) - 1e-9)  # the size filter
    I, J = I[ok], J[ok]
    ok = _screen(j.A, I, J, t)
    I, J = I[ok], J[ok]
    si, sj = j.sizes[I], j.sizes[J]
    o = _overlaps(j.A, I, J)
    score = o / np.maximum(si + sj - o, 1)
    ok = score >= t - 1e-9
    return I[ok], J[ok], score[ok]


def _query(j: _SetJoin, text: str, *, eligible: npt.NDArray[np.bool_] | None = None) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Representatives with Jaccard >= threshold to ``text`` (already normalised); exact."""
    _, codes = _shingle_codes([text])
    codes = np.unique(codes)
    if codes.size == 0 or j.vocab.size == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    pos = np.searchsorted(j.vocab, codes)
    pos = np.minimum(pos, j.vocab.size - 1)
    known = j.vocab[pos] == codes
    s = codes.size
    # unknown tokens first in the order (they are in no indexed set), then the index's order
    p = int(_prefix_length(np.array([s]), j.threshold)[0])
    prefix = pos[known][np.argsort(j.rank[pos[known]])][: max(0, p - int((~known).sum()))]
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
    long_enough = _statement_lengths(normal) >= config.min_statement_chars
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


def near_duplicate_pairs(index: SimilarityIndex) -> list[tuple[int, int, float]]:
    """(item, item, Jaccard) of every pair of indexed items whose whole texts are at least
    ``config.near_duplicate`` alike (item indices into ``index.codes``, first < second)."""
    w = index.whole
    out: list[tuple[int, int, float]] = []
    I, J, S = _self_join(w)
    for r, s_, sc in zip(I.tolist(), J.tolist(), S.tolist()):
        for x in w.members(r).tolist():
            for y in w.members(s_).tolist():
                out.append((min(x, y), max(x, y), sc))
    for r in np.flatnonzero((np.diff(w.member_starts) > 1) & (w.sizes > 0)).tolist():
        ml = sorted(w.members(r).tolist())
        out += [(x, y, 1.0) for i, x in enumerate(ml) for y in ml[i + 1:]]
    return out


def _facet_pairs(index: SimilarityIndex) -> list[tuple[int, int, float]]:
    """(facet, facet, Jaccard) of every pair of comparable facets at least ``config.cueing``
    alike."""
    p = index.parts
    long_ = index.facet_long

    def members(rep: int) -> list[int]:
        m = p.members(rep)
        return m[long_[m]].tolist()

    out: list[tuple[int, int, float]] = []
    I, J, S = _self_join(p, eligible=index.part_eligible)
    for r, s_, sc in zip(I.tolist(), J.tolist(), S.tolist()):
        out += [(f, g, sc) for f in members(r) for g in members(s_)]
    for r in np.flatnonzero(index.part_eligible & (np.diff(p.member_starts) > 1)).tolist():
        ml = members(r)
        out += [(f, g, 1.0) for i, f in enumerate(ml) for g in ml[i + 1:]]
    return out


def find_matches(index: SimilarityIndex) -> list[Match]:
    """Every pair of indexed items that are near duplicates or cue each other, strongest first.

    Cost: one sparse product over each prefix index, a MinHash screen and an exact check of the
    candidates left; ``bench/similarity.py`` gives the figures for 100,000 items."""
    col = _Collector()
    for x, y, sc in near_duplicate_pairs(index):
        _add_whole(index, col, x, y, sc)
    items, roles = index.facet_item, index.facet_roles
    for f, g, sc in _facet_pairs(index):
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
