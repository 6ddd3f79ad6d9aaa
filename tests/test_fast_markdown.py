"""plugins/content_check/fast_markdown.py: Python-Markdown's slow searches skipped only where
they cannot match, so the HTML is the same."""

import random

import pytest
from markdown import Markdown

from bench.corpus import generate_articles, to_markdown
from plugins.content_check.content_check import CheckedMarkdownReader
from plugins.content_check.fast_markdown import NEEDED, Prefiltered, needed_for, prefilter
from tests.conftest import DATA, ROOT

# Markdown that exercises every wrapped expression, matching and nearly matching.
SNIPPETS = [
    "Đoạn văn thường, không có ký hiệu nào: chỉ chữ và dấu phẩy, dấu chấm.",
    "Mã `print(1)` và ``a ` b`` và \\`không phải mã\\` và \\\\`mã sau hai gạch`.",
    "Một `backtick lẻ và \\\\\\` ba gạch.",
    "[Liên kết](https://gialoc.vn \"Tiêu đề\") và ![ảnh](a.jpg) và [tham chiếu][1] và [ngắn].",
    "Chữ ![không phải [liên kết] lồng](b.png) cuối.\n\n[1]: https://a.vn\n[ngắn]: /b.html 'B'",
    "[nhãn]:\n    https://xuong-dong.vn\n    \"tiêu đề\"\n\nVăn bản [nhãn].",
    "# Tiêu đề một\n\n## Tiêu đề hai ##\n\nVăn bản có dấu # ở giữa và #không.",
    "Tiêu đề gạch\n============\n\nTiêu đề mảnh\n------------\n\nKinh tế - Xã hội -- không phải.",
    "Dòng\n- - -\n\n***\n\n___\n\n* * *\n\n-- hai gạch thôi",
    "> Trích dẫn\n> tiếp\n\nChữ > không phải trích dẫn, a -> b.",
    "Thuật ngữ\n:   Định nghĩa một\n:   Định nghĩa hai\n\nCâu có dấu hai chấm: như sau.",
    "Văn bản có chú thích[^1] và [^khác].\n\n[^1]: Chú thích một.\n[^khác]: Chú thích hai.",
    "*[HĐND]: Hội đồng nhân dân\n\nHĐND huyện họp. *[không phải]",
    "```python\nprint('mã')\n```\n\n~~~\nkhối ~~~ khác\n~~~\n\n`` ``` `` trong dòng",
    "Gạch dưới _nghiêng_ và **đậm** và *nghiêng* và __đậm__ và a_b_c.",
    "Dòng ngắt  \nsau hai dấu cách. &amp; &#273; <b>thẻ</b> <https://a.vn> <a@b.vn>",
    "| Cột | Cột |\n| --- | --- |\n| a | [b](c.html) |",
    "1. một\n2. hai\n\n- a\n- b `c`\n\n    mã thụt lề [x]\n",
    "<div markdown=\"1\">\n[trong](html.html) `mã`\n</div>",
    "Ký tự \\[thoát\\] và \\# và \\> và \\` và \\: cuối dòng\\",
]


def markdown_settings():
    """The site's Markdown settings with its plugins' extensions, as the reader gets them."""
    from pelican.settings import read_settings

    from tools.publish import pelican_class

    settings = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(ROOT / "content")})
    pelican_class(settings)(settings)  # the plugins register their Markdown extensions
    config = dict(settings["MARKDOWN"])
    extensions = list(config.get("extensions", []))
    extensions += [name for name in config.get("extension_configs", {}) if name not in extensions]
    return dict(config, extensions=extensions)


@pytest.fixture(scope="module")
def config():
    return markdown_settings()


def test_every_expression_listed_is_wrapped_in_the_site_markdown(config):
    md = Markdown(**config)
    wrapped = prefilter(md)
    # A Python-Markdown upgrade that rewrites one of them leaves it unwrapped: noticed here.
    assert {source for source, _ in NEEDED} == set(wrapped)
    assert {"backtick", "link", "reference", "short_reference"} <= {
        name for name in ("backtick", "link", "reference", "short_reference", "escape")
        if isinstance(md.inlinePatterns[name].compiled_re, Prefiltered)
    }  # fmt: skip
    assert not isinstance(md.inlinePatterns["escape"].compiled_re, Prefiltered)
    assert prefilter(md) == []  # never wrapped twice


def test_an_expression_not_listed_is_left_alone():
    import re

    assert needed_for(re.compile(r"(?<!\!)\[x")) is None
    assert needed_for(re.compile(r"(?<!\!)\[")) is None  # listed with re.DOTALL only
    assert needed_for(re.compile(r"(?<!\!)\[", re.DOTALL)) == ("[",)


def wrapped_expressions(config):
    md = Markdown(**config)
    prefilter(md)
    found = {}
    owners = [(p, "compiled_re") for p in md.inlinePatterns]
    owners += [(p, a) for p in [*md.parser.blockprocessors, *md.preprocessors]
               for a in ("RE", "SEARCH_RE", "FENCED_BLOCK_RE")]  # fmt: skip
    for owner, attribute in owners:
        value = getattr(owner, attribute, None)
        if isinstance(value, Prefiltered):
            found[value.compiled.pattern] = value
    return list(found.values())


def outcome(match):
    return None if match is None else (match.span(), match.groups(), match.groupdict())


@pytest.mark.parametrize("seed", range(4))
def test_a_wrapped_expression_answers_as_the_expression_itself(config, seed):
    """Random texts rich in the characters the expressions look for, searched from random
    positions: search, match and finditer give the same matches, with and without."""
    rng = random.Random(seed)
    alphabet = "ab đ[]!`\\#>:=-_*^~\n()'\"{}|"
    expressions = wrapped_expressions(config)
    assert len(expressions) == len(NEEDED)
    skipped = 0
    for wrapped in expressions:
        original = wrapped.compiled
        for _ in range(1500):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            pos = rng.randint(0, len(text))
            end = rng.randint(pos, len(text))
            skipped += wrapped._absent(text, pos, end)
            assert outcome(wrapped.search(text, pos)) == outcome(original.search(text, pos))
            assert outcome(wrapped.match(text, pos)) == outcome(original.match(text, pos))
            assert outcome(wrapped.search(text, pos, end)) == outcome(
                original.search(text, pos, end))  # fmt: skip
            assert [outcome(m) for m in wrapped.finditer(text, pos)] == [
                outcome(m) for m in original.finditer(text, pos)]  # fmt: skip
    assert skipped > 0  # the texts did exercise the short cut


def test_the_expression_is_not_run_where_its_text_is_missing():
    calls = []

    class Spy:
        pattern = "spy"

        def search(self, *args):
            calls.append(args)

    wrapped = Prefiltered(Spy(), ("[",))
    assert wrapped.search("Hội nghị giao ban Bí thư chi bộ") is None
    assert wrapped.search("a [b", 3) is None  # "[" only before the start
    assert calls == []
    wrapped.search("a [b", 1)
    assert calls == [("a [b", 1, 4)]
    assert wrapped.pattern == "spy"


def test_the_site_markdown_makes_the_same_html_with_and_without(config):
    plain, fast = Markdown(**config), Markdown(**config)
    assert prefilter(fast)
    sources = sorted((ROOT / "content").rglob("*.md")) + sorted(DATA.rglob("*.md"))
    texts = [path.read_text(encoding="utf-8") for path in sources] + SNIPPETS
    texts += [to_markdown(article) for article in generate_articles(40, seed=3)]
    assert len(texts) > len(SNIPPETS) + 50
    for text in texts:
        plain.reset()
        fast.reset()
        assert fast.convert(text) == plain.convert(text), text[:80]


def test_the_reader_uses_the_prefiltered_markdown(config, tmp_path):
    from pelican.settings import read_settings

    article = tmp_path / "bai.md"
    text = ("Title: Bài\nDate: 2024-01-02 08:00\nCategory: Tin tức\n\n"
            "Văn bản với [liên kết](https://a.vn) và `mã`.\n")
    article.write_text(text, encoding="utf-8")
    settings = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(tmp_path)})
    settings["MARKDOWN"] = config
    reader = CheckedMarkdownReader(settings)
    html, _, _, _ = reader.read_raw(str(article))
    assert '<a href="https://a.vn">liên kết</a>' in html and "<code>mã</code>" in html
    assert isinstance(reader._shared_md.inlinePatterns["link"].compiled_re, Prefiltered)
