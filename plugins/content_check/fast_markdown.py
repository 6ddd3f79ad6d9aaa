# ruff: noqa: E501 (the expressions below are copied as Python-Markdown writes them)
"""Python-Markdown's slowest searches skipped where they cannot match: the same HTML, sooner.

Python-Markdown tries each of its inline patterns on each paragraph, and each block
processor's test on each block, with a regular expression. Several of those begin with a
look-behind or an alternation, so Python's ``re`` cannot jump to a first character and tries
the pattern at every position of the text: on a bulletin's plain paragraphs, which match
none of them, that was 45 % of the time spent in ``Markdown.convert`` (10,000 articles of
the benchmark's corpus: 7 s of a cold build's 28 s of CPU).

Every match of those expressions contains a known piece of text: a link's ``[``, a code
span's backtick, a header's ``#``, a fenced block's three backticks or tildes. ``prefilter``
wraps each such expression of a Markdown instance in ``Prefiltered``, which looks for that
text first with ``str.find`` and, where it is absent, answers "no match" without running the
expression; where it is present, the original expression runs exactly as before. So the
output cannot change: the expression is skipped only where it could not have matched.

The pieces of text are stated per expression, keyed by the expression's exact source as
Python-Markdown 3.11 writes it (``NEEDED``). A later version that changes one of these
expressions no longer matches its key and is left alone, unwrapped; the tests list which
expressions are wrapped, so an upgrade that drops one is noticed.

No settings; the Markdown reader of ``content_check.py`` calls ``prefilter`` on the one
Markdown instance it keeps.
"""

import re
from textwrap import dedent

# (expression source, flags) → pieces of text of which every match contains at least one, at
# or after the position the search starts from. The sources are copied from Python-Markdown
# 3.11.3, not imported: an expression changed by a later version must not inherit a claim
# made about this one.
# Inline patterns are compiled with re.DOTALL.
_S, _M, _DMV = re.DOTALL, re.MULTILINE, re.DOTALL | re.MULTILINE | re.VERBOSE
NEEDED = {
    # inlinepatterns.BACKTICK_RE: backslashes before a backtick (a look-ahead), or a backtick.
    (r'(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)', _S): ("`",),
    # inlinepatterns.LINK_RE, also REFERENCE_RE: the start of a link, not an image's.
    (r'(?<!\!)\[', _S): ("[",),
    # blockprocessors.BlockQuoteProcessor.RE
    (r'(^|\n)[ ]{0,3}>[ ]?(.*)', 0): (">",),
    # blockprocessors.HashHeaderProcessor.RE
    (r'(?:^|\n)(?P<level>#{1,6})(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)', 0): ("#",),
    # blockprocessors.SetextHeaderProcessor.RE: a line, then a line of = or - signs.
    (r'^.*?\n(?:=+|-+)[ ]*(\n|$)', _M): ("\n=", "\n-"),
    # blockprocessors.HRProcessor.SEARCH_RE: three -, _ or *.
    (r'^[ ]{0,3}(?=(?P<atomicgroup>(-+[ ]{0,2}){3,}|(_+[ ]{0,2}){3,}|(\*+[ ]{0,2}){3,}))(?P=atomicgroup)[ ]*$', _M): ("-", "_", "*"),
    # blockprocessors.ReferenceProcessor.RE: [label]: url
    (r'^[ ]{0,3}\[([^\[\]]*)\]:[ ]*(?:\n[ ]*)?([^\s]+)[ ]*(?:\n[ ]*)?((["\'])(.*)\4[ ]*|\((.*)\)[ ]*)?$', _M): ("]:",),
    # extensions.def_list.DefListProcessor.RE
    (r'(^|\n)[ ]{0,3}:[ ]{1,3}(.*?)(\n|$)', 0): (":",),
    # extensions.footnotes.FootnoteBlockProcessor.RE: [^label]: text
    (r'^[ ]{0,3}\[\^([^\]]*)\]:[ ]*(.*)$', _M): ("[^",),
    # extensions.abbr.AbbrBlockprocessor.RE: *[ABBR]: title
    (r'^[*]\[(?P<abbr>[^\\]*?)\][ ]?:[ ]*\n?[ ]*(?P<title>.*)$', _M): ("*[",),
    # extensions.fenced_code.FencedBlockPreprocessor.FENCED_BLOCK_RE: a fence of three.
    (dedent(r'''
            (?P<fence>^(?:~{3,}|`{3,}))[ ]*                          # opening fence
            ((\{(?P<attrs>[^\n]*)\})|                                # (optional {attrs} or
            (\.?(?P<lang>[\w#.+-]*)[ ]*)?                            # optional (.)lang
            (hl_lines=(?P<quot>"|')(?P<hl_lines>.*?)(?P=quot)[ ]*)?) # optional hl_lines)
            \n                                                       # newline (end of opening fence)
            (?P<code>.*?)(?<=\n)                                     # the code block
            (?P=fence)[ ]*$                                          # closing fence
        '''), _DMV): ("~~~", "```"),
}

# Where the expressions live: inline patterns' ``compiled_re``, block processors' and
# preprocessors' attributes of these names.
_ATTRIBUTES = ("RE", "SEARCH_RE", "FENCED_BLOCK_RE")


class Prefiltered:
    """A compiled expression that answers "no match" at once where none of ``needed`` (pieces
    of text every match contains) occurs in the text searched; otherwise the expression
    itself answers. Anything else (``pattern``, ``flags``, ``sub``…) is the expression's."""

    __slots__ = ("compiled", "needed")

    def __init__(self, compiled, needed):
        self.compiled = compiled
        self.needed = tuple(needed)

    def _absent(self, string, pos, endpos):
        for piece in self.needed:  # a loop, not all(…): 600,000 calls in a cold build
            if string.find(piece, pos, endpos) >= 0:
                return False
        return True

    def search(self, string, pos=0, endpos=None):
        end = len(string) if endpos is None else endpos
        if self._absent(string, pos, end):
            return None
        return self.compiled.search(string, pos, end)

    def match(self, string, pos=0, endpos=None):
        end = len(string) if endpos is None else endpos
        if self._absent(string, pos, end):
            return None
        return self.compiled.match(string, pos, end)

    def finditer(self, string, pos=0, endpos=None):
        end = len(string) if endpos is None else endpos
        if self._absent(string, pos, end):
            return iter(())
        return self.compiled.finditer(string, pos, end)

    def __getattr__(self, name):
        return getattr(self.compiled, name)


def needed_for(compiled):
    """The pieces of text every match of ``compiled`` contains, or None if not known."""
    source = getattr(compiled, "pattern", None)
    if not isinstance(source, str):
        return None
    return NEEDED.get((source, compiled.flags & ~re.UNICODE))


def _wrap(owner, attribute):
    compiled = getattr(owner, attribute, None)
    if compiled is None or isinstance(compiled, Prefiltered):
        return None
    needed = needed_for(compiled)
    if needed is None:
        return None
    setattr(owner, attribute, Prefiltered(compiled, needed))
    return compiled.pattern


def prefilter(md):
    """Wrap the known expressions of Markdown instance ``md`` (its inline patterns, block
    processors and preprocessors) in ``Prefiltered``; the sources wrapped. Call it once the
    instance is made (with every extension); calling it again wraps nothing twice."""
    wrapped = []
    for pattern in md.inlinePatterns:
        wrapped.append(_wrap(pattern, "compiled_re"))
    for processor in [*md.parser.blockprocessors, *md.preprocessors]:
        for attribute in _ATTRIBUTES:
            wrapped.append(_wrap(processor, attribute))
    return [source for source in wrapped if source]
