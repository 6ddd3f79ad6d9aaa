"""related_posts scoring: which articles are related, from their Vietnamese text.

Pure functions and plain records, no Pelican objects, so every step is testable alone.

Text → terms
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

import hashlib
import html
import math
import os
import re
import tempfile
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from plugins.vn_text import nfc

__all__ = [
    "STOPWORDS",
    "TOKENIZER_VERSION",
    "Params",
    "Record",
    "VectorCache",
    "plain_text",
    "related_articles",
    "syllables",
    "term_counts",
]

# Function words that carry no topic, checked by hand against the sample bulletins. Kept short:
# the document-frequency cut-off removes the rest of the common words. Content words that are
# also frequent ("năm", "huyện", "đảng") are NOT here: "đảng" is a topic word, "đang" is not.
STOPWORDS = frozenset(
    """
    và với của các những là có được bị cho trong ngoài trên dưới tại từ đến về theo
    đã đang sẽ vẫn còn cũng đều thì mà nhưng hoặc hay nếu vì do nên để rằng này đó kia
    ấy nào gì khi lúc một mỗi từng như nhiều ít rất hơn lại ra vào qua sau trước cùng
    chỉ thêm nữa luôn ngay hết việc sự cái
    """.split()
)

# Bump when the tokenizer or STOPWORDS change: cached term counts are then recomputed.
TOKENIZER_VERSION = (
    "2:" + hashlib.blake2b(" ".join(sorted(STOPWORDS)).encode("utf-8"), digest_size=8).hexdigest()
)

# A run of letters/digits (a syllable), or a run of other visible characters (punctuation).
TOKEN_RE = re.compile(r"[^\W_]+|[^\w\s]+")
WORD_RE = re.compile(r"[^\W_]")
TAG_RE = re.compile(r"<[^>]*>")

_BREAK = -1  # a stopword or punctuation: ends the current run of syllables


@dataclass(frozen=True)
class Record:
    """One article as the scoring sees it.

    ``published``: False for drafts and hidden articles (they get a list, are never in one).
    ``related``: slugs of the ``Related:`` metadata line, shown first.
    ``source``: the file, for messages.
    """

    slug: str
    date: object  # an aware datetime
    category: str
    tags: tuple = ()
    text: str = ""
    published: bool = True
    related: tuple = ()
    source: str = ""


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


# --- Text → terms ------------------------------------------------------------------------


def plain_text(html_text):
    """The text of an HTML fragment: tags become breaks, entities are decoded, NFC."""
    return nfc(html.unescape(TAG_RE.sub(" . ", html_text)))


def syllables(text):
    """Syllables of ``text`` in order, lower case, with None where a run breaks
    (punctuation or a stopword). Reference version of what ``VectorCache`` does fast."""
    out = []
    for token in TOKEN_RE.findall(nfc(text).lower()):
        if WORD_RE.match(token) and token not in STOPWORDS:
            out.append(token)
        else:
            out.append(None)
    return out


def term_counts(text):
    """{term: count}: syllables and pairs of neighbouring syllables ("đảng viên")."""
    counts = {}
    previous = None
    for syllable in syllables(text):
        if syllable is not None:
            counts[syllable] = counts.get(syllable, 0) + 1
            if previous is not None:
                pair = f"{previous} {syllable}"
                counts[pair] = counts.get(pair, 0) + 1
        previous = syllable
    return counts


_KEY_SIZE = 16


def text_key(text):
    """Cache key of a text: a hash of the text (the tokenizer version is in the file header)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=_KEY_SIZE).digest()


# The fast path joins arrays by sorting (needle << _INDEX_BITS | position): one np.sort, no
# argsort, no hash table. Hence syllable hashes of 42 bits, and term codes made of two syllable
# ids of 21 bits each ((u + 1) << 21 | (v + 1), v = -1 for a single syllable).
_INDEX_BITS = 21
_INDEX_MASK = (1 << _INDEX_BITS) - 1
_SYLLABLE_BITS = 21
_MAX_SYLLABLES = (1 << _SYLLABLE_BITS) - 2
_CODE_BITS = 2 * _SYLLABLE_BITS
_HASH_BITS = 63 - _INDEX_BITS
_CHAR_KINDS = None
_POWERS = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))
_HASH_BASE = np.uint64(0x100000001B3)  # odd, so it has an inverse modulo 2**64
_LENGTH_MIX = np.uint64(0x9E3779B97F4A7C15)


def _char_kinds(codes):
    """0: skipped (space, "_"), 1: part of a syllable (a letter or digit), 2: a break
    (anything else) — the classes of TOKEN_RE, for an array of code points.

    The table is filled lazily, for the code points actually met (a few hundred).
    """
    global _CHAR_KINDS
    if _CHAR_KINDS is None:
        _CHAR_KINDS = np.full(0x110000, 255, dtype=np.uint8)
    kinds = _CHAR_KINDS[codes]
    unknown = kinds == 255
    if unknown.any():
        for code in _distinct(codes[unknown]).tolist():
            char = chr(code)
            _CHAR_KINDS[code] = 1 if char.isalnum() else 0 if char.isspace() or char == "_" else 2
        kinds = _CHAR_KINDS[codes]
    return kinds


def _powers(length):
    """HASH_BASE**i and its inverse**i modulo 2**64, for i < length."""
    global _POWERS
    if len(_POWERS[0]) < length:
        inverse = pow(int(_HASH_BASE), -1, 2**64)
        size = max(length, 2 * len(_POWERS[0]))
        with np.errstate(over="ignore"):
            up = np.cumprod(np.full(size, _HASH_BASE, dtype=np.uint64))
            down = np.cumprod(np.full(size, np.uint64(inverse), dtype=np.uint64))
        _POWERS = (
            np.concatenate([[np.uint64(1)], up[:-1]]),
            np.concatenate([[np.uint64(1)], down[:-1]]),
        )
    return _POWERS


def _mix(values):
    """MurmurHash3's 64-bit finaliser: spreads every input bit over the high bits."""
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint64(33))
        values = values * np.uint64(0xFF51AFD7ED558CCD)
        values = values ^ (values >> np.uint64(33))
        values = values * np.uint64(0xC4CEB9FE1A85EC53)
        return values ^ (values >> np.uint64(33))


def tokenize(texts):
    """Tokenise many texts at once with numpy (same tokens as ``syllables``).

    Returns ``(hashes, starts, ends, text_of_token, big)``, one entry per token in order: a
    syllable has a 42-bit hash of its characters (never 0); a break (punctuation, or the
    boundary between two texts) has hash 0. ``starts``/``ends`` index ``big``, the lower-cased
    joined text.
    """
    # NUL separates the texts; a NUL inside a text becomes another break character.
    big = "\x00".join(text.replace("\x00", "\x01") for text in texts).lower()
    codes = np.frombuffer(big.encode("utf-32-le"), dtype=np.uint32)
    kinds = _char_kinds(codes)
    # A token starts where the kind changes to 1 (syllable) or 2 (break); a syllable ends
    # where the next character is not a syllable character.
    padded = np.zeros(len(kinds) + 2, dtype=np.uint8)
    padded[1:-1] = kinds
    token_starts = np.flatnonzero((kinds != 0) & (kinds != padded[:-2]))
    is_word = kinds[token_starts] == 1
    word_starts = token_starts[is_word]
    word_ends = np.flatnonzero((kinds == 1) & (padded[2:] != 1)) + 1
    up, down = _powers(len(codes) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
        np.cumsum(codes * up[: len(codes)], out=prefix[1:])
        hashed = (prefix[word_ends] - prefix[word_starts]) * down[word_starts]
        hashed += (word_ends - word_starts).astype(np.uint64) * _LENGTH_MIX
        hashed = _mix(hashed)
    hashed = (hashed >> np.uint64(64 - _HASH_BITS)).astype(np.int64)
    hashed[hashed == 0] = 1  # 0 means a break
    hashes = np.zeros(len(token_starts), dtype=np.int64)
    hashes[is_word] = hashed
    ends = token_starts.copy()
    ends[is_word] = word_ends
    text_of_token = np.searchsorted(np.flatnonzero(codes == 0), token_starts)
    return hashes, token_starts, ends, text_of_token, big


def _stopword_hashes():
    hashes, *_ = tokenize([" ".join(sorted(STOPWORDS))])
    return np.unique(hashes[hashes != 0])


def _sorted_lookup(sorted_keys, values, needles):
    """(values of ``needles`` in ``sorted_keys``, found?) — missing needles get _BREAK.

    Needles are sorted first (with their positions packed in the low bits: one fast np.sort),
    so np.searchsorted walks the table in order.
    """
    out = np.full(len(needles), _BREAK, dtype=np.int64)
    found = np.zeros(len(needles), dtype=bool)
    if len(sorted_keys) == 0:
        return out, found
    step = 1 << _INDEX_BITS
    for first in range(0, len(needles), step):
        part = needles[first : first + step]
        packed = np.sort((part << _INDEX_BITS) | np.arange(len(part)))
        keys = packed >> _INDEX_BITS
        where = (packed & _INDEX_MASK) + first
        position = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
        hit = sorted_keys[position] == keys
        out[where[hit]] = values[position[hit]]
        found[where[hit]] = True
    return out, found


def _distinct(values):
    """Sorted distinct values (np.sort + a comparison: faster here than np.unique's hashing)."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def _unique_sorted(values):
    """Sorted distinct values, and the position of the first occurrence of each."""
    if len(values) == 0:
        return values, np.zeros(0, dtype=np.int64)
    if len(values) > _INDEX_MASK:
        return np.unique(values, return_index=True)
    packed = np.sort((values << _INDEX_BITS) | np.arange(len(values)))
    keys = packed >> _INDEX_BITS
    first = np.concatenate([[True], keys[1:] != keys[:-1]])
    return keys[first], packed[first] & _INDEX_MASK


class VectorCache:
    """Term counts per text, with the vocabulary they refer to; saved as one .npz file.

    Syllable and term ids are internal: they depend on what the cache saw first. Results never
    depend on them: every term also has ``term_keys``, a hash of its text, used for ordering.
    """

    VERSION = 3

    def __init__(self):
        self.syllables = []
        self.syllable_hash = np.zeros(0, dtype=np.int64)
        # Terms: ``term_codes`` sorted, ``term_ids`` alongside; ``term_keys`` by id.
        self.term_codes = np.zeros(0, dtype=np.int64)
        self.term_ids = np.zeros(0, dtype=np.int64)
        self.term_keys = np.zeros(0, dtype=np.uint64)
        self.docs = {}  # text hash → (term ids uint32, counts uint32)
        self._syllable_table = None
        self.changed = False  # texts were added since loading
        self.used = set()  # keys of the texts asked for since loading
        self.added = 0  # texts tokenised since loading

    @property
    def n_terms(self):
        return len(self.term_keys)

    # -- persistence --

    @classmethod
    def load(cls, path):
        """The cache saved at ``path``, or an empty one if it is missing, old or unreadable."""
        cache = cls()
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["version"]) != f"{cls.VERSION}/{TOKENIZER_VERSION}":
                    return cache
                text = bytes(data["syllables"]).decode("utf-8")
                syllables = text.split("\n") if text else []
                syllable_hash = data["syllable_hash"]
                term_codes = data["term_codes"]
                term_keys = data["term_keys"]
                hashes = data["doc_hashes"].tobytes()
                offsets = data["doc_offsets"]
                terms = data["doc_terms"]
                counts = data["doc_counts"]
        except (OSError, KeyError, ValueError, EOFError):
            return cache
        keys = [hashes[i : i + _KEY_SIZE] for i in range(0, len(hashes), _KEY_SIZE)]
        if (
            len(syllables) != len(syllable_hash)
            or len(term_codes) != len(term_keys)
            or len(keys) + 1 != len(offsets)
        ):
            return cache
        cache.syllables = syllables
        cache.syllable_hash = syllable_hash
        cache.term_codes = term_codes
        cache.term_ids = np.arange(len(term_codes), dtype=np.int64)  # saved in code order
        cache.term_keys = term_keys
        bounds = offsets.tolist()
        cache.docs = {
            key: (terms[start:end], counts[start:end])
            for key, start, end in zip(keys, bounds[:-1], bounds[1:], strict=True)
        }
        return cache

    def save(self, path, keep=None):
        """Write the cache (only the texts in ``keep``, if given) atomically to ``path``.

        Terms no kept text uses are dropped, and ids are renumbered in code order, so that
        ``load`` needs no sort.
        """
        keys = sorted(self.docs if keep is None else set(keep) & self.docs.keys())
        lengths = [len(self.docs[key][0]) for key in keys]
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        empty = np.zeros(0, dtype=np.uint32)
        terms = np.concatenate([self.docs[key][0] for key in keys] or [empty])
        counts = np.concatenate([self.docs[key][1] for key in keys] or [empty])
        used = np.bincount(terms, minlength=self.n_terms) > 0
        in_order = self.term_ids[used[self.term_ids]]  # used ids, in code order
        renumber = np.zeros(self.n_terms, dtype=np.int64)
        renumber[in_order] = np.arange(len(in_order))
        folder = os.path.dirname(path) or "."
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(
                    out,
                    version=np.array(f"{self.VERSION}/{TOKENIZER_VERSION}"),
                    syllables=np.frombuffer("\n".join(self.syllables).encode("utf-8"), np.uint8),
                    syllable_hash=self.syllable_hash,
                    term_codes=self.term_codes[used[self.term_ids]],
                    term_keys=self.term_keys[in_order],
                    # Raw bytes: a "S16" array would drop trailing NUL bytes of a digest.
                    doc_hashes=np.frombuffer(b"".join(keys), dtype=np.uint8),
                    doc_offsets=offsets,
                    doc_terms=renumber[terms].astype(np.uint32),
                    doc_counts=counts.astype(np.uint32, copy=False),
                )
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        self.changed = False

    # -- vectorising --

    def counts_for(self, texts, chunk_chars=1_000_000):
        """(keys, [(term ids, counts)]) for the texts, computing (and keeping) missing ones."""
        keys = [text_key(text) for text in texts]
        self.used.update(keys)
        missing = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self.docs and key not in missing:
                missing[key] = text
        batch = []
        size = 0
        for item in missing.items():
            batch.append(item)
            size += len(item[1])
            if size >= chunk_chars:
                self._add(batch)
                batch, size = [], 0
        if batch:
            self._add(batch)
        return keys, [self.docs[key] for key in keys]

    def _syllable_ids(self, hashes, starts, ends, big):
        """Syllable ids for token hashes (0 → break); stopwords break; new syllables are added."""
        if self._syllable_table is None:
            stop = _stopword_hashes()
            known = np.concatenate([self.syllable_hash, stop])
            values = np.concatenate(
                [np.arange(len(self.syllable_hash)), np.full(len(stop), _BREAK)]
            )
            order = np.argsort(known, kind="stable")
            self._syllable_table = (known[order], values[order])
        known, values = self._syllable_table
        ids, found = _sorted_lookup(known, values, hashes)
        new = np.flatnonzero(~found & (hashes != 0))
        if len(new):
            unique, first = _unique_sorted(hashes[new])
            base = len(self.syllables)
            if base + len(unique) > _MAX_SYLLABLES:
                raise OverflowError("related_posts: too many distinct syllables for the cache")
            fresh = np.arange(base, base + len(unique))
            ids[new] = _sorted_lookup(unique, fresh, hashes[new])[0]
            spans = zip(starts[new[first]].tolist(), ends[new[first]].tolist(), strict=True)
            self.syllables.extend(big[start:end] for start, end in spans)
            self.syllable_hash = np.concatenate([self.syllable_hash, unique])
            self._syllable_table = None
        return ids

    def _term_ids(self, codes):
        """Term ids for term codes, creating the new terms."""
        ids, found = _sorted_lookup(self.term_codes, self.term_ids, codes)
        new = np.flatnonzero(~found)
        if len(new):
            unique, _ = _unique_sorted(codes[new])
            fresh = np.arange(self.n_terms, self.n_terms + len(unique))
            ids[new] = _sorted_lookup(unique, fresh, codes[new])[0]
            where = np.searchsorted(self.term_codes, unique)
            self.term_codes = np.insert(self.term_codes, where, unique)
            self.term_ids = np.insert(self.term_ids, where, fresh)
            self.term_keys = np.concatenate([self.term_keys, self._code_keys(unique)])
        return ids

    def _code_keys(self, codes):
        """A hash of each term's text, from its syllables' hashes (never from ids)."""
        u = (codes >> _SYLLABLE_BITS) - 1
        v = (codes & ((1 << _SYLLABLE_BITS) - 1)) - 1
        hu = self.syllable_hash[u].astype(np.uint64)
        hv = np.where(v >= 0, self.syllable_hash[np.maximum(v, 0)], 0).astype(np.uint64)
        with np.errstate(over="ignore"):
            return (
                hu * np.uint64(0x9E3779B97F4A7C15)
                + hv * np.uint64(0xC2B2AE3D27D4EB4F)
                + np.uint64(1)
            )

    def _add(self, items):
        hashes, starts, ends, text_of_token, big = tokenize([text for _, text in items])
        ids = self._syllable_ids(hashes, starts, ends, big) + 1  # 0: a break
        single = ids > 0
        # Neighbouring syllables of one text (texts are separated by a break token).
        pair = single[:-1] & single[1:]
        codes = np.concatenate(
            [ids[single] << _SYLLABLE_BITS, (ids[:-1][pair] << _SYLLABLE_BITS) | ids[1:][pair]]
        )
        texts = np.concatenate([text_of_token[single], text_of_token[:-1][pair]])
        # Count each (text, term) with one sort.
        keys = np.sort((texts << _CODE_BITS) | codes)
        first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]])[: len(keys)])
        counts = np.diff(np.append(first, len(keys))).astype(np.uint32)
        keys = keys[first]
        terms = self._term_ids(keys & ((1 << _CODE_BITS) - 1)).astype(np.uint32)
        bounds = np.searchsorted(keys >> _CODE_BITS, np.arange(len(items) + 1)).tolist()
        for row, (key, _) in enumerate(items):
            self.docs[key] = (
                terms[bounds[row] : bounds[row + 1]],
                counts[bounds[row] : bounds[row + 1]],
            )
        self.added += len(items)
        self.changed = True

    def term_text(self, term):
        """The text of a term id ("đảng viên"), for tests and debugging."""
        code = int(self.term_codes[np.flatnonzero(self.term_ids == term)[0]])
        u = (code >> _SYLLABLE_BITS) - 1
        v = (code & ((1 << _SYLLABLE_BITS) - 1)) - 1
        return self.syllables[u] if v < 0 else f"{self.syllables[u]} {self.syllables[v]}"


# --- Vectors → scores -----------------------------------------------------------------------


def _top_k_per_row(starts, values, tiebreak, k, cells=4_000_000):
    """Indices of the ``k`` largest ``values`` in each row (ties: smaller tiebreak first).

    Rows are CSR-style: row r is ``values[starts[r]:starts[r + 1]]``. ``tiebreak(indices)``
    gives the tie-breaking keys of some entries (only the tied ones are asked for). The k-th
    largest value of each row comes from np.partition over a padded (rows × longest row)
    block, a few thousand rows at a time: O(entries), no sort of the entries.
    """
    n_rows = len(starts) - 1
    lengths = np.diff(starts)
    if n_rows == 0 or starts[-1] == 0:
        return np.zeros(0, dtype=np.int64)
    threshold = np.full(n_rows, -np.inf)
    width = int(lengths.max())
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
            padded.partition(width - k, axis=1)
            threshold[first:last] = np.where(local > k, padded[:, width - k], -np.inf)
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
    _, vectors = cache.counts_for([r.text for r in records])
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
    found = []
    for first in range(0, n, params.block_rows):
        last = min(n, first + params.block_rows)
        block = query[first:last] @ target
        best = _top_k_per_row(
            block.indptr, block.data, lambda idx, b=block: candidates[b.indices[idx]], limit
        )
        rows = np.searchsorted(block.indptr, best, side="right") - 1 + first
        found.append((rows, candidates[block.indices[best]], block.data[best]))
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
