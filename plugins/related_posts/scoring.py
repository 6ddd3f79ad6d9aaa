"""related_posts scoring: which articles are related, from their Vietnamese text.

Pure functions and plain records, no Pelican objects, so every step is testable alone.

Text → terms (``terms.py``)
    NFC, lower case, split into syllables on anything that is not a letter or a digit
    (diacritics are kept: folding would merge "đảng", "đang" and "dạng"). Terms are the
    syllables and the pairs of neighbouring syllables ("đảng viên", "hội nghị"): most
    Vietnamese words have two syllables. Punctuation and the stopwords of ``STOPWORDS`` break
    the sequence: a stopword is never a term and never half of a pair.

Terms → vectors
    TF-IDF over the published articles: weight = (1 + ln count) × (ln((1 + n) / (1 + df)) + 1).
    Terms in more than ``max_df`` of the articles (huyện, Gia Lộc, đồng chí…) and terms no other
    article has are dropped. Each article keeps its ``terms_per_article`` strongest terms, and that
    vector is normalised to length 1: this keeps the noise of common words out and bounds the cost.

Vectors → score
    score = text_weight × cosine(texts) + tags_weight × cosine(tag sets)      (the "evidence")
          + category_weight × [same category] + date_weight / (1 + |days apart| / date_scale)
    Only articles whose evidence reaches ``min_score`` are related; ties on the rounded score are
    broken by date (newer first), then slug. An article with none gets the latest articles of its
    category.

Scale
    Texts are tokenised with numpy, a chunk of texts at a time (``tokenize``; same tokens as the
    reference ``syllables``), and their term counts are kept per text hash (``VectorCache``).
    Candidates come from sparse products by blocks of rows, keeping the best
    ``candidates_per_article`` of each row (no Python loop over pairs). On a small site every
    term takes part and the evidence is exact; at archive scale the most common terms are left
    out of the search when the pairs they make would exceed ``search_work`` per article, and
    are added back into the evidence of the pairs found. ``Record.text`` must be NFC
    (``plain_text`` makes it so).

Determinism: articles are processed in slug order and every term is ordered by a hash of its text,
so the result never depends on input order or on what the vector cache saw first.
"""

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from plugins.related_posts.terms import (
    STOPWORDS,
    VectorCache,
    _distinct,
    plain_text,
    syllables,
    term_counts,
)

__all__ = [
    "STOPWORDS",
    "Params",
    "Record",
    "VectorCache",
    "plain_text",
    "related_articles",
    "syllables",
    "term_counts",
]


@dataclass(frozen=True)
class Record:
    """One article as the scoring sees it.

    ``published``: False for drafts and hidden articles (they get a list, are never in one).
    ``related``: slugs of the ``Related:`` metadata line, shown first.
    ``source``: the file, for messages.
    ``text_key``: ``terms.text_key(text)`` if known; then ``text`` may be "" when the
    cache holds that key (the plugin remembers keys, so unchanged articles are not re-read).
    """

    slug: str
    date: object  # an aware datetime
    category: str
    tags: tuple = ()
    text: str = ""
    published: bool = True
    related: tuple = ()
    source: str = ""
    text_key: bytes = None


# Threads for the candidate search (beyond a few, memory bandwidth is the limit).
MAX_THREADS = 4


@dataclass(frozen=True)
class Params:
    max_related: int = 5
    terms_per_article: int = 40
    max_df: float = 0.5
    text_weight: float = 1.0
    tags_weight: float = 0.3
    category_weight: float = 0.05
    date_weight: float = 0.05
    date_scale: float = 365.0  # days
    min_score: float = 0.05
    candidates_per_article: int = 20
    search_work: float = 4000.0  # pairs examined per article when finding candidates
    block_rows: int = 512


def _top_k_per_row(starts, values, tiebreak, k, cells=4_000_000):
    """Indices of the ``k`` largest ``values`` in each row (ties: smaller tiebreak first).

    Rows are CSR-style: row r is ``values[starts[r]:starts[r + 1]]``. ``tiebreak(indices)``
    gives the tie-breaking keys of some entries (only the tied ones are asked for). The k-th
    largest value of each row comes from ``_kth_largest`` over a padded (rows × longest row)
    block, a few thousand rows at a time: O(entries), no sort of the entries.
    """
    n_rows = len(starts) - 1
    lengths = np.diff(starts)
    if n_rows == 0 or starts[-1] == 0:
        return np.zeros(0, dtype=np.int64)
    threshold = np.full(n_rows, -np.inf)
    width = -(-int(lengths.max()) // k) * k  # a multiple of k (see _kth_largest)
    if width > k:
        block = max(1, cells // width)
        for first in range(0, n_rows, block):
            last = min(n_rows, first + block)
            local = lengths[first:last]
            if local.max() <= k:
                continue
            begin, end = starts[first], starts[last]
            # Flat position of each entry in the padded block.
            flat = np.arange(end - begin) + np.repeat(
                np.arange(last - first) * width - (starts[first:last] - begin), local
            )
            padded = np.full((last - first, width), -np.inf)
            padded.ravel()[flat] = values[begin:end]
            threshold[first:last] = _kth_largest(padded, local, k)
    cut = np.repeat(threshold, lengths)
    above = values > cut
    tied = np.flatnonzero(values == cut)
    if len(tied):
        # As many tied entries as there is room for, smaller tiebreak first.
        rows_above = np.searchsorted(starts, np.flatnonzero(above), side="right") - 1
        room = k - np.bincount(rows_above, minlength=n_rows)
        tied_rows = np.searchsorted(starts, tied, side="right") - 1
        order = np.lexsort((tiebreak(tied), tied_rows))
        tied, tied_rows = tied[order], tied_rows[order]
        rank = np.arange(len(tied)) - np.searchsorted(tied_rows, tied_rows, side="left")
        above[tied[rank < room[tied_rows]]] = True
    return np.flatnonzero(above)


def _kth_largest(padded, lengths, k):
    """The k-th largest value of each row of ``padded`` (its first ``lengths`` cells are the
    row's values, the rest -inf; the width is a multiple of k), -inf for rows of k values or
    fewer.

    A partition of the whole block would cost about 20 ns a cell. First a lower bound: put
    cell j of a row in group j mod k; the k groups' maxima are k distinct values, so their
    minimum is at most the k-th largest. A row's values at or above it are few (a few
    times k), and the exact k-th largest is among them: only those are partitioned.
    """
    n_rows, width = padded.shape
    long = lengths > k  # so each of the k groups holds a value of the row
    bound = padded.reshape(n_rows, width // k, k).max(axis=1).min(axis=1)
    bound[~long] = np.inf  # short rows: nothing to partition
    keep = padded >= bound[:, None]
    counts = keep.sum(axis=1)
    most = int(counts.max())  # ≥ k: some row is long
    kept = np.full((n_rows, most), -np.inf)
    position = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    kept[np.repeat(np.arange(n_rows), counts), position] = padded[keep]
    kept.partition(most - k, axis=1)
    return np.where(long, kept[:, most - k], -np.inf)


_TF = 1.0 + np.log(np.arange(1, 256, dtype=np.float64))


def _tf(counts):
    """1 + ln(count)."""
    if len(counts) and counts.max() < 256:
        return _TF[counts - 1]
    return 1.0 + np.log(counts.astype(np.float64))


def _text_matrix(records, candidate, cache, params, chunk=4000):
    """Rows: the records' TF-IDF vectors, pruned to their strongest terms, length 1.

    Columns are ordered by term key (a hash of the term's text), never by cache ids, and so is
    every row: sums over a row are done in the same order whatever the cache history.
    """
    n = len(records)
    _, vectors = cache.counts_for([r.text for r in records], keys=[r.text_key for r in records])
    n_terms = cache.n_terms
    term_keys = cache.term_keys
    empty = np.zeros(0, dtype=np.uint32)
    df = np.zeros(n_terms, dtype=np.int64)
    for first in range(0, n, chunk):
        last = min(n, first + chunk)
        terms = [vectors[i][0] for i in range(first, last) if candidate[i]]
        df += np.bincount(np.concatenate(terms or [empty]), minlength=n_terms)
    n_candidates = int(candidate.sum())
    limit = max(2, math.floor(params.max_df * n_candidates))
    idf = np.log((1.0 + n_candidates) / (1.0 + df)) + 1.0
    # A term counts if another candidate has it and it is not too common: its IDF, else 0.
    idf_shared = np.where((df >= 2) & (df <= limit), idf, 0.0)
    idf_alone = np.where((df >= 1) & (df <= limit), idf, 0.0)
    del df, idf
    kept_rows, kept_weights, kept_terms = [], [], []
    for first in range(0, n, chunk):
        last = min(n, first + chunk)
        lengths = [len(vectors[i][0]) for i in range(first, last)]
        starts = np.zeros(last - first + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        terms = np.concatenate([vectors[i][0] for i in range(first, last)] or [empty])
        counts = np.concatenate([vectors[i][1] for i in range(first, last)] or [empty])
        factor = idf_shared[terms]
        for row in np.flatnonzero(~candidate[first:last]).tolist():
            span = slice(starts[row], starts[row + 1])
            factor[span] = idf_alone[terms[span]]
        weights = _tf(counts) * factor
        keep = weights > 0
        kept = np.concatenate([[0], np.cumsum(keep)])[starts]
        weights, terms = weights[keep], terms[keep]
        top = _top_k_per_row(
            kept, weights, lambda idx, terms=terms: term_keys[terms[idx]], params.terms_per_article
        )
        kept_rows.append(np.searchsorted(kept, top, side="right") - 1 + first)
        kept_weights.append(weights[top])
        kept_terms.append(terms[top])
    rows = np.concatenate(kept_rows or [np.zeros(0, np.int64)])
    weights = np.concatenate(kept_weights or [np.zeros(0)])
    terms = np.concatenate(kept_terms or [empty]).astype(np.int64)
    # Columns: the terms kept anywhere, in term-key order.
    present = _distinct(terms)
    column_of = np.zeros(n_terms, dtype=np.int64)
    column_of[present[np.argsort(term_keys[present], kind="stable")]] = np.arange(len(present))
    starts = np.searchsorted(rows, np.arange(n + 1))
    matrix = sp.csr_matrix((weights, column_of[terms], starts), shape=(n, len(present)))
    matrix.sort_indices()
    squares = np.zeros(n)
    nonempty = np.flatnonzero(np.diff(starts) > 0)
    squares[nonempty] = np.add.reduceat(matrix.data * matrix.data, starts[nonempty])
    matrix.data /= np.sqrt(squares)[rows]
    return matrix


def _tag_matrix(records):
    """Rows: each record's tags, weight 1/sqrt(number of tags), so that a product is a cosine."""
    tagged = [(i, sorted(set(r.tags))) for i, r in enumerate(records) if r.tags]
    names = sorted({tag for _, tags in tagged for tag in tags})
    column = {name: i for i, name in enumerate(names)}
    rows = [i for i, tags in tagged for _ in tags]
    columns = [column[tag] for _, tags in tagged for tag in tags]
    data = [1.0 / math.sqrt(len(tags)) for _, tags in tagged for _ in tags]
    return sp.csr_matrix((data, (rows, columns)), shape=(len(records), len(names)))


def _search_columns(features, candidates, budget):
    """The columns used to find candidate pairs: the rarest ones, as long as the pairs they
    make (Σ df² over the columns) stay within ``budget``. Small sites use every column."""
    df = np.bincount(features[candidates].indices, minlength=features.shape[1])
    ordered = np.sort(df)
    levels = _distinct(ordered)
    per_level = np.diff(np.append(np.searchsorted(ordered, levels), len(ordered)))
    work = np.cumsum(per_level * levels.astype(np.float64) ** 2)
    affordable = levels[work <= budget]
    limit = int(affordable[-1]) if len(affordable) else 0
    return df <= limit


def _candidate_pairs(features, candidates, params):
    """(rows, others, evidence): up to ``candidates_per_article`` candidates per row with
    their evidence (text and tags), found by blocks of rows with sparse products.

    When the site is small, every column takes part and the evidence is exact. At archive scale
    the most common columns are left out of the search (see ``_search_columns``) and added to
    the evidence of the pairs found afterwards.
    """
    n = features.shape[0]
    search = _search_columns(features, candidates, params.search_work * n)
    query = features[:, np.flatnonzero(search)].tocsr()
    target = query[candidates].T.tocsr()
    limit = params.candidates_per_article + 1  # the article itself may be among them
    step = params.block_rows
    blocks = [(first, min(n, first + step)) for first in range(0, n, step)]

    def block_candidates(bounds):
        first, last = bounds
        block = query[first:last] @ target
        best = _top_k_per_row(
            block.indptr, block.data, lambda idx: candidates[block.indices[idx]], limit
        )
        rows = np.searchsorted(block.indptr, best, side="right") - 1 + first
        return rows, candidates[block.indices[best]], block.data[best]

    # SciPy's sparse product and most of NumPy release the GIL: the blocks run on every core
    # (each block's result is the same whichever thread makes it; map keeps their order).
    threads = min(os.cpu_count() or 1, MAX_THREADS, len(blocks))
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            found = list(pool.map(block_candidates, blocks))
    else:
        found = [block_candidates(bounds) for bounds in blocks]
    rows = np.concatenate([f[0] for f in found])
    others = np.concatenate([f[1] for f in found])
    evidence = np.concatenate([f[2] for f in found])
    itself = others == rows
    rows, others, evidence = rows[~itself], others[~itself], evidence[~itself]
    if not search.all():
        rest = features[:, np.flatnonzero(~search)].tocsr()
        evidence = evidence + _pair_products(rest, rows, others)
    return rows, others, evidence


def _pair_products(features, rows, others, chunk=200_000):
    """features[rows[i]] · features[others[i]] for every i."""
    out = np.zeros(len(rows))
    for first in range(0, len(rows), chunk):
        last = min(len(rows), first + chunk)
        product = features[rows[first:last]].multiply(features[others[first:last]])
        out[first:last] = np.asarray(product.sum(axis=1)).ravel()
    return out


def _best_pairs(features, candidates, timestamps, categories, params):
    """For every row, up to ``max_related`` (row, candidate) pairs, best first."""
    rows, others, evidence = _candidate_pairs(features, candidates, params)
    keep = evidence >= params.min_score
    rows, others, evidence = rows[keep], others[keep], evidence[keep]
    days = np.abs(timestamps[rows] - timestamps[others]) / 86400.0
    score = (
        evidence
        + params.category_weight * (categories[rows] == categories[others])
        + params.date_weight / (1.0 + days / params.date_scale)
    )
    rounded = np.rint(score * 1e9).astype(np.int64)  # ties are ties, whatever the last bits
    # Tie-break rank of every article: newer first, then slug (rows are in slug order).
    tiebreak = np.empty(len(timestamps), dtype=np.int64)
    tiebreak[np.lexsort((np.arange(len(timestamps)), -timestamps))] = np.arange(len(timestamps))
    # Rows ascending, then the score descending (packed into one key), then the tie-break.
    primary = (rows << 32) | ((1 << 32) - 1 - np.clip(rounded, 0, (1 << 32) - 1))
    order = np.lexsort((tiebreak[others], primary))
    rows, others = rows[order], others[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    best = rank < params.max_related
    return rows[best], others[best]


def related_articles(records, now, params=Params(), cache=None):
    """For each record, the indices (into ``records``) of its related articles, best first.

    Candidates are the published records dated no later than ``now``. Returns
    ``(lists, warnings)``; warnings name the file of a ``Related:`` slug that is unknown.
    """
    if cache is None:
        cache = VectorCache()
    # Canonical order: by slug (then file), whatever the input order.
    order = sorted(range(len(records)), key=lambda i: (records[i].slug, records[i].source))
    ordered = [records[i] for i in order]
    n = len(ordered)
    timestamps = np.array([r.date.timestamp() for r in ordered], dtype=np.float64)
    published = np.array([r.published for r in ordered], dtype=bool)
    candidate = published & (timestamps <= now.timestamp())
    candidate_index = np.flatnonzero(candidate)
    category_names = sorted({r.category for r in ordered})
    category_ids = {name: i for i, name in enumerate(category_names)}
    categories = np.array([category_ids[r.category] for r in ordered], dtype=np.int64)

    rows = others = np.zeros(0, dtype=np.int64)
    if len(candidate_index):
        text = _text_matrix(ordered, candidate, cache, params)
        tags = _tag_matrix(ordered)
        features = sp.hstack(
            [math.sqrt(params.text_weight) * text, math.sqrt(params.tags_weight) * tags],
            format="csr",
        )
        rows, others = _best_pairs(features, candidate_index, timestamps, categories, params)

    # Fallback: the latest candidates of the same category (newest first, then slug).
    newest = candidate_index[
        np.lexsort((candidate_index, -timestamps[candidate_index], categories[candidate_index]))
    ]
    group = categories[newest]
    bounds = np.searchsorted(group, np.arange(len(category_names) + 1)).tolist()
    latest = [
        newest[bounds[c] : min(bounds[c + 1], bounds[c] + params.max_related + 1)].tolist()
        for c in range(len(category_names))
    ]

    # Lists in the caller's order: row r of the canonical order is records[order[r]].
    order_array = np.array(order, dtype=np.int64)
    starts = np.searchsorted(rows, np.arange(n + 1)).tolist()
    computed = order_array[others].tolist()
    by_slug = {}
    for i in candidate_index.tolist():
        by_slug.setdefault(ordered[i].slug, order[i])
    warnings = []
    result = [None] * n
    for i, record in enumerate(ordered):
        own = order[i]
        chosen = computed[starts[i] : starts[i + 1]]
        if not chosen:
            chosen = [order[j] for j in latest[categories[i]] if j != i][: params.max_related]
        if record.related:
            first = []
            for slug in record.related:
                other = by_slug.get(slug)
                if other is None:
                    warnings.append(
                        f"{record.source}: không tìm thấy bài viết '{slug}' ở dòng Related "
                        "(related article not found or not published)"
                    )
                elif other != own and other not in first:
                    first.append(other)
            chosen = (first + [j for j in chosen if j not in first])[: params.max_related]
        result[own] = chosen
    return result, warnings
