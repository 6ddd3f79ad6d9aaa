"""related_posts terms: Vietnamese text → terms, and the cache of term counts.

Pure functions, no Pelican objects.

- ``syllables``/``term_counts``: the reference tokeniser (a regular expression, one text at a
  time): NFC, lower case, syllables split on anything that is not a letter or a digit
  (diacritics kept: folding would merge "đảng", "đang" and "dạng"); terms are the syllables and
  the pairs of neighbouring syllables ("đảng viên"); punctuation and ``STOPWORDS`` break a run.
- ``tokenize``: the same tokens for many texts at once, with numpy (used by the cache; tests
  check that both agree).
- ``VectorCache``: term counts per text hash, with their vocabulary, saved as one .npz file
  (``CACHE_PATH/related_posts/vectors.npz``), so a rebuild tokenises only new or edited texts.
"""

import hashlib
import html
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from plugins.incremental.fingerprint import module_digest
from plugins.incremental.state import write_atomically_with
from plugins.vn_text import nfc

__all__ = [
    "STOPWORDS",
    "VectorCache",
    "plain_text",
    "syllables",
    "term_counts",
    "text_key",
    "tokenize",
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

# A run of letters/digits (a syllable), or a run of other visible characters (punctuation).
TOKEN_RE = re.compile(r"[^\W_]+|[^\w\s]+")
WORD_RE = re.compile(r"[^\W_]")
TAG_RE = re.compile(r"<[^>]*>")

_BREAK = -1  # a stopword or punctuation: ends the current run of syllables


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


# numpy's stable sort where it was measured faster on the benchmark corpus (3,000 articles):
# the (text, term) keys of ``_add``, which come text after text, 0.099 → 0.057 s; the token
# hashes packed with their positions (syllables repeat a lot), 0.129 → 0.088 s and 0.016 →
# 0.011 s. The sorted array is the same as the default quicksort's (integers: equal ones are
# indistinguishable). Not in ``_distinct``, where it was slower (0.030 → 0.053 s).
_RUNS = "stable"

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


_LOWER = None
_UNKNOWN_CASE = np.uint32(0xFFFFFFFF)
_SPECIAL_CASE = np.uint32(0xFFFFFFFE)


def _lower_codes(codes):
    """``codes`` in lower case, as str.lower() would give them, or None when some character
    does not lower to exactly one character on its own (İ → i̇, Σ → σ or ς)."""
    global _LOWER
    if _LOWER is None:
        _LOWER = np.full(0x110000, _UNKNOWN_CASE, dtype=np.uint32)
    lowered = _LOWER[codes]
    unknown = lowered == _UNKNOWN_CASE
    if unknown.any():
        for code in _distinct(codes[unknown]).tolist():
            lower = chr(code).lower()
            single = len(lower) == 1 and code != 0x3A3  # Σ: final sigma depends on context
            _LOWER[code] = ord(lower) if single else _SPECIAL_CASE
        lowered = _LOWER[codes]
    if (lowered == _SPECIAL_CASE).any():
        return None
    return lowered


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
    syllable has a 42-bit hash of its lower-cased characters (never 0); a break (punctuation,
    or the boundary between two texts) has hash 0. ``starts``/``ends`` index ``big``, the
    joined text (lower-case it to read a syllable: ``big[start:end].lower()``).
    """
    # NUL separates the texts; a NUL inside a text becomes another break character.
    big = "\x00".join(text.replace("\x00", "\x01") for text in texts)
    codes = np.frombuffer(big.encode("utf-32-le"), dtype=np.uint32)
    lowered = _lower_codes(codes)
    if lowered is None:  # a character whose lower case is not one character: str.lower()
        big = big.lower()
        codes = np.frombuffer(big.encode("utf-32-le"), dtype=np.uint32)
        separators = np.flatnonzero(codes == 0)
    else:
        codes = lowered
        separators = np.cumsum([len(text) + 1 for text in texts[:-1]], dtype=np.int64) - 1
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
    text_of_token = np.searchsorted(separators, token_starts)
    return hashes, token_starts, ends, text_of_token, big


def _stopword_hashes():
    hashes, *_ = tokenize([" ".join(sorted(STOPWORDS))])
    return np.unique(hashes[hashes != 0])


def _sorted_lookup(sorted_keys, values, needles):
    """(values of ``needles`` in ``sorted_keys``, found?) — missing needles get _BREAK.

    Needles are sorted first (with their positions packed in the low bits: one fast np.sort);
    only their distinct values are searched in the table, then spread back.
    """
    out = np.full(len(needles), _BREAK, dtype=np.int64)
    found = np.zeros(len(needles), dtype=bool)
    if len(sorted_keys) == 0 or len(needles) == 0:
        return out, found
    step = 1 << _INDEX_BITS
    for first in range(0, len(needles), step):
        part = needles[first : first + step]
        packed = np.sort((part << _INDEX_BITS) | np.arange(len(part)), kind=_RUNS)
        keys = packed >> _INDEX_BITS
        where = (packed & _INDEX_MASK) + first
        run_starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        distinct = keys[run_starts]
        position = np.minimum(np.searchsorted(sorted_keys, distinct), len(sorted_keys) - 1)
        hit = sorted_keys[position] == distinct
        run_lengths = np.diff(np.append(run_starts, len(keys)))
        out[where] = np.repeat(np.where(hit, values[position], _BREAK), run_lengths)
        found[where] = np.repeat(hit, run_lengths)
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
    packed = np.sort((values << _INDEX_BITS) | np.arange(len(values)), kind=_RUNS)
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
        self.saved_keys = frozenset()  # keys of the texts in the file (loaded or saved)
        # text key → text: tokenised, not in the file, kept apart by the cache's user until
        # it is written (related_posts.PENDING_FILE)
        self.pending = {}

    @property
    def n_terms(self):
        return len(self.term_keys)

    # -- persistence --

    @classmethod
    def version(cls):
        """The cache's format and this module's code (the tokenizer, STOPWORDS): a cache
        written by other code is not used."""
        return f"{cls.VERSION}/{module_digest(sys.modules[__name__])}"

    @classmethod
    def load(cls, path):
        """The cache saved at ``path``, or an empty one if it is missing, old or unreadable."""
        cache = cls()
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["version"]) != cls.version():
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
        cache.saved_keys = frozenset(cache.docs)
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
        renumber = np.zeros(self.n_terms, dtype=np.uint32)
        renumber[in_order] = np.arange(len(in_order))
        arrays = {
            "version": np.array(self.version()),
            "syllables": np.frombuffer("\n".join(self.syllables).encode("utf-8"), np.uint8),
            "syllable_hash": self.syllable_hash,
            "term_codes": self.term_codes[used[self.term_ids]],
            "term_keys": self.term_keys[in_order],
            # Raw bytes: a "S16" array would drop trailing NUL bytes of a digest.
            "doc_hashes": np.frombuffer(b"".join(keys), dtype=np.uint8),
            "doc_offsets": offsets,
            "doc_terms": renumber[terms],
            "doc_counts": counts.astype(np.uint32, copy=False),
        }
        del terms  # its renumbered copy is what is written
        # Straight to the file: made in memory first, the file (30 MB at 10,000 articles)
        # was held twice more at the lists' process's peak.
        write_atomically_with(path, lambda handle: np.savez(handle, **arrays))
        self.changed = False
        self.saved_keys = frozenset(keys)

    # -- vectorising --

    def counts_for(self, texts, chunk_chars=1_000_000, keys=None):
        """(keys, [(term ids, counts)]) for the texts, computing (and keeping) missing ones.

        ``keys``: the ``text_key`` of each text where the caller knows it (else None); a text
        may then be "" if its key is in the cache (``docs``)."""
        if keys is None:
            keys = [text_key(text) for text in texts]
        else:
            keys = [text_key(t) if k is None else k for t, k in zip(texts, keys, strict=True)]
        self.used.update(keys)
        missing = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self.docs and key not in missing:
                missing[key] = text
        batches, batch, size = [], [], 0
        for item in missing.items():
            batch.append(item)
            size += len(item[1])
            if size >= chunk_chars:
                batches.append(batch)
                batch, size = [], 0
        if batch:
            batches.append(batch)
        if len(batches) < 2:
            for batch in batches:
                self._add(batch, tokenize([text for _, text in batch]))
            return keys, [self.docs[key] for key in keys]
        # A thread tokenises the next batch while this one is added to the vocabulary (numpy
        # releases the GIL in its sorts and sums, so two cores work). Batches are added in
        # order, so ids and results are the same as one batch after the other.
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = pool.submit(tokenize, [text for _, text in batches[0]])
            for number, batch in enumerate(batches):
                tokens = ahead.result()
                if number + 1 < len(batches):
                    ahead = pool.submit(tokenize, [text for _, text in batches[number + 1]])
                self._add(batch, tokens)
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
            self.syllables.extend(big[start:end].lower() for start, end in spans)
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

    def _add(self, items, tokens):
        """Count the terms of ``items`` ((key, text) pairs) from their ``tokenize`` output."""
        hashes, starts, ends, text_of_token, big = tokens
        ids = self._syllable_ids(hashes, starts, ends, big) + 1  # 0: a break
        single = ids > 0
        # Neighbouring syllables of one text (texts are separated by a break token).
        pair = single[:-1] & single[1:]
        codes = np.concatenate(
            [ids[single] << _SYLLABLE_BITS, (ids[:-1][pair] << _SYLLABLE_BITS) | ids[1:][pair]]
        )
        texts = np.concatenate([text_of_token[single], text_of_token[:-1][pair]])
        # Count each (text, term) with one sort.
        keys = np.sort((texts << _CODE_BITS) | codes, kind=_RUNS)
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
