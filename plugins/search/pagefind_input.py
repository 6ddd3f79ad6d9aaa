"""pagefind_input: what Pagefind reads of a page, as bytes (pure functions, no Pelican).

Pagefind indexes only the elements marked ``data-pagefind-body``. What else of a page it
reads is little: any ``data-pagefind-*`` attribute, wherever it is, and the text of an
element whose meta, filter or sort it is; the first ``<h1>`` (the default title; the
``<title>`` when there is none) and the first ``<img>`` after it (the default image), even
inside elements it ignores. The rest of a page (the head's scripts, styles and links, the
site's header, menus and footer, the related list "Các bài viết khác") cannot change the
index. ``indexed_part`` cuts that rest out where it can be sure, which serves twice:

* a page's digest, which decides whether its shard is indexed again, is the digest of
  ``indexed_part``: a change to the footer, the menu, a stylesheet's version or an article's
  related list re-indexes nothing (a new article changes the related lists of articles of
  other years; the office's phone number in the footer changes all 10,000 pages);
* Pagefind reads the cut page: about a third of the bytes of an article page, and about
  12 % less of its CPU (docs/BENCHMARKS.md).

"Sure" means that the cut cannot change Pagefind's output for any page, not only for this
theme's:

* an element is cut only if its end is found by counting its tags (``CUTTABLE``: elements
  whose end tag is never implied) and it holds none of ``UNCUTTABLE`` (the ``<h1>`` and
  ``<img>`` Pagefind takes, and whatever inside which tags cannot be counted: raw text,
  comments, foreign content), no table (``SCOPED``) and no ``data-pagefind`` attribute
  (``outside_cuts``);
* an element marked ``data-pagefind-ignore`` is cut on the same conditions, all of them or
  none (``ignored_spans``);
* nothing is cut inside a ``data-pagefind-body`` element, the ``<h1>``, or an element whose
  text Pagefind may take (``reads_text``), and nothing after a place whose tags cannot be
  counted for sure (an ``<svg>``, a ``<template>``, a script holding ``<!--``);
* the head's content is cut but its ``<title>``, if the head is where a head is expected,
  holds only ``<meta>``, ``<link>``, raw text elements and comments, no ``data-pagefind``
  attribute, and ends with its end tag (``head_cuts``).

tests/test_pagefind_input.py builds Pagefind bundles of whole pages and of their
``indexed_part`` (the sample site's, and pages made to hit every rule) and checks that they
are the same, file for file.
"""

import re

# Pages Pagefind should index carry this attribute (and Pagefind skips pages without it).
BODY_MARKER = b"data-pagefind-body"
IGNORE_MARKER = b"data-pagefind-ignore"
ANY_MARKER = b"data-pagefind"
# The elements that may be cut: their end tag is never implied (unlike <p> or <li>), so
# counting tags finds where they end.
CUTTABLE = frozenset(
    b"section div aside nav header footer article main ul ol figure blockquote span".split()
)
# What a cut element must not hold: Pagefind takes the page's first <h1> and <img> as its
# default title and image even inside ignored elements (tried with 1.5.2), and tags cannot
# be counted inside raw text, comments or foreign content. Lower case: the check is on the
# lower-cased element.
UNCUTTABLE = (
    b"<h1", b"<img", b"<script", b"<style", b"<!--", b"<![cdata",
    b"<template", b"<textarea", b"<title", b"<noscript", b"<iframe", b"<xmp", b"<plaintext",
    b"<svg", b"<math",
)  # fmt: skip
# Elements whose content is text up to their end tag (raw text and RCDATA): skipped whole.
RAW_TEXT = (b"script", b"style", b"title", b"textarea", b"noscript", b"iframe", b"xmp",
            b"noembed", b"noframes")  # fmt: skip
# After these, tags cannot be counted surely: nothing further is cut.
FOREIGN = (b"svg", b"math", b"template", b"plaintext", b"![cdata[")
# Elements that hide the end tags inside them from the elements around them (an HTML parser
# ignores a </div> in a table cell when the <div> is outside the table).
SCOPED = (b"<table", b"<td", b"<th", b"<caption", b"<object", b"<marquee", b"<applet")


def _after_lt(names):
    """ "<" and a look-ahead at the first character of one of ``names``: a search over a
    page is twice as fast, as its other tags fail at once."""
    return b"<(?=[" + re.escape(b"".join(sorted({name[:1] for name in names}))) + b"])"


def _literal(texts):
    """A regex for any of ``texts`` ("<" and a name), taken literally."""
    names = [text[1:] for text in texts]
    return re.compile(_after_lt(names) + b"(?:" + b"|".join(map(re.escape, names)) + b")")


# The places in a lower-cased page a cut must not cross (and ``ANY_MARKER``, looked up with
# bytes.find: one regex for both is five times slower). Groups: 1 foreign content, 2 a raw
# text element's name, 3 a comment.
_BARRIER = re.compile(
    _after_lt((b"h1", b"img", b"!--") + FOREIGN + RAW_TEXT)
    + b"(?:h1|img|(" + b"|".join(map(re.escape, FOREIGN)) + b")|("
    + b"|".join(RAW_TEXT) + rb")(?=[\s/>])|(!--))"
)
_UNCUTTABLE = _literal(UNCUTTABLE)
_SCOPED = _literal(SCOPED)
# What an element stepped over whole must not hold for its end to be sure.
_UNSURE = _literal(UNCUTTABLE[2:] + SCOPED)
# A data-pagefind-* attribute: its kind, and its value (in one of three quotings).
_MARKER = re.compile(
    rb"data-pagefind-([a-z-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?"
)
_CUTTABLE_START = re.compile(
    _after_lt(CUTTABLE) + b"(" + b"|".join(sorted(CUTTABLE)) + rb")[\s/>]"
)
_TAG_NAME = re.compile(rb"<([A-Za-z][A-Za-z0-9]*)")
# A document's start up to the end of its <head> start tag.
_HEAD_START = re.compile(
    rb"\s*(?:<!doctype[^<>]*>\s*)?(?:<html(?:\s[^<>]*)?>\s*)?<head(?:\s[^<>]*)?>"
)
# In a head: white space, <meta> and <link> (skipped), then a raw text element or a comment.
# Not <base>, which could change how the address of a page's image is read.
_HEAD_VOID = re.compile(rb"(?:\s+|<(?:meta|link)(?:\s[^<>]*)?>)*")
_HEAD_RAW = re.compile(rb"<(?:(" + b"|".join(RAW_TEXT) + rb")(?=[\s/>])|!--)")
_patterns = {}


def indexed_part(data):
    """What Pagefind reads of ``data`` (a page's bytes): the page without the parts that
    surely cannot change Pagefind's output (see the module's docstring). The page itself
    when nothing can be cut."""
    low = data.lower()  # ASCII only: every position stays the same
    ignored = dict(ignored_spans(low))
    cuts, start = head_cuts(low)
    cuts.extend(outside_cuts(low, start, ignored))
    if ignored:
        cuts = sorted(cuts + list(ignored.items()))  # outside_cuts stepped over them
    return cut(data, cuts) if cuts else data


def cut(data, spans):
    """``data`` without the (start, end) ``spans``, which are in order and do not overlap."""
    parts, position = [], 0
    for start, end in spans:
        parts.append(data[position:start])
        position = end
    parts.append(data[position:])
    return b"".join(parts)


def ignored_spans(low):
    """The spans of the ``data-pagefind-ignore`` elements of ``low`` (a lower-cased page:
    the related list "Các bài viết khác"), where they surely hold nothing Pagefind uses
    (``ignored_element``); all of them or none: [] if any cannot be cut out surely."""
    spans, position = [], low.find(IGNORE_MARKER)
    while position != -1:
        element = ignored_element(low, position)
        if element is None:
            return []
        spans.append(element)
        position = low.find(IGNORE_MARKER, element[1])
    return spans


def ignored_element(low, position):
    """(start, end) of the element whose start tag holds the ``data-pagefind-ignore`` at
    ``position`` in ``low`` (lower case), or None unless it surely holds nothing Pagefind
    uses (``UNCUTTABLE``) and its end is sure: a ``CUTTABLE`` element, its end found by
    counting its tags."""
    start, name = start_tag_at(low, position)
    if start is None:
        return None  # not in a start tag (the words in a text), or an element not cut
    end = element_end(low, start, name)
    if end is None or low.count(ANY_MARKER, start, end) != 1 or _UNCUTTABLE.search(low, start, end):
        return None
    return start, end


def start_tag_at(data, position, any_name=False):
    """(start, lower-cased name) of the element whose start tag holds ``position``, if it
    is a ``CUTTABLE`` element or ``any_name``; else (None, None)."""
    start = data.rfind(b"<", 0, position)
    name = _TAG_NAME.match(data, start) if start != -1 else None
    if name is None or data.find(b">", start, position) != -1:
        return None, None
    name = name[1].lower()
    return (start, name) if any_name or name in CUTTABLE else (None, None)


def _pattern(prefix, name):
    """The compiled ``prefix`` + ``name`` followed by white space, / or > (cached)."""
    pattern = _patterns.get((prefix, name))
    if pattern is None:
        pattern = re.compile(prefix + re.escape(name) + rb"[\s/>]")
        _patterns[prefix, name] = pattern
    return pattern


def _start_pattern(name):
    return _pattern(b"<", name)


def _end_pattern(name):
    return _pattern(b"</", name)


def element_end(low, start, name, stop=None):
    """The end of the ``name`` element that starts at ``start`` in ``low`` (lower case),
    found by counting its start and end tags before ``stop``; None if it does not end
    there."""
    depth = 0
    for tag in _pattern(b"<(/?)", name).finditer(low, start, len(low) if stop is None else stop):
        depth += -1 if tag[1] else 1
        if depth == 0:
            end = low.find(b">", tag.end() - 1)
            return None if end == -1 or (stop is not None and end >= stop) else end + 1
    return None


def raw_text_end(low, position, name):
    """The end of the raw text element ``name`` whose content starts at ``position``: after
    its end tag. None if it has none, or if it is a script holding ``<!--`` (where the
    script's end tag may not end it)."""
    end = _end_pattern(name).search(low, position)
    if end is None or (name == b"script" and low.find(b"<!--", position, end.start()) != -1):
        return None
    close = low.find(b">", end.end() - 1)
    return None if close == -1 else close + 1


def head_cuts(low):
    """The spans of the head's content but its ``<title>`` elements, and where the rest of
    the page starts (after ``</head>``); ([], 0) unless the page starts with a head (after a
    doctype and an ``<html>`` start tag) that holds only ``<meta>``, ``<link>``, raw text
    elements (``<script>``, ``<style>``, ``<title>``…) and comments, and ends with its end
    tag; with no ``data-pagefind`` attribute before that end (on ``<html>``, for one)."""
    head = _HEAD_START.match(low)
    if head is None:
        return [], 0
    cuts, start, position = [], head.end(), head.end()
    while True:
        position = _HEAD_VOID.match(low, position).end()
        token = _HEAD_RAW.match(low, position)
        if token is None:
            break
        name = token[1]
        if name is None:  # a comment
            end = low.find(b"-->", token.end())
            end = None if end == -1 else end + 3
        else:
            end = raw_text_end(low, token.end(), name)
        if end is None:
            return [], 0
        if name == b"title":  # Pagefind's title when a page has no <h1>: kept
            cuts.append((start, position))
            start = end
        position = end
    if not low.startswith(b"</head", position) or low.find(ANY_MARKER, 0, position) != -1:
        return [], 0
    end = low.find(b">", position)
    if end == -1:
        return [], 0
    cuts.append((start, position))
    return [span for span in cuts if span[0] < span[1]], end + 1


def outside_cuts(low, position, ignored=None):
    """The spans of the elements from ``position`` on that are outside every
    ``data-pagefind-body`` element and can surely be cut (see the module's docstring).

    The page is walked from one barrier (a ``data-pagefind`` attribute, an ``<h1>``, an
    ``<img>``, a raw text element, a comment) to the next; an element that starts and ends
    between two barriers holds none, so it is cut whole (``cuts_between``). The elements
    whose text Pagefind reads (a ``data-pagefind-body``, the ``<h1>``, an element whose
    meta, filter or sort is its text: ``reads_text``) are stepped over whole, and so are
    the ignored elements cut anyway (``ignored``: their starts → their ends)."""
    cuts, gap = [], position
    marker = low.find(ANY_MARKER, position)
    barrier = _BARRIER.search(low, position)
    while True:
        if marker != -1 and (barrier is None or marker < barrier.start()):
            cuts_between(low, gap, marker, cuts)
            attribute = _MARKER.match(low, marker)
            kind = attribute[1] if attribute else b""
            value = attribute and (attribute[2] or attribute[3] or attribute[4])
            if reads_text(kind, value):
                start, name = start_tag_at(low, marker, any_name=True)
                gap = None if start is None else protected_end(low, start, name)
            elif ignored and kind == b"ignore" and (tag := low.rfind(b"<", 0, marker)) in ignored:
                gap = ignored[tag]  # cut anyway, with all it holds
            else:
                gap = attribute.end()  # an ignored element kept, or a meta from attributes
        elif barrier is None:
            cuts_between(low, gap, len(low), cuts)
            return cuts
        else:
            cuts_between(low, gap, barrier.start(), cuts)
            foreign, raw, comment = barrier.groups()
            if foreign:
                return cuts
            if raw:
                gap = raw_text_end(low, barrier.end(), raw)
            elif comment:
                end = low.find(b"-->", barrier.end())
                gap = None if end == -1 else end + 3
            elif low.startswith(b"<h1", barrier.start()):  # Pagefind's title: kept whole
                gap = protected_end(low, barrier.start(), b"h1")
            else:  # <img: kept, like anything holding it
                gap = barrier.end()
        if gap is None:
            return cuts
        if marker != -1 and marker < gap:
            marker = low.find(ANY_MARKER, gap)
        if barrier is not None and barrier.start() < gap:
            barrier = _BARRIER.search(low, gap)


def reads_text(kind, value):
    """Whether Pagefind may read the text of the element holding data-pagefind-``kind``
    (lower case) with ``value`` (None without one): a body; a meta, filter or sort with an
    entry that is only a name ("title", not "date[data-date]" or "author:X"); any other
    attribute but ``ignore`` (``weight``, ``index-attrs``…), to be safe."""
    if kind == b"ignore":
        return False
    if kind in (b"meta", b"filter", b"sort"):
        return any(b"[" not in entry and b":" not in entry for entry in (value or b"").split(b","))
    return True


def protected_end(low, start, name):
    """The end of the ``name`` element that starts at ``start``, an element nothing inside
    of which may be cut; None unless it is sure: a ``CUTTABLE`` element's found by counting
    its tags, another's at the first end tag of its name, with no start tag of its name
    before it; and nothing inside that could fool either (``_UNSURE``)."""
    if name in CUTTABLE:
        end = element_end(low, start, name)
    else:
        close = _end_pattern(name).search(low, start)
        nested = close is not None and _start_pattern(name).search(low, start + 1, close.start())
        end = low.find(b">", close.end() - 1) + 1 if close is not None and not nested else 0
    if not end or _UNSURE.search(low, start, end):
        return None
    return end


def cuts_between(low, start, stop, cuts):
    """Add to ``cuts`` the ``CUTTABLE`` elements that start and end in ``low[start:stop]``,
    the outermost ones, unless they hold an element that hides end tags from the elements
    around it (a table: ``_SCOPED``)."""
    while True:
        element = _CUTTABLE_START.search(low, start, stop)
        if element is None:
            return
        name = element[1]
        end = low.find(b"</" + name, element.end(), stop) != -1 and element_end(
            low, element.start(), name, stop
        )  # (most that do not end here are known at once: no end tag of their name)
        if not end or _SCOPED.search(low, element.start(), end):
            start = element.end()  # it holds a barrier, a marker or a table: look inside
        else:
            cuts.append((element.start(), end))
            start = end
