"""Vietnamese text helpers shared by every plugin that touches text.

Pure functions, no Pelican objects:

- ``nfc``: Unicode NFC normalisation (staff paste text in NFD from some editors).
- ``weekday_name``, ``format_date``, ``format_datetime``, ``format_long_date``,
  ``iso_datetime``: dates from our own weekday table, never the OS locale
  (vi_VN is usually missing, and Babel says "Chủ Nhật").
- ``slugify``: ASCII slugs, đ→d, punctuation (including "/") becomes "-".
- ``sort_key``: Vietnamese alphabetical order (a ă â b c d đ e ê …; tones after the
  base letters), for category and tag listings.
- ``fold``: remove tone marks, letter modifiers and đ, for diacritic-insensitive matching;
  ``has_diacritics`` tells whether folding changes a text.
- ``decompose_d`` / ``compose_d``: write đ as d + U+0335 (and back), so that a search engine
  that folds by removing combining marks, as Pagefind does, folds đ to d like every other
  Vietnamese letter (đ has no Unicode decomposition, so NFD leaves it whole).

The query side of search has a JavaScript twin of ``fold``, ``has_diacritics``,
``decompose_d`` and ``compose_d`` (theme/static/js/vn-fold.js); both are tested against the
same table (tests/data/vn_fold_cases.json).
"""

import re
import unicodedata
from datetime import datetime, timedelta, timezone

import unidecode

__all__ = [
    "ALPHABET",
    "D_STROKE_MARK",
    "SLUG_REGEX_SUBSTITUTIONS",
    "TIMEZONE_NAME",
    "VIETNAM_TZ",
    "WEEKDAYS",
    "compose_d",
    "decompose_d",
    "fold",
    "format_date",
    "format_datetime",
    "format_long_date",
    "format_month",
    "has_diacritics",
    "iso_datetime",
    "nfc",
    "now_in_vietnam",
    "parse_date",
    "slugify",
    "sort_key",
    "to_vietnam_time",
    "weekday_name",
]

TIMEZONE_NAME = "Asia/Ho_Chi_Minh"
# Vietnam has had no daylight saving time since 1975: a fixed offset is exact.
VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")

# Monday is 0, as in datetime.weekday().
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")

# Pelican's slugify applies these after unidecode(); used for articles, categories and tags.
SLUG_REGEX_SUBSTITUTIONS = [
    (r"[^\w\s-]", " "),  # any punctuation, "/" included, separates words
    (r"[-\s_]+", "-"),
    (r"^-+|-+$", ""),
]

# The Vietnamese alphabet, with the foreign letters f j w z at their Latin places.
ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {letter: rank for rank, letter in enumerate(ALPHABET)}

# Combining marks that make a new letter (ă â ê ô ơ ư), and the five tone marks.
_MODIFIERS = {"\u0306": "breve", "\u0302": "circumflex", "\u031b": "horn"}
_MODIFIED = {
    ("a", "breve"): "ă",
    ("a", "circumflex"): "â",
    ("e", "circumflex"): "ê",
    ("o", "circumflex"): "ô",
    ("o", "horn"): "ơ",
    ("u", "horn"): "ư",
}
# COMBINING SHORT STROKE OVERLAY: d + this mark stands for đ in the search index.
D_STROKE_MARK = "\u0335"

# Dictionary order of tones: ngang, huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def nfc(text):
    """Return ``text`` in Unicode Normalization Form C."""
    return unicodedata.normalize("NFC", text)


def to_vietnam_time(value):
    """Return an aware datetime in Vietnam time (naive values are taken as Vietnam time)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=VIETNAM_TZ)
    return value.astimezone(VIETNAM_TZ)


def weekday_name(value):
    """"Thứ Hai" … "Chủ nhật" for a date or datetime."""
    return WEEKDAYS[value.weekday()]


def format_date(value):
    """09/11/2021"""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_datetime(value):
    """Thứ Ba 09/11/2021 09:00 — the article byline format of the old portal."""
    value = to_vietnam_time(value)
    return f"{weekday_name(value)} {format_date(value)} {value.hour:02d}:{value.minute:02d}"


def format_long_date(value):
    """Chủ nhật, ngày 24/11/2024 — the banner date format."""
    return f"{weekday_name(value)}, ngày {format_date(value)}"


def format_month(value):
    """Tháng 11/2021"""
    return f"Tháng {value.month:02d}/{value.year:04d}"


def iso_datetime(value):
    """2021-11-09T09:00:00+07:00, for <time datetime> and feeds."""
    return to_vietnam_time(value).isoformat(timespec="seconds")


def now_in_vietnam():
    return datetime.now(VIETNAM_TZ)


_ISO_DATE = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)
_VN_DATE = re.compile(
    r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"
    r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)


def parse_date(text):
    """Parse an article date, day first, never guessed; returns a naive datetime.

    Accepted: ``YYYY-MM-DD HH:MM`` and ``DD/MM/YYYY HH:MM`` (Vietnamese order: "05/03/2021"
    is 5 March), the time optional, seconds allowed. Raises ``ValueError`` with a message in
    Vietnamese (English in brackets) for anything else, or for a day that does not exist.
    """
    value = " ".join(text.split())
    match = _ISO_DATE.match(value) or _VN_DATE.match(value)
    if match is None:
        raise ValueError(
            f'ngày "{text}" không đúng dạng YYYY-MM-DD HH:MM hoặc DD/MM/YYYY HH:MM '
            f'(date "{text}" is not in the form YYYY-MM-DD HH:MM or DD/MM/YYYY HH:MM)'
        )
    parts = {key: int(number) if number else 0 for key, number in match.groupdict().items()}
    try:
        return datetime(parts["y"], parts["m"], parts["d"], parts["H"], parts["M"], parts["S"])
    except ValueError:
        raise ValueError(
            f'ngày "{text}" không có thật trên lịch (date "{text}" does not exist)'
        ) from None


def slugify(text):
    """ASCII slug: "Quý I/2024" → "quy-i-2024", "Đảng" → "dang".

    Same steps as ``pelican.utils.slugify`` with ``SLUG_REGEX_SUBSTITUTIONS``, so the
    slugs Pelican computes for articles, categories and tags agree with this function.
    """
    value = unicodedata.normalize("NFKC", text)
    value = unidecode.unidecode(value)
    for pattern, replacement in SLUG_REGEX_SUBSTITUTIONS:
        value = re.sub(pattern, replacement, value, flags=re.IGNORECASE)
    return value.lower().strip()


def _letters(text):
    """Yield (base letter, tone) for each character of ``text`` (lower case)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    base = None
    modifier = None
    tone = 0
    for char in decomposed:
        if unicodedata.combining(char):
            if char in _MODIFIERS:
                modifier = _MODIFIERS[char]
            elif char in _TONES:
                tone = _TONES[char]
            continue
        if base is not None:
            yield _MODIFIED.get((base, modifier), base), tone
        base, modifier, tone = char, None, 0
    if base is not None:
        yield _MODIFIED.get((base, modifier), base), tone


def sort_key(text):
    """Key for sorting Vietnamese strings the way a Vietnamese dictionary does.

    Letters compare by the Vietnamese alphabet (đ after d, ă â after a …); tones only
    break ties between otherwise equal strings. Spaces sort before letters, digits
    before letters, other characters by code point after the alphabet.
    """
    primary = []
    tones = []
    for letter, tone in _letters(text):
        if letter in _LETTER_RANK:
            primary.append((2, _LETTER_RANK[letter]))
        elif letter.isspace():
            primary.append((0, 0))
        elif letter.isdigit():
            primary.append((1, int(letter)))
        else:
            primary.append((3, ord(letter)))
        tones.append(tone)
    return (tuple(primary), tuple(tones), nfc(text))


def fold(text, lower=True):
    """Remove tone marks, letter modifiers and đ: "Đảng viên" → "dang vien"."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    stripped = unicodedata.normalize("NFC", stripped)
    return stripped.lower() if lower else stripped


def has_diacritics(text):
    """True when ``text`` has a tone mark, a letter modifier or đ: "đang" yes, "Gia Loc" no."""
    return fold(text) != nfc(text).lower()


def decompose_d(text):
    """NFC ``text`` with đ/Đ written as d/D + U+0335: "Đảng" → "D\u0335ảng".

    Removing combining marks then folds đ to d, as it folds ả to a. A stray U+0335 already
    in the text is dropped (it cannot turn a d into đ), so for any text without one
    ``compose_d(decompose_d(text)) == nfc(text)``.
    """
    text = nfc(text).replace(D_STROKE_MARK, "")
    return text.replace("đ", "d" + D_STROKE_MARK).replace("Đ", "D" + D_STROKE_MARK)


def compose_d(text):
    """Undo ``decompose_d``: "D\u0335ảng" → "Đảng"."""
    return text.replace("d" + D_STROKE_MARK, "đ").replace("D" + D_STROKE_MARK, "Đ")
