"""search plugin, pagefind_input: what Pagefind reads of a page.

The pure cutting rules are checked on small pages; then Pagefind itself is run on whole
pages and on what ``indexed_part`` leaves of them, and the two bundles must be the same file
for file: for the sample site's pages and for pages made to hit every rule.
"""

import unicodedata

import pytest

from plugins.search import search
from plugins.search.pagefind_input import head_cuts, indexed_part, reads_text
from tests.conftest import build_site
from tests.test_search import small_site

HEAD = (
    '<!doctype html>\n<html lang="vi" class="no-js">\n<head>\n  <meta charset="utf-8">\n'
    "  <title>Hội nghị – Huyện ủy Gia Lộc</title>\n"
    '  <script>document.documentElement.className = "js-enabled";</script>\n'
    '  <link rel="stylesheet" href="/theme/css/site.css?v=1">\n'
    '  <script type="application/ld+json">{"headline": "Hội nghị"}</script>\n</head>\n'
)
CUT_HEAD = (
    '<!doctype html>\n<html lang="vi" class="no-js">\n'
    "<head><title>Hội nghị – Huyện ủy Gia Lộc</title></head>\n"
)
CHROME = (
    '<header class="site-header"><div><form action="/tim-kiem.html"><input name="q">'
    '<button type="submit">Tìm</button></form><p><a href="/">Huyện ủy Gia Lộc</a></p></div>'
    '</header><nav><ul><li><a href="/">Trang chủ</a></li><li><a href="/y-te/">Y tế</a></li>'
    "</ul></nav>"
)
FOOTER = (
    '<footer class="site-footer"><h2>Văn phòng</h2>'
    "<address><p>Điện thoại: 0220 3716 105</p></address></footer>"
)
BODY = '<div class="article__body" data-pagefind-body><p>Đảng bộ huyện đã họp.</p></div>'


def page(inside, head=HEAD):
    return f"{head}<body>{inside}</body>\n</html>\n".encode("utf-8")


# (what is between <body> and </body>, what indexed_part leaves of it)
CASES = [
    # the site's chrome around the body: cut whole; the head's content but its title too
    (CHROME + f"<main>{BODY}</main>" + FOOTER, f"<main>{BODY}</main>"),
    # nothing inside a body is cut
    ('<div data-pagefind-body><nav><a href="/">x</a></nav><div>y</div></div>',
     '<div data-pagefind-body><nav><a href="/">x</a></nav><div>y</div></div>'),
    # an <img> (a default image) or an <h1> (the default title) keeps what holds it
    (f'<header><div><img src="/logo.png" alt="Logo"></div><nav>menu</nav></header>{BODY}',
     f'<header><div><img src="/logo.png" alt="Logo"></div></header>{BODY}'),
    (f"<div><h1>Hội nghị <span>lần thứ nhất</span></h1><span>x</span></div>{BODY}",
     f"<div><h1>Hội nghị <span>lần thứ nhất</span></h1></div>{BODY}"),
    # a meta, filter or sort that is an element's text keeps the element whole; one taken
    # from an attribute or given as a value does not
    (f'<p data-pagefind-meta="summary">Tóm <span>tắt</span></p>{BODY}',
     f'<p data-pagefind-meta="summary">Tóm <span>tắt</span></p>{BODY}'),
    (f'<div data-pagefind-filter="author"><span>Văn phòng</span></div>{BODY}',
     f'<div data-pagefind-filter="author"><span>Văn phòng</span></div>{BODY}'),
    (f'<div data-pagefind-meta="d[data-d], kind:tin" data-d="2"><span>x</span></div>{BODY}',
     f'<div data-pagefind-meta="d[data-d], kind:tin" data-d="2"></div>{BODY}'),
    (f"<div data-pagefind-weight=2><span>x</span></div>{BODY}",
     f"<div data-pagefind-weight=2><span>x</span></div>{BODY}"),
    # tags in raw text and comments are not tags; after foreign content nothing is cut
    (f'<script>var s = "<nav>";</script><!-- <div> --><nav>x</nav>{BODY}',
     f'<script>var s = "<nav>";</script><!-- <div> -->{BODY}'),
    (f"<nav>x</nav><svg><g></g></svg><nav>y</nav>{BODY}", f"<svg><g></g></svg><nav>y</nav>{BODY}"),
    # an element whose end a table could hide is not cut whole
    (f"<div><table><tr><td></div></td></tr></table></div>{BODY}<footer>z</footer>",
     f"<div><table><tr><td></div></td></tr></table></div>{BODY}"),
    # a body whose end is not sure (a script inside): nothing after it is cut
    ('<nav>x</nav><div data-pagefind-body><script>"</div>"</script>b</div><footer>z</footer>',
     '<div data-pagefind-body><script>"</div>"</script>b</div><footer>z</footer>'),
    # the related list, ignored: cut with the rest
    (f'{BODY}<section data-pagefind-ignore><h2>Các bài viết khác</h2><ul><li>a</li></ul></section>',
     BODY),
    # elements whose end tag may be left out are not counted: <p>, <li>
    (f"<p>x<p>y{BODY}", f"<p>x<p>y{BODY}"),
]  # fmt: skip


@pytest.mark.parametrize("inside, left", CASES)
def test_indexed_part_cuts_what_surely_cannot_change_the_index(inside, left):
    assert indexed_part(page(inside)).decode("utf-8") == page(left, CUT_HEAD).decode("utf-8")


@pytest.mark.parametrize(
    "head",
    [
        HEAD.replace("</head>", '<meta data-pagefind-meta="image[content]" content="/a"></head>'),
        HEAD.replace("</head>", "<script>if (a <!-- b) {}</script></head>"),  # end not sure
        HEAD.replace("</head>", "<template><p>x</p></template></head>"),
        HEAD.replace("</head>", '<base href="/tin/"></head>'),
        HEAD.replace("<html", "<html data-pagefind-body"),  # the whole page indexed
        HEAD.replace("</head>\n", ""),  # the head's end tag left out
        HEAD.replace("</head>", "Chữ</head>"),  # text: the head ends before it
        "<p>x</p>",  # no head
    ],
)  # fmt: skip
def test_the_head_is_kept_whole_where_its_cut_is_not_sure(head):
    data = (head + "<body></body>").lower().encode("utf-8")
    assert head_cuts(data) == ([], 0)


@pytest.mark.parametrize(
    "kind, value, reads",
    [
        (b"body", None, True),
        (b"ignore", None, False),
        (b"ignore", b"all", False),
        (b"meta", b"title", True),
        (b"meta", b"date[data-date], category[data-category]", False),
        (b"meta", b"date[data-date], summary", True),
        (b"filter", b"author:VPHU", False),
        (b"sort", b"date", True),
        (b"meta", None, True),
        (b"weight", b"2", True),
        (b"index-attrs", b"title", True),
    ],
)
def test_reads_text(kind, value, reads):
    assert reads_text(kind, value) is reads


def test_the_part_digested_follows_what_pagefind_reads_only():
    """A page's digest is that of its ``indexed_part`` (``search.digested_pages``)."""
    base = page(CHROME + f"<main>{BODY}</main>" + FOOTER)
    same = [
        base.replace(b"0220 3716 105", b"0220 3716 106"),  # the footer
        base.replace(b"Y t\xe1\xba\xbf", b"Y t\xe1\xba\xbf - D\xc3\xa2n s\xe1\xbb\x91"),  # the menu
        base.replace(b"site.css?v=1", b"site.css?v=2"),  # a stylesheet's version
    ]
    other = [
        base.replace(b"\xc4\x91\xc3\xa3 h\xe1\xbb\x8dp", b"\xc4\x91\xc3\xa3 h\xe1\xbb\x8dp xong"),
        base.replace(b"<title>H", b"<title>Tin: H"),  # Pagefind's title without an <h1>
    ]
    assert all(indexed_part(p) == indexed_part(base) for p in same)
    assert all(indexed_part(p) != indexed_part(base) for p in other)


# --- Pagefind on whole and cut pages ------------------------------------------------------------


def bundle(pages, folder, prepare):
    """The files of the Pagefind bundle of ``pages`` ({relative path: bytes}), each given
    to Pagefind as ``prepare`` makes it."""
    site = folder / "site"
    for relative, data in pages.items():
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(prepare(data))
    search.run_pagefind(site, folder / "bundle", "vi")
    return {p.relative_to(folder / "bundle").as_posix(): p.read_bytes()
            for p in sorted((folder / "bundle").rglob("*")) if p.is_file()}  # fmt: skip


def whole(data):
    """What Pagefind read of a page before: all of it, in the form ``prepared_form`` gives."""
    return search.prepared_form(data)


def cut_form(data):
    """What Pagefind reads of a page: ``search.write_prepared`` of its ``page_parts``."""
    return search.prepared_form(indexed_part(data))


def same_bundles(pages, tmp_path):
    """The files that differ between Pagefind's bundle of the whole ``pages`` and that of
    their ``cut_form`` (Pagefind names most files by a hash of their content)."""
    before = bundle(pages, tmp_path / "whole", whole)
    after = bundle(pages, tmp_path / "cut", cut_form)
    return sorted(name for name in before.keys() | after.keys()
                  if before.get(name) != after.get(name))  # fmt: skip


def test_pagefind_makes_the_same_index_of_the_sample_sites_cut_pages(site, tmp_path):
    pages = {p.relative_to(site.output).as_posix(): p.read_bytes()
             for p in site.files(".html") if b"data-pagefind-body" in p.read_bytes()}  # fmt: skip
    assert len(pages) > 20
    assert same_bundles(pages, tmp_path) == []
    whole_size = sum(len(data) for data in pages.values())
    cut_size = sum(len(indexed_part(data)) for data in pages.values())
    assert cut_size < 0.6 * whole_size


TITLED = (
    '<article data-pagefind-meta="date[data-date], category[data-category]" data-date="28/03/2024"'
    ' data-category="Xây dựng Đảng"><header><h1 data-pagefind-meta="title">Hội nghị Đảng bộ</h1>'
    '<div class="adjustable-font"><button type="button">A+</button></div></header>'
)
RULES = {
    # the theme's shape
    "a.html": CHROME + f"<main>{TITLED}{BODY}<section data-pagefind-ignore><h2>Khác</h2></section>"
              f"</article></main>" + FOOTER,
    # no <h1>: the title is the <title>'s
    "b.html": CHROME + f"<main>{BODY}</main>" + FOOTER,
    # the default title an <h1> with elements inside, the default image after it
    "c.html": f'<header><img src="/logo.png" alt="Logo"><nav>menu</nav></header>'
              f'<h1>Tổng kết <span>năm 2024</span></h1><div><img src="/a.jpg" alt="Ảnh"></div>'
              f"<div><span>x</span></div>{BODY}" + FOOTER,
    # metas and filters from text, from attributes and given as values, outside the body
    "d.html": f'<div data-pagefind-meta="summary"><span>Tóm</span> tắt</div>'
              f'<div data-pagefind-filter="author"><span>Văn phòng</span></div>'
              f'<div data-pagefind-sort="date[data-date]" data-date="2024"><span>x</span></div>'
              f'<div data-pagefind-meta="kind:tin"><span>y</span></div>{BODY}' + FOOTER,
    # ignored elements inside the default title, a meta and a filter taken from text (Pagefind
    # leaves their text out of what it takes); the filter's value is d.html's: Pagefind lists
    # two values of a filter in an order that changes from run to run
    "f.html": f'<h1>Tiêu đề <span data-pagefind-ignore>phụ</span></h1>'
              f'<p data-pagefind-meta="summary">Tóm <span data-pagefind-ignore>tắt</span></p>'
              f'<div data-pagefind-filter="author">Văn phòng <b data-pagefind-ignore>x</b></div>'
              f"{BODY}",
    # an anchor in the body, sub-results
    "e.html": CHROME + '<main><div data-pagefind-body><h2 id="mot">Một</h2><p>Phần một.</p>'
              '<h2 id="hai">Hai</h2><p>Phần hai.</p></div></main>' + FOOTER,
}  # fmt: skip


def test_pagefind_makes_the_same_index_of_pages_that_hit_every_rule(tmp_path):
    pages = {name: page(inside) for name, inside in RULES.items()}
    assert all(len(indexed_part(data)) < len(data) for data in pages.values())
    assert same_bundles(pages, tmp_path) == []


def test_a_footer_change_reindexes_no_shard(tmp_path, runs):
    """A setting shown on every page but outside what Pagefind reads (the office's phone
    number, in the footer): every page is written again and read, no shard is indexed."""
    content = small_site(tmp_path)
    built = build_site(tmp_path / "out", content=content)
    assert runs[-1].indexed
    build_site(tmp_path / "out", content=content, OFFICE_PHONE="0220 3716 999")
    html = [p for p in built.files(".html") if "pagefind" not in p.parts]
    assert b"0220 3716 999" in html[0].read_bytes()
    assert runs[-1].skipped and runs[-1].read == len(html)


def test_cut_pages_stay_nfc():
    data = page(CHROME + f"<main>{BODY}</main>" + FOOTER)
    assert unicodedata.is_normalized("NFC", cut_form(data).decode("utf-8"))
