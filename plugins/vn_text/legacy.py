"""Legacy Vietnamese encodings: detect and convert text typed before Unicode.

Offices still receive text typed with the old TCVN3 (ABC, ".VnTime" fonts) and VNI
("VNI-Times" fonts) keyboards. Saved as Latin text it shows as mojibake:

    TCVN3:  "Héi nghÞ giao ban"    → "Hội nghị giao ban"
    VNI:    "Hoäi nghò giao ban"   → "Hội nghị giao ban"

and Windows-1258 files (Vietnamese Windows code page, with combining tone marks) are not
UTF-8 at all. ``decode_bytes`` reads a file's bytes whatever they are and tells which
encoding it found; ``vietnamese_score`` is the measure used to choose.
"""

import codecs
import re
import unicodedata

# --- TCVN3 (TCVN 5712:1993 VN3, the ABC keyboard's ".Vn" fonts) ---------------------------
# One byte per letter. Upper-case toned letters lived in separate ".VnXxxH" fonts with the
# same codes as the lower-case ones, so only the seven base capitals have codes of their own.
_TCVN3_PAIRS = (
    ("à", "µ"), ("á", "¸"), ("ả", "¶"), ("ã", "·"), ("ạ", "¹"),
    ("ă", "¨"), ("ằ", "»"), ("ắ", "¾"), ("ẳ", "¼"), ("ẵ", "½"), ("ặ", "Æ"),
    ("â", "©"), ("ầ", "Ç"), ("ấ", "Ê"), ("ẩ", "È"), ("ẫ", "É"), ("ậ", "Ë"),
    ("đ", "®"),
    ("è", "Ì"), ("é", "Ð"), ("ẻ", "Î"), ("ẽ", "Ï"), ("ẹ", "Ñ"),
    ("ê", "ª"), ("ề", "Ò"), ("ế", "Õ"), ("ể", "Ó"), ("ễ", "Ô"), ("ệ", "Ö"),
    ("ì", "×"), ("í", "Ý"), ("ỉ", "Ø"), ("ĩ", "Ü"), ("ị", "Þ"),
    ("ò", "ß"), ("ó", "ã"), ("ỏ", "á"), ("õ", "â"), ("ọ", "ä"),
    ("ô", "«"), ("ồ", "å"), ("ố", "è"), ("ổ", "æ"), ("ỗ", "ç"), ("ộ", "é"),
    ("ơ", "¬"), ("ờ", "ê"), ("ớ", "í"), ("ở", "ë"), ("ỡ", "ì"), ("ợ", "î"),
    ("ù", "ï"), ("ú", "ó"), ("ủ", "ñ"), ("ũ", "ò"), ("ụ", "ô"),
    ("ư", "\u00ad"), ("ừ", "õ"), ("ứ", "ø"), ("ử", "ö"), ("ữ", "÷"), ("ự", "ù"),
    ("ỳ", "ú"), ("ý", "ý"), ("ỷ", "û"), ("ỹ", "ü"), ("ỵ", "þ"),
    ("Ă", "¡"), ("Â", "¢"), ("Đ", "§"), ("Ê", "£"), ("Ô", "¤"), ("Ơ", "¥"), ("Ư", "¦"),
)  # fmt: skip
_TCVN3_DECODE = str.maketrans({legacy: uni for uni, legacy in _TCVN3_PAIRS})
_TCVN3_ENCODE = {uni: legacy for uni, legacy in _TCVN3_PAIRS}

# --- VNI (VNI-Windows fonts) ---------------------------------------------------------------
# A base letter followed by one mark character; a few letters are single characters.
_VNI_TONES = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_VNI_CIRCUMFLEX = {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã",
                   "\u0323": "ä"}  # fmt: skip
_VNI_BREVE = {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
# i and y with a tone, đ, and the bases of ơ and ư are single characters.
_VNI_SINGLE = {"ỉ": "æ", "ĩ": "ó", "ị": "ò", "ỵ": "î", "đ": "ñ", "ơ": "ô", "ư": "ö",
               "í": "í", "ì": "ì"}  # fmt: skip


def _build_vni_tables():
    encode = {}
    for base in "aeiouy":
        for tone, mark in _VNI_TONES.items():
            encode[unicodedata.normalize("NFC", base + tone)] = base + mark
    for base in "aeo":
        for tone, mark in _VNI_CIRCUMFLEX.items():
            encode[unicodedata.normalize("NFC", base + "\u0302" + tone)] = base + mark
    for tone, mark in _VNI_BREVE.items():
        encode[unicodedata.normalize("NFC", "a\u0306" + tone)] = "a" + mark
    for base, single in (("o", "ô"), ("u", "ö")):  # ơ, ư: the single base, then a tone mark
        for tone, mark in _VNI_TONES.items():
            encode[unicodedata.normalize("NFC", base + "\u031b" + tone)] = single + mark
    encode.update(_VNI_SINGLE)
    # Capitals use the capital forms of the same characters.
    for uni, legacy in list(encode.items()):
        encode[uni.upper()] = legacy.upper()
    decode = {legacy: uni for uni, legacy in encode.items()}
    return encode, decode


_VNI_ENCODE, _VNI_DECODE = _build_vni_tables()
# Longest sequences first, so "oâ" (ô) wins over "ô" (ơ).
_VNI_PATTERN = re.compile(
    "|".join(re.escape(k) for k in sorted(_VNI_DECODE, key=lambda k: (-len(k), k)))
)


def decode_tcvn3(text):
    """TCVN3 mojibake (as Latin-1 characters) → Unicode NFC."""
    return unicodedata.normalize("NFC", text.translate(_TCVN3_DECODE))


def encode_tcvn3(text):
    """Unicode → TCVN3 mojibake; toned capitals become lower case, as in the .Vn fonts."""
    text = unicodedata.normalize("NFC", text)
    out = []
    for char in text:
        if char in _TCVN3_ENCODE:
            out.append(_TCVN3_ENCODE[char])
        elif char.lower() in _TCVN3_ENCODE and char.lower() != char:
            out.append(_TCVN3_ENCODE[char.lower()])
        else:
            out.append(char)
    return "".join(out)


def decode_vni(text):
    """VNI mojibake (as Latin-1 characters) → Unicode NFC."""
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda m: _VNI_DECODE[m.group()], text))


def encode_vni(text):
    """Unicode → VNI mojibake."""
    text = unicodedata.normalize("NFC", text)
    return "".join(_VNI_ENCODE.get(char, char) for char in text)


def encode_windows_1258(text):
    """Unicode → Windows-1258 bytes: letters the code page lacks are written as the base
    letter (with its circumflex, breve or horn) followed by a combining tone mark."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tones = "".join(c for c in decomposed if c in _TONES)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
            out += (base + tones).encode("cp1258")
    return bytes(out)


# --- Telling Vietnamese from mojibake -------------------------------------------------------
_VIETNAMESE_LETTERS = set("abcdefghijklmnopqrstuvwxyzđ")
_MODIFIERS = {"\u0302", "\u0306", "\u031b"}  # circumflex, breve, horn
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_SYLLABLE = re.compile(
    r"^(ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdđghklmnprstvx])?"
    r"[aeiouy]{1,3}"
    r"(ch|ng|nh|[cmnpt])?$"
)
_WORD = re.compile(r"[^\W\d_]+")


def is_vietnamese_syllable(word):
    """True for a plausible Vietnamese syllable: Vietnamese letters only, at most one tone
    mark and one letter modifier per vowel, a known initial, vowel cluster and final."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = 0
    base = []
    for char in decomposed:
        if char in _TONES:
            tones += 1
        elif char in _MODIFIERS:
            if not base or base[-1] not in "aeou":
                return False
        elif char in _VIETNAMESE_LETTERS:
            base.append(char)
        else:
            return False
    return tones <= 1 and bool(_SYLLABLE.match("".join(base)))


def vietnamese_score(text):
    """Share of the words of ``text`` that are plausible Vietnamese syllables (0 … 1)."""
    words = _WORD.findall(unicodedata.normalize("NFC", text))
    if not words:
        return 1.0
    return sum(1 for word in words if is_vietnamese_syllable(word)) / len(words)


# Latin-1 characters that are not Vietnamese letters: TCVN3 and VNI mojibake is full of
# them (Þ ¸ µ ø ï ä …), genuine Vietnamese has none, so their absence settles it quickly.
_VIETNAMESE_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
_MOJIBAKE_HINTS = re.compile(
    "[" + "".join(chr(c) for c in range(0xA0, 0x100) if chr(c) not in _VIETNAMESE_LATIN1) + "]"
)


def _utf16(data):
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return data.decode("utf-16")
    # UTF-16 without BOM: every other byte of ASCII text is NUL.
    if len(data) >= 4 and data.count(b"\x00") * 3 >= len(data):
        endian = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        return data.decode(endian)
    return None


def decode_bytes(data):
    """Decode a content file. Returns ``(text, encoding)``; ``text`` is NFC.

    ``encoding`` is "utf-8" for a good file (a UTF-8 BOM is allowed and dropped), else
    what was found and converted: "utf-16", "windows-1258", "tcvn3" or "vni". A legacy
    reading is chosen only when it is clearly more Vietnamese than the plain one.
    """
    utf16 = _utf16(data)
    if utf16 is not None:
        return unicodedata.normalize("NFC", utf16.lstrip("\ufeff")), "utf-16"
    try:
        text = data.decode("utf-8-sig")
        if not _MOJIBAKE_HINTS.search(text):
            return unicodedata.normalize("NFC", text), "utf-8"
        candidates = [(text, "utf-8")]
    except UnicodeDecodeError:
        candidates = [(data.decode("cp1258", errors="replace"), "windows-1258")]
        text = data.decode("latin-1")
    candidates.append((decode_tcvn3(text), "tcvn3"))
    candidates.append((decode_vni(text), "vni"))
    plain_text, plain_encoding = candidates[0]
    plain_score = vietnamese_score(plain_text)
    best_text, best_encoding, best_score = plain_text, plain_encoding, plain_score
    for candidate, encoding in candidates[1:]:
        score = vietnamese_score(candidate)
        if score > best_score + 0.05:
            best_text, best_encoding, best_score = candidate, encoding, score
    return unicodedata.normalize("NFC", best_text), best_encoding
