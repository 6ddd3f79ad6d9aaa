"""incremental: after any sequence of edits the incremental output is byte-identical to a
cold build of the same tree, and files whose bytes did not change keep their mtime."""

import ast
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup

from plugins.incremental import state as state_module
from plugins.incremental.fingerprint import digest, stable_repr
from plugins.incremental.readers import start_worker_pool, worker_pool
from plugins.incremental.state import BuildState
from plugins.vn_text import now_in_vietnam
from tests.conftest import ROOT, build_site, file_digests, make_content, run_tool

CATEGORIES = ["Xây dựng Đảng", "Kinh tế - Xã hội", "Văn hóa - Xã hội"]
WORDS = ("đảng viên hội nghị giao ban chi bộ nông thôn mới sản xuất lúa gạo "
         "văn hóa lễ hội truyền thống trường học y tế doanh nghiệp").split()  # fmt: skip


def article(n, title=None, category=None, tags=None, body=None, day=None):
    first = datetime(2023, 1, 2, 8, 0)
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(60)]
    return (
        f"Title: {title or f'Bài số {n} về ' + words[0]}\n"
        f"Date: {first + timedelta(days=day if day is not None else n * 3):%Y-%m-%d %H:%M}\n"
        f"Category: {category or CATEGORIES[n % 3]}\n"
        + (f"Tags: {tags}\n" if tags else ("Tags: nông thôn mới\n" if n % 4 == 0 else ""))
        + "Author: VPHU Gia Lộc\n\n"
        + (body or " ".join(words).capitalize() + ".")
        + "\n"
    )


def mtimes(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in folder.rglob("*") if p.is_file()}  # fmt: skip


@pytest.fixture
def project(tmp_path):
    content = make_content(tmp_path, {f"2023/bai-{n}.md": article(n) for n in range(24)})
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    return content, theme


def build(tmp_path, name, content, theme, **overrides):
    output = tmp_path / name
    return build_site(output, content=content, THEME=str(theme),
                      SITE_CATEGORIES=CATEGORIES, **overrides)  # fmt: skip


def edit(path, text):
    path.write_text(text, encoding="utf-8")


def assert_same_as_cold(tmp_path, step, content, theme, why=None, **overrides):
    """Build incrementally (the same output folder every time) and cold (a new one for
    ``step``): the outputs are identical. ``why``: the failure message (default ``step``)."""
    incremental = build(tmp_path, "incremental", content, theme, **overrides)
    cold = build(tmp_path, f"cold-{step}", content, theme, **overrides)
    assert incremental.log.messages(level=40) == []
    assert file_digests(incremental.output) == file_digests(cold.output), why or step
    return incremental


def test_incremental_output_equals_a_cold_build_after_every_edit(tmp_path, project):
    content, theme = project
    articles = content / "articles" / "2023"
    assert_same_as_cold(tmp_path, "first", content, theme)

    steps = [
        ("add", lambda: edit(articles / "moi.md", article(99, title="Bài mới nhất", day=400))),
        ("edit body", lambda: edit(articles / "bai-5.md", article(5, body="Nội dung đã sửa."))),
        ("edit title", lambda: edit(articles / "bai-6.md", article(6, title="Tiêu đề mới"))),
        ("category", lambda: edit(articles / "bai-7.md", article(7, category=CATEGORIES[0]))),
        ("tags", lambda: edit(articles / "bai-8.md", article(8, tags="lễ hội, đảng viên"))),
        ("delete", lambda: (articles / "bai-9.md").unlink()),
        ("date moves it", lambda: edit(articles / "bai-1.md", article(1, day=500))),
        ("draft", lambda: edit(articles / "bai-2.md", article(2).replace(
            "Author:", "Status: draft\nAuthor:"))),
    ]  # fmt: skip
    for name, change in steps:
        change()
        assert_same_as_cold(tmp_path, name, content, theme)

    # a template changes: every page that uses it
    base = theme / "templates" / "base.html"
    edit(base, base.read_text(encoding="utf-8").replace("Bỏ qua, đến nội dung chính",
                                                       "Đến nội dung chính"))  # fmt: skip
    assert_same_as_cold(tmp_path, "template", content, theme)

    # a setting changes
    assert_same_as_cold(tmp_path, "setting", content, theme, DEFAULT_PAGINATION=7,
                        SITENAME="Huyện ủy Gia Lộc (thử)")  # fmt: skip

    # a page is added: the menu of every page changes
    edit(content / "pages" / "so-do.md", "Title: Sơ đồ trang\n\nCác chuyên mục.\n")
    assert_same_as_cold(tmp_path, "page", content, theme, DEFAULT_PAGINATION=7,
                        SITENAME="Huyện ủy Gia Lộc (thử)")  # fmt: skip


def test_unchanged_files_keep_their_mtime_and_nothing_is_rewritten(tmp_path, project):
    content, theme = project
    first = build(tmp_path, "out", content, theme)
    before = mtimes(first.output)
    again = build(tmp_path, "out", content, theme)
    assert mtimes(again.output) == before  # no change: not a single file rewritten

    inodes = {p: p.stat().st_ino for p in first.output.rglob("*.html")}
    edit(content / "articles" / "2023" / "bai-3.md", article(3, body="Một đoạn văn khác hẳn."))
    after = build(tmp_path, "out", content, theme)
    changed = {name for name, mtime in mtimes(after.output).items() if before.get(name) != mtime}
    assert any(name.startswith("2023/01/bai-so-3") for name in changed)
    # the pages rewritten were overwritten in place (overwrite_if_changed), not replaced
    assert all(inodes[after.output / n] == (after.output / n).stat().st_ino
               for n in changed if n.endswith(".html"))  # fmt: skip
    # the edit shows on its own page, its list pages and feeds: not on unrelated pages
    assert len(changed) < len(before) / 3
    assert "chuyen-muc/van-hoa-xa-hoi/index.html" not in changed or "bai-so-3" in (
        after.output / "chuyen-muc/van-hoa-xa-hoi/index.html"
    ).read_text(encoding="utf-8")


def test_a_broken_or_foreign_output_is_repaired(tmp_path, project):
    content, theme = project
    site = build(tmp_path, "out", content, theme)
    page = next(site.output.glob("2023/01/*.html"))
    good = page.read_bytes()
    page.write_bytes(b"hong")  # someone edited the published file by hand
    (site.output / "index.html").unlink()
    again = build(tmp_path, "out", content, theme)
    assert page.read_bytes() == good
    assert (again.output / "index.html").is_file()


def test_stable_repr_and_digest_are_deterministic():
    class Thing:
        def __init__(self):
            self.b, self.a, self._private = 2, [1, {"y": 1, "x": 2}], object()

    assert stable_repr({"b": 1, "a": {2, 1}}) == "{'a': {1, 2}, 'b': 1}"
    assert "object at" not in stable_repr(Thing())
    assert digest(Thing()) == digest(Thing())
    assert digest("a", "bc") != digest("ab", "c")


def test_content_hash_is_memoised_while_the_body_is_the_same_and_kept_in_the_snapshot(tmp_path):
    from pelican.contents import Article
    from pelican.settings import DEFAULT_CONFIG

    from plugins.incremental.fingerprint import CONTENT_HASH, content_hash
    from plugins.incremental.readers import ObjectSnapshot

    settings = dict(DEFAULT_CONFIG, PATH=str(tmp_path), TIMEZONE="Asia/Ho_Chi_Minh")
    body = "<p>Đảng bộ huyện Gia Lộc</p>"
    item = Article(body, metadata={"title": "Hội nghị", "date": datetime(2024, 3, 1)},
                   settings=settings, source_path=str(tmp_path / "a.md"))  # fmt: skip
    expected = hashlib.sha1(body.encode()).digest()
    assert content_hash(item) == expected and item.__dict__[CONTENT_HASH][0] is item._content
    item._content = "<p>Nội dung đã sửa</p>"  # a plugin rewrites the body: hashed again
    assert content_hash(item) == hashlib.sha1("<p>Nội dung đã sửa</p>".encode()).digest()
    item._content = None
    assert content_hash(item) == hashlib.sha1(b"").digest()
    item._content = body

    snapshot = ObjectSnapshot(str(tmp_path), "key")
    assert snapshot.keep(str(tmp_path / "a.md"), "file-key", str(tmp_path), item)
    snapshot.save()
    restored = ObjectSnapshot(str(tmp_path), "key").restore(
        str(tmp_path / "a.md"), "file-key", Article, str(tmp_path), settings, {}
    )
    memo = restored.__dict__[CONTENT_HASH]
    assert memo == (body, expected) and memo[0] is restored._content  # not hashed again
    assert content_hash(restored) == expected


def test_static_links_are_memoised_while_the_body_is_the_same_and_kept_in_the_snapshot(
    tmp_path,
):
    from pelican.contents import Article
    from pelican.settings import DEFAULT_CONFIG

    from plugins.incremental.fingerprint import STATIC_LINKS, static_links
    from plugins.incremental.readers import ObjectSnapshot

    settings = dict(DEFAULT_CONFIG, PATH=str(tmp_path), TIMEZONE="Asia/Ho_Chi_Minh")
    body = ('<p><a href="{static}/tai-lieu/bao-cao.pdf">Báo cáo</a> '
            '<img src="{attach}anh/hoi-nghi.jpg" alt=""></p>')  # fmt: skip
    item = Article(body, metadata={"title": "Hội nghị", "date": datetime(2024, 3, 1)},
                   settings=settings, source_path=str(tmp_path / "2024" / "a.md"))  # fmt: skip
    expected = {"tai-lieu/bao-cao.pdf", "2024/anh/hoi-nghi.jpg"}
    assert item.get_static_links() == expected
    assert static_links(item) == expected and item.__dict__[STATIC_LINKS][0] is item._content
    static_links(item).add("x")  # the caller's own set: the memo is not changed
    assert static_links(item) == expected
    item._content = "<p>Không còn tệp đính kèm</p>"  # a plugin rewrites the body: scanned again
    assert static_links(item) == set()
    item._content = body

    snapshot = ObjectSnapshot(str(tmp_path), "key")
    assert snapshot.keep(str(tmp_path / "2024" / "a.md"), "file-key", str(tmp_path), item)
    snapshot.save()
    restored = ObjectSnapshot(str(tmp_path), "key").restore(
        str(tmp_path / "2024" / "a.md"), "file-key", Article, str(tmp_path), settings, {}
    )
    memo = restored.__dict__[STATIC_LINKS]
    assert memo == (body, frozenset(expected)) and memo[0] is restored._content
    restored.get_static_links = None  # not scanned again: the memo answers
    assert static_links(restored) == expected


def test_a_file_linked_from_a_body_put_back_is_still_copied(tmp_path, project, monkeypatch):
    """A file outside STATIC_PATHS that an article links with {static} is copied because the
    article links it: after an edit of another article, the article put back from the object
    snapshot still links it (its links remembered, not scanned again), and the output is that
    of a cold build."""
    from pelican.contents import Content

    content, theme = project
    (content / "tai-lieu").mkdir()
    (content / "tai-lieu" / "bao-cao.pdf").write_bytes(b"%PDF-1.4 bao cao")
    articles = content / "articles" / "2023"
    edit(articles / "bai-1.md",
         article(1, body="Xem [báo cáo]({static}/tai-lieu/bao-cao.pdf) của Huyện ủy."))  # fmt: skip
    first = build(tmp_path, "incremental", content, theme)
    assert first.exists("tai-lieu/bao-cao.pdf")

    scanned = []
    scan = Content.get_static_links
    monkeypatch.setattr(Content, "get_static_links",
                        lambda self: scanned.append(self.source_path) or scan(self))  # fmt: skip
    edit(articles / "bai-2.md", article(2, body="Nội dung mới của bài hai."))
    incremental = build(tmp_path, "incremental", content, theme)
    assert incremental.exists("tai-lieu/bao-cao.pdf")
    assert scanned and str(articles / "bai-1.md") not in scanned
    monkeypatch.undo()
    cold = build(tmp_path, "cold", content, theme)
    assert file_digests(incremental.output) == file_digests(cold.output)


def settings_function(body):
    """A function ``ten_don_vi`` as a settings file defines it (module "pelicanconf")."""
    namespace = {"__name__": "pelicanconf"}
    exec(f"def ten_don_vi(value):\n    return {body}\n", namespace)
    return namespace["ten_don_vi"]


def test_stable_repr_of_a_function_holds_its_code():
    first = settings_function('value.upper()')
    same = settings_function('value.upper()')
    other = settings_function('value.lower()')
    assert first.__qualname__ == other.__qualname__ and first.__module__ == other.__module__
    assert stable_repr(first) == stable_repr(same)
    assert stable_repr(first) != stable_repr(other)
    assert stable_repr(settings_function('"Gia Lộc"')) != stable_repr(
        settings_function('"Gia Lộc "'))  # a constant
    assert stable_repr(settings_function("[x for x in value]")) != stable_repr(
        settings_function("[x + x for x in value]"))  # nested code


def test_stable_repr_of_a_function_is_the_same_in_every_process(tmp_path):
    (tmp_path / "cauhinh.py").write_text(
        "def loc(value, suffix='!'):\n    return [v.strip() + suffix for v in value]\n",
        encoding="utf-8",
    )
    script = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
              "from plugins.incremental.fingerprint import stable_repr\n"
              "import cauhinh; print(stable_repr(cauhinh.loc))\n")  # fmt: skip
    runs = {
        subprocess.run([sys.executable, "-c", script, str(ROOT), str(tmp_path)],
                       capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }  # fmt: skip
    assert len(runs) == 1 and "cauhinh.loc" in runs.pop()


def test_manifest_entry_is_trusted_only_while_the_file_is_intact(tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    state = BuildState(str(output), str(tmp_path / "m.marshal"))
    state.record("a.html", "f1", b"one")
    state.save()
    fresh = BuildState(str(output), str(tmp_path / "m.marshal"))
    assert fresh.unchanged("a.html", "f1")
    assert not fresh.unchanged("a.html", "f2")
    (output / "a.html").write_bytes(b"two")
    assert not fresh.unchanged("a.html", "f1")
    assert fresh.stale() == ["a.html"]  # nothing claimed it yet in this build


def _same_file(path):
    status = os.lstat(path)
    return status.st_ino, status.st_mtime_ns


@pytest.mark.parametrize("before, data, written, in_place", [
    (None, b"new", True, False),  # no file yet: made
    (b"same bytes", b"same bytes", False, True),  # the same bytes: not touched
    (b"short", b"a longer page than before", True, True),
    (b"a longer page than what follows", b"short", True, True),  # cut to its new size
    (b"equal size A", b"equal size B", True, True),
])  # fmt: skip
def test_an_output_page_is_overwritten_in_place_and_only_when_its_bytes_change(
    tmp_path, before, data, written, in_place
):
    from plugins.incremental.state import overwrite_if_changed

    page = tmp_path / "a.html"
    if before is not None:
        page.write_bytes(before)
        os.utime(page, ns=(1_000_000_000, 1_000_000_000))
        old = _same_file(page)
    assert overwrite_if_changed(str(page), data) is written
    assert page.read_bytes() == data
    if in_place:
        assert _same_file(page)[0] == old[0]  # the same inode: not a renamed copy
        assert (_same_file(page)[1] == old[1]) is not written  # mtime kept when unchanged
    assert [p.name for p in tmp_path.iterdir()] == ["a.html"]  # no temporary file left


def test_an_output_page_that_is_a_link_is_replaced_not_written_through(tmp_path):
    """A hard link (a backup made with ``cp -al``) or a symbolic link in the output is
    replaced by a file of its own: what it points to keeps its bytes."""
    from plugins.incremental.state import overwrite_if_changed

    backup, target = tmp_path / "backup.html", tmp_path / "target.html"
    backup.write_bytes(b"published")
    target.write_bytes(b"target")
    hard, soft = tmp_path / "hard.html", tmp_path / "soft.html"
    os.link(backup, hard)
    soft.symlink_to(target)
    for page in (hard, soft):
        assert overwrite_if_changed(str(page), b"rebuilt") is True
        assert page.read_bytes() == b"rebuilt" and not page.is_symlink()
    assert backup.read_bytes() == b"published" and target.read_bytes() == b"target"
    assert os.stat(hard).st_nlink == 1


def test_a_new_output_page_is_made_under_its_name_and_its_folder_with_it(tmp_path, monkeypatch):
    """A new page is created straight under its name (no temporary file renamed over it),
    in a folder made for it; a dangling link there is replaced, never followed."""
    from plugins.incremental import state

    renamed = []
    monkeypatch.setattr(state.os, "replace", lambda *a: renamed.append(a) or os.rename(*a))
    page = tmp_path / "2024" / "05" / "bai.html"
    assert state.overwrite_if_changed(str(page), b"trang moi") is True
    assert page.read_bytes() == b"trang moi" and renamed == []
    assert [p.name for p in page.parent.iterdir()] == ["bai.html"]
    dangling = tmp_path / "dangling.html"
    dangling.symlink_to(tmp_path / "nowhere" / "x.html")
    assert state.overwrite_if_changed(str(dangling), b"trang") is True
    assert dangling.read_bytes() == b"trang" and not dangling.is_symlink()
    assert not (tmp_path / "nowhere").exists()


def test_a_page_made_by_another_writer_meanwhile_is_compared_then_replaced(tmp_path, monkeypatch):
    """Between the first look (no file) and the creation, another process made the page:
    the creation fails (O_EXCL), and the page is then written as an existing one."""
    from plugins.incremental import state

    page = tmp_path / "a.html"
    real_open = state.os.open

    def open_after_another_writer(path, flags, *mode):
        if flags & os.O_EXCL and not page.exists():
            page.write_bytes(b"theirs")
        return real_open(path, flags, *mode)

    monkeypatch.setattr(state.os, "open", open_after_another_writer)
    assert state.overwrite_if_changed(str(page), b"ours") is True
    assert page.read_bytes() == b"ours"
    assert state.overwrite_if_changed(str(page), b"ours") is False


@pytest.mark.parametrize("data", [
    b'{"format": 1, "files": {"a.html": ["f1", 3, 0]}, "last": null}',  # JSON, before
    b"\x00\xff garbage", b"", b"N",  # not marshal; marshal's None
])  # fmt: skip
def test_a_foreign_or_broken_manifest_counts_as_none(tmp_path, data):
    """A manifest of another format (the JSON one of earlier versions) or broken bytes is
    no manifest: every page is rendered, nothing is trusted."""
    output = tmp_path / "out"
    output.mkdir()
    (output / "a.html").write_bytes(b"one")
    (tmp_path / "m.marshal").write_bytes(data)
    state = BuildState(str(output), str(tmp_path / "m.marshal"))
    assert state.previous == {} and state.last is None
    assert not state.unchanged("a.html", "f1")


@pytest.fixture
def outputs_at_finalized():
    """What ``build_outputs`` gives the ``finalized`` receivers of each build of a test."""
    from pelican import signals

    from plugins.incremental.incremental import build_outputs

    seen = []

    def receiver(pelican):
        outputs = build_outputs(pelican)
        seen.append(None if outputs is None else dict(outputs))

    signals.finalized.connect(receiver)
    yield seen
    signals.finalized.disconnect(receiver)


def test_build_outputs_lists_what_the_build_wrote_or_kept(tmp_path, project,
                                                         outputs_at_finalized):  # fmt: skip
    content, theme = project
    site = build(tmp_path, "out", content, theme)
    (first,) = outputs_at_finalized
    pages = {p.relative_to(site.output).as_posix()
             for p in site.output.rglob("*.html") if "pagefind" not in p.parts}  # fmt: skip
    assert pages <= set(first)
    for name in pages:
        fingerprint, size, mtime = first[name]
        stat = (site.output / name).stat()
        assert isinstance(fingerprint, str) and [size, mtime] == [stat.st_size, stat.st_mtime_ns]
    assert first["theme/js/site-search.js"] == [None, None, None]  # a static file

    edit(content / "articles" / "2023" / "bai-3.md", article(3, body="Một đoạn văn khác hẳn."))
    build(tmp_path, "out", content, theme)
    second = outputs_at_finalized[-1]
    changed = {name for name in pages if second[name] != first[name]}
    assert any(name.startswith("2023/01/bai-so-3") for name in changed)
    # articles that do not show the edited one keep their entries
    articles = {name for name in pages if name.startswith("2023/")}
    assert len(changed & articles) < len(articles) / 2

    build(tmp_path, "plain", content, theme, PELICAN_CLASS="pelican.Pelican")
    assert outputs_at_finalized[-1] is None


def _pages_listing(output, urls):
    """The HTML pages of ``output`` that link to one of the article pages ``urls``."""
    links = [f'/{url.removesuffix("index.html")}"' for url in urls]
    return {p.relative_to(output).as_posix() for p in output.rglob("*.html")
            if any(link in p.read_text(encoding="utf-8") for link in links)}  # fmt: skip


def _reshuffle_related_lists(content):
    """Give bai-5 a body in another article's word pattern (shifted by one): the related
    lists of the articles close to either change."""
    words = [WORDS[(11 * 7 + i * 3 + 1) % len(WORDS)] for i in range(60)]
    edit(content / "articles" / "2023" / "bai-5.md",
         article(5, body=" ".join(words).capitalize() + "."))  # fmt: skip


def test_pages_that_show_no_related_lists_ignore_a_change_of_them(
    tmp_path, project, outputs_at_finalized
):
    """An edit changes the related lists of other articles: their pages are rendered again,
    but the listings (whose templates never name ``related_posts``) only where they list the
    edited article itself; the output is still that of a cold build."""
    content, theme = project
    first = build(tmp_path, "incremental", content, theme)  # the folder assert_same_as_cold builds
    before = outputs_at_finalized[-1]
    related_before = {name: (first.output / name).read_text(encoding="utf-8")
                      for name in before if name.startswith("2023/")}  # fmt: skip
    _reshuffle_related_lists(content)
    site = assert_same_as_cold(tmp_path, "related lists", content, theme)
    after = outputs_at_finalized[-2]  # the incremental build (the cold one came after)
    changed = {name for name in after if name.endswith(".html") and after[name] != before.get(name)}
    edited = next(name for name in after if "bai-so-5-" in name)
    others = {name for name in changed if name.startswith("2023/") and name != edited
              and (site.output / name).read_text(encoding="utf-8") != related_before[name]}
    assert others, "the edit should change some other article's related list"
    listing_edited = _pages_listing(site.output, [edited])
    listings = {name for name in after if name.endswith(".html") and not name.startswith("2023/")}
    assert listing_edited & listings <= changed
    # listings that show an article whose related list changed, but not the edited one
    kept = (listings & _pages_listing(site.output, others)) - listing_edited
    assert kept and not kept & changed


def test_a_listing_template_that_shows_related_lists_is_rendered_when_they_change(
    tmp_path, project
):
    """The same edit with a theme whose article cards show each article's related list: the
    listings are rendered again (their template imports a macro naming ``related_posts``)."""
    content, theme = project
    card = theme / "templates" / "macros" / "article_card.html"
    edit(card, card.read_text(encoding="utf-8").replace(
        '<p class="card__meta">',
        '<p class="card__related">{% for other in article.related_posts %}'
        "{{ other.title }};{% endfor %}</p>\n  <p class=\"card__meta\">",
    ))  # fmt: skip
    build(tmp_path, "incremental", content, theme)
    _reshuffle_related_lists(content)
    site = assert_same_as_cold(tmp_path, "related lists on cards", content, theme)
    assert "card__related" in (site.output / "index.html").read_text(encoding="utf-8")


def test_template_mentions_follows_extends_includes_and_imports(tmp_path):
    from jinja2 import DictLoader, Environment

    from plugins.incremental.incremental import Build, template_mentions
    from plugins.incremental.templates import TemplateCache

    env = Environment(loader=DictLoader({
        "base.html": "{% block main %}{% endblock %}",
        "card.html": "{% macro card(a) %}{{ a.related_posts }}{% endmacro %}",
        "plain.html": "{% macro card(a) %}{{ a.title }}{% endmacro %}",
        "uses-card.html": '{% extends "base.html" %}{% from "card.html" import card %}',
        "uses-plain.html": '{% extends "base.html" %}{% import "plain.html" as p %}',
        "includes.html": '{% include "uses-card.html" %}',
        "dynamic.html": "{% include name %}",
        "missing.html": '{% include "nowhere.html" %}',
    }))  # fmt: skip
    cases = {"uses-card.html": True, "uses-plain.html": False, "includes.html": True,
             "dynamic.html": True, "missing.html": True, "base.html": False}  # fmt: skip
    for name, expected in cases.items():
        assert template_mentions(env, name, "related_posts") is expected, name
    build = Build.__new__(Build)  # only its memo of templates and its cache are used here
    build._shows_related = {}
    build.templates = TemplateCache(str(tmp_path), "key")
    assert build.shows_related(env.get_template("uses-plain.html")) is False
    assert build.shows_related(env.get_template("uses-card.html")) is True
    assert build.shows_related(env.from_string("{{ page.title }}")) is True  # no source


def count_parsed(monkeypatch):
    """From now on, record the name of every template Jinja parses (to compile it, or for
    ``template_mentions``) in this process."""
    from jinja2 import Environment

    parsed = []
    original = Environment._parse

    def parse(self, source, name, filename):
        parsed.append(name)
        return original(self, source, name, filename)

    monkeypatch.setattr(Environment, "_parse", parse)
    return parsed


def test_template_cache_keeps_compiled_code_and_references_by_source(tmp_path, monkeypatch):
    from jinja2 import DictLoader, Environment

    from plugins.incremental.incremental import template_mentions
    from plugins.incremental.templates import JinjaBytecodeCache, TemplateCache

    sources = {
        "base.html": "<main>{% block main %}{% endblock %}</main>",
        "card.html": "{% macro card(a) %}<b>{{ a }}</b>{% endmacro %}",
        "page.html": '{% extends "base.html" %}{% from "card.html" import card %}'
                     "{% block main %}{{ card(title) }}{% endblock %}",
    }  # fmt: skip

    def environment():
        cache = TemplateCache(str(tmp_path), "key")
        env = Environment(loader=DictLoader(dict(sources)))
        env.bytecode_cache = JinjaBytecodeCache(cache)
        return env, cache

    parsed = count_parsed(monkeypatch)
    env, cache = environment()
    assert env.get_template("page.html").render(title="Tin") == "<main><b>Tin</b></main>"
    assert template_mentions(env, "page.html", "related", cache.references) is False
    # Compiled by name; parsed without a name for their references, all three.
    assert sorted(map(str, parsed)) == ["None"] * 3 + ["base.html", "card.html", "page.html"]
    cache.save()

    parsed.clear()
    env, cache = environment()  # the next build: nothing parsed, the same page
    assert env.get_template("page.html").render(title="Tin") == "<main><b>Tin</b></main>"
    assert template_mentions(env, "page.html", "related", cache.references) is False
    assert parsed == []
    cache.save()

    sources["card.html"] = "{% macro card(a) %}<i>{{ a }}</i>{% endmacro %}"
    env, cache = environment()  # one source edited: that one only is parsed again
    assert env.get_template("page.html").render(title="Tin") == "<main><i>Tin</i></main>"
    assert template_mentions(env, "page.html", "related", cache.references) is False
    assert parsed == ["card.html", None]
    cache.save()
    # Kept: the compiled code of the three templates, and the references of the three
    # sources as they are now (the old card's went, unused).
    kept = TemplateCache(str(tmp_path), "key").entries
    assert sorted(k[1] for k in kept if k[0] == "refs") == sorted(
        hashlib.sha1(source.encode()).hexdigest() for source in sources.values()
    )
    assert len([k for k in kept if k[0] == "code"]) == 3

    # An entry of another Python (another magic number) is compiled again, not loaded.
    key = next(k for k in cache.entries if k[0] == "code")
    cache.entries[key] = b"other python" + cache.entries[key][12:]
    cache.changed = True
    cache.save()
    parsed.clear()
    env, cache = environment()
    assert env.get_template("page.html").render(title="Tin") == "<main><i>Tin</i></main>"
    assert len(parsed) == 1

    # Compiled code is kept even when a build did not load it (partials load only when
    # a page is rendered); references go when unused.
    cache = TemplateCache(str(tmp_path), "key")
    assert cache.entries
    cache.save()
    assert {k[0] for k in TemplateCache(str(tmp_path), "key").entries} == {"code"}


def test_an_edit_parses_no_template_and_a_theme_edit_only_the_edited_one(
    tmp_path, project, monkeypatch
):
    content, theme = project
    build(tmp_path, "incremental", content, theme)
    parsed = count_parsed(monkeypatch)
    edit(content / "articles" / "2023" / "bai-5.md", article(5, body="Nội dung đã sửa."))
    site = build(tmp_path, "incremental", content, theme)
    pages = [p for p in site.output.rglob("*.html") if "Nội dung đã sửa." in p.read_text("utf-8")]
    assert pages, "the edit is on its page"
    # robots.txt is a TEMPLATE_PAGES page: Pelican's own generator, no cache (one small
    # template).
    assert [name for name in parsed if name != "extra/robots.txt"] == []

    footer = theme / "templates" / "partials" / "footer.html"
    edit(footer, footer.read_text(encoding="utf-8").replace("</footer>", "<p>Mới</p></footer>"))
    parsed.clear()
    build(tmp_path, "incremental", content, theme)
    # Compiled once (the articles' and the pages' generators share the cache), and parsed
    # once for the templates it names.
    assert sorted(map(str, parsed)) == ["None", "extra/robots.txt", "partials/footer.html"]
    monkeypatch.undo()
    assert_same_as_cold(tmp_path, "footer edited", content, theme)


def test_articles_of_the_same_date_are_in_the_same_order_in_every_process(tmp_path):
    """Pelican reads the files in the order of a set of paths, which hash randomisation
    changes in every process: articles of the same date swapped places from one build to
    the next (so their listings changed bytes, and were rendered again every time). They
    are read in path order: every process writes the same bytes."""
    content = make_content(tmp_path, {f"2024/bai-{n:02}.md": article(n, day=700)
                                      for n in range(12)})  # fmt: skip
    digests = []
    for seed in ("1", "2", "3"):
        output = tmp_path / f"out-{seed}"
        done = run_tool(
            [sys.executable, "-m", "pelican", str(content), "-o", str(output),
             "-s", str(ROOT / "pelicanconf.py"), "-e", f'CACHE_PATH="{tmp_path}/cache-{seed}"',
             "SEARCH_INDEX=false", f"SITE_CATEGORIES={json.dumps(CATEGORIES)}"],
            env={"PYTHONHASHSEED": seed},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        digests.append(file_digests(output))
    assert digests[0] == digests[1] == digests[2]
    index = (tmp_path / "out-1" / "index.html").read_text(encoding="utf-8")
    shown = [int(n) for n in re.findall(r"Bài số (\d+) về", index)]
    assert shown == list(range(10))  # page 1: the first ten files, in path order


def test_file_keys_are_remembered_between_builds_and_never_miss_an_edit(tmp_path):
    from plugins.incremental.fingerprint import file_digest
    from plugins.incremental.readers import FileKeys

    source = tmp_path / "bai.md"
    source.write_bytes(b"Title: A\n\nnoi dung 1\n")
    memo = tmp_path / "cache" / "file-keys.marshal"
    first = FileKeys(str(memo))
    assert first.key(str(source)) == file_digest(source.read_bytes())
    first.save()
    # A new build trusts the memo for an untouched file: it does not read it again.
    second = FileKeys(str(memo))
    assert str(source) in second.memo
    second.key(str(source))
    assert not second.changed
    # Same size, mtime put back: the ctime still tells the edit.
    stat = source.stat()
    source.write_bytes(b"Title: A\n\nnoi dung 2\n")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    third = FileKeys(str(memo))
    assert third.key(str(source)) == file_digest(b"Title: A\n\nnoi dung 2\n")
    assert third.changed
    # Files no longer asked for are forgotten.
    third.current.clear()
    third.save()
    assert FileKeys(str(memo)).memo == {}


@pytest.mark.parametrize(
    "source",
    [
        "{root}/articles/2024/bai.md",
        "{root}/articles/../pages/gioi-thieu.md",
        "{root}/articles/./2024/bai.md",
        "{root}//articles/bai.md",
        "{root}/.hidden/bai.md",
        "{root}-other/bai.md",
        "articles/2024/bai.md",
        "/elsewhere/bai.md",
    ],
)
def test_relative_source_path_is_pelicans(tmp_path, source):
    from pelican.contents import Content

    from plugins.incremental.readers import relative_source_path

    class Item:
        pass

    item = Item()
    item.settings = {"PATH": str(tmp_path / "content")}
    item.source_path = source.format(root=tmp_path / "content")
    expected = Content.get_relative_source_path(item)
    assert relative_source_path(item) == expected
    assert relative_source_path(item) == expected  # remembered


def count_articles_made(monkeypatch):
    """Patch Pelican's Content.__init__ to record the source file of every Article made."""
    from pelican.contents import Article, Content

    made = []
    original = Content.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if isinstance(self, Article):
            made.append(os.path.basename(self.source_path))

    monkeypatch.setattr(Content, "__init__", init)
    return made


def test_unchanged_articles_are_restored_from_the_snapshot_not_read_again(
    tmp_path, project, monkeypatch
):
    content, theme = project
    build(tmp_path, "incremental", content, theme)
    snapshots = list((tmp_path / "incremental-cache" / "incremental").glob("objects-*"))
    assert len(snapshots) == 1
    edit(content / "articles" / "2023" / "bai-5.md", article(5, body="Nội dung đã sửa."))
    made = count_articles_made(monkeypatch)
    build(tmp_path, "incremental", content, theme)
    assert made == ["bai-5.md"]
    monkeypatch.undo()
    assert_same_as_cold(tmp_path, "after one edit", content, theme)


def test_a_build_that_fails_writing_keeps_what_it_read(tmp_path, project, monkeypatch):
    """The reading caches are saved before the article pages are written: after a template
    error, the build that follows the fix parses nothing again."""
    content, theme = project
    build(tmp_path, "incremental", content, theme)
    edit(content / "articles" / "2023" / "bai-5.md", article(5, body="Nội dung đã sửa."))
    template = theme / "templates" / "article.html"
    good = template.read_text(encoding="utf-8")
    edit(template, good.replace("{{ article.title }}", "{{ article.title | khong_co }}", 1))
    with pytest.raises(Exception, match="khong_co"):
        build(tmp_path, "incremental", content, theme)
    edit(template, good)
    made = count_articles_made(monkeypatch)
    build(tmp_path, "incremental", content, theme)
    assert made == [], "bai-5.md was read by the failed build, and kept"
    monkeypatch.undo()
    assert_same_as_cold(tmp_path, "after the fix", content, theme)


def count_summaries_cut(monkeypatch, record=None):
    """From now on, record the HTML of every summary Pelican cuts: in the list returned
    (this process), or with ``record(html)`` (also in the processes forked from it)."""
    import pelican.contents

    cut = []
    record = record or cut.append
    original = pelican.contents.truncate_html_words

    def counting(html, *args, **kwargs):
        record(html)
        return original(html, *args, **kwargs)

    monkeypatch.setattr(pelican.contents, "truncate_html_words", counting)
    return cut


def test_summaries_are_remembered_between_builds_and_follow_their_html(
    tmp_path, project, monkeypatch
):
    """Pelican cuts a summary out of an article's HTML (``truncate_html_words``); the build
    remembers it: a new article shifts every listing, whose cards show summaries, and only
    the new article's summary is cut. A summary holding a link whose target moved is cut
    again (the article page's description shows it)."""
    content, theme = project
    articles = content / "articles" / "2023"
    linking = "Xem [bài bốn]({filename}bai-4.md) trước. " + "Hội nghị giao ban. " * 30
    edit(articles / "bai-3.md", article(3, body=linking))
    build(tmp_path, "incremental", content, theme)
    cut = count_summaries_cut(monkeypatch)
    edit(articles / "moi.md", article(99, title="Bài mới nhất", day=400))
    site = build(tmp_path, "incremental", content, theme)
    assert len(cut) == 1, "only the new article's summary is cut"
    first = site.soup("index.html").select(".card")[0]
    assert first.select_one(".card__title").get_text(strip=True) == "Bài mới nhất"
    assert_same_as_cold(tmp_path, "new article", content, theme)

    cut.clear()
    edit(articles / "bai-4.md", article(4, title="Tiêu đề khác hẳn"))
    build(tmp_path, "incremental", content, theme)
    assert [html for html in cut if "tieu-de-khac-han" in html], "bai-3's summary cut again"
    assert_same_as_cold(tmp_path, "link moved", content, theme)


def test_summaries_cut_in_the_render_workers_are_remembered(tmp_path, project, monkeypatch):
    """The summaries a render worker cuts come back to the build: rendered in workers, then
    (a new article) here, only the new article's summary is cut. (Feeds of one item: the
    feeds, written here, would otherwise cut every summary here.)"""
    import plugins.incremental.incremental as incremental

    content, theme = project
    options = {"INCREMENTAL_WORKERS": 2, "FEED_MAX_ITEMS": 1}
    monkeypatch.setattr(incremental, "PARALLEL_RENDER_MINIMUM", 1)
    build(tmp_path, "incremental", content, theme, **options)
    monkeypatch.setattr(incremental, "PARALLEL_RENDER_MINIMUM", 10**6)  # here: counted
    cut = count_summaries_cut(monkeypatch)
    edit(content / "articles" / "2023" / "moi.md", article(99, title="Bài mới nhất", day=400))
    build(tmp_path, "incremental", content, theme, **options)
    assert len(cut) == 1


def test_no_render_worker_makes_a_summary_or_card_its_process_already_has(
    tmp_path, project, monkeypatch
):
    """A build rendered in workers (the listings in two, then the article pages in two
    more, forked once the listings' summaries and cards came back) cuts each summary and
    renders each card at most once in a process: a worker's later share takes what its
    earlier ones made, and the article pages' workers take the listings' summaries (their
    description) instead of cutting them again. Every process appends what it makes to one
    file."""
    import plugins.incremental.incremental as incremental

    content, theme = project
    log = tmp_path / "made.log"
    build_fragment = incremental.Build.fragment

    def record(kind, what):
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\t{kind}\t{what}\n")

    def fragment(self, environment, name, lineno, values, siteurl, render):
        def rendering():
            record("card", repr((values[0].source_path, *values[1:])))
            return render()

        return build_fragment(self, environment, name, lineno, values, siteurl, rendering)

    count_summaries_cut(
        monkeypatch, lambda html: record("summary", hashlib.sha1(html.encode()).hexdigest())
    )
    monkeypatch.setattr(incremental.Build, "fragment", fragment)
    monkeypatch.setattr(incremental, "PARALLEL_RENDER_MINIMUM", 1)
    build(tmp_path, "incremental", content, theme, INCREMENTAL_WORKERS=2, FEED_MAX_ITEMS=1)
    made = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    workers = {pid for pid, _, _ in made if pid != str(os.getpid())}
    cards = [(pid, what) for pid, kind, what in made if kind == "card"]
    summaries = [(pid, what) for pid, kind, what in made if kind == "summary"]
    carded = {ast.literal_eval(what)[0] for _, what in cards}
    assert carded == {str(path) for path in content.rglob("*.md")}, "every article's card"
    assert len({what for _, what in summaries}) >= len(carded), "every article's summary"
    assert len(set(cards)) == len(cards), "a card rendered twice in one process"
    assert len(set(summaries)) == len(summaries), "a summary cut twice in one process"
    cutting_workers = {pid for pid, _ in summaries} & workers
    assert len(cutting_workers) <= 2, "only the listings' two workers cut summaries"


@pytest.mark.parametrize(
    ("dates", "count", "shares"),
    [
        # listings by date, in runs of consecutive dates; the other pages dealt out in turn
        ([3, 1, None, 2, None, 4], 2, [[1, 2, 3], [0, 4, 5]]),
        ([None] * 5, 2, [[0, 2, 4], [1, 3]]),  # article pages only: every n-th, as before
        ([7, 7, 7, 7], 2, [[0, 1], [2, 3]]),  # the same date: queue order
        ([9.5], 3, [[], [], [0]]),  # fewer pages than shares: some shares empty
        ([], 2, [[], []]),
    ],
)
def test_share_jobs_keeps_the_listings_of_the_same_dates_together(dates, count, shares):
    from plugins.incremental.incremental import share_jobs

    assert share_jobs(dates, count) == shares


def test_listed_when_is_the_middle_article_of_a_listing_page():
    from types import SimpleNamespace as Namespace

    from plugins.incremental.incremental import listed_when

    def at(day):
        return Namespace(date=datetime.fromisoformat(f"2023-01-{day:02d}T08:00:00+07:00"))

    page = Namespace(object_list=[at(9), at(5), at(2)])
    assert listed_when({"articles_page": page}) == at(5).date.timestamp()
    assert listed_when({"dates_page": Namespace(object_list=[at(1), at(3)])}) == (
        at(3).date.timestamp()
    )
    assert listed_when({"articles_page": Namespace(object_list=[])}) is None
    assert listed_when({"dates": [at(7), at(8), at(9)]}) == at(8).date.timestamp()  # a month
    assert listed_when({"article": at(4)}) is None  # an article page
    assert listed_when({}) is None
    # what another plugin may pass under these names: no date, no error
    assert listed_when({"dates_page": Namespace(object_list=iter([at(1)]))}) is None
    assert listed_when({"dates": [Namespace(date="hôm qua")]}) is None


def test_an_articles_cards_are_rendered_in_few_shares(tmp_path, monkeypatch):
    """The listings a cold build renders in workers: the pages that show one article's card
    (the home page's pagination, its category's, tags' and month's) fall into fewer shares
    than when the pages are dealt out in turn, so its card is made in fewer workers. Read
    from the pages written: the links of their cards."""
    import plugins.incremental.incremental as incremental

    texts = {f"2023/bai-{n}.md": article(n, day=n * 4) for n in range(90)}
    content = make_content(tmp_path, texts)
    queued = []
    start = incremental.Build._start_rendering

    def spy(self, jobs, workers):
        queued.append(list(jobs))
        return start(self, jobs, workers)

    monkeypatch.setattr(incremental.Build, "_start_rendering", spy)
    monkeypatch.setattr(incremental, "PARALLEL_RENDER_MINIMUM", 1)
    site = build_site(tmp_path / "out", content=content, SITE_CATEGORIES=CATEGORIES,
                      INCREMENTAL_WORKERS=2, DEFAULT_PAGINATION=2)  # fmt: skip
    listings = queued[0]
    cards = [{a["href"] for a in site.soup(name).select(".card__title a")}
             for _, name, _, _, _ in listings]  # fmt: skip
    count = 2 * incremental.RENDER_SHARES_PER_WORKER

    def shares_per_card(shares):
        shown = {}
        for share, numbers in enumerate(shares):
            for number in numbers:
                for link in cards[number]:
                    shown.setdefault(link, set()).add(share)
        assert len(shown) == 90
        return sum(len(s) for s in shown.values()) / len(shown)

    dates = [incremental.listed_when(kwargs) for _, _, _, kwargs, _ in listings]
    grouped = shares_per_card(incremental.share_jobs(dates, count))
    in_turn = shares_per_card([range(i, len(listings), count) for i in range(count)])
    assert grouped < 0.6 * in_turn, (grouped, in_turn)


def mark_remembered_cards(cache, mark):
    """Change every card the fragment store holds (``plugins/incremental/fragments.py``):
    a card taken from the store shows ``mark``, one rendered afresh does not."""
    import marshal

    (path,) = (cache / "incremental").glob("fragments-*.marshal")
    version, entries = marshal.loads(path.read_bytes())
    for fragments in entries.values():
        for inner, html in fragments.items():
            fragments[inner] = html.replace('class="card__title"', f'class="card__title {mark}"')
    path.write_bytes(marshal.dumps((version, entries)))
    return sum(len(fragments) for fragments in entries.values())


def test_cards_are_remembered_between_builds_and_follow_their_article_and_template(
    tmp_path, project, monkeypatch
):
    """When a build renders many pages (here: any number, in two workers), each card (the
    ``{% cache %}`` tag of the card macro) is rendered once and remembered: a new article
    shifts every listing page, and every card but the new one comes from the store. An
    edited article's card and every card after an edit of the card macro are rendered
    afresh; then the output is a cold build's."""
    import plugins.incremental.incremental as incremental

    content, theme = project
    articles = content / "articles" / "2023"
    monkeypatch.setattr(incremental, "PARALLEL_RENDER_MINIMUM", 1)
    options = {"INCREMENTAL_WORKERS": 2}
    site = build(tmp_path, "incremental", content, theme, **options)
    cache = tmp_path / "incremental-cache"
    # One card an article: the same on the home page, its category, tag and month pages
    assert mark_remembered_cards(cache, "tu-bo-nho") == 24

    edit(articles / "moi.md", article(99, title="Bài mới nhất", day=400))
    site = build(tmp_path, "incremental", content, theme, **options)
    cards = site.soup("index.html").select(".card__title")
    assert cards[0].get_text(strip=True) == "Bài mới nhất"
    assert "tu-bo-nho" not in cards[0]["class"]
    assert all("tu-bo-nho" in card["class"] for card in cards[1:])
    second_page = site.soup("trang/2/index.html").select(".card__title")
    assert second_page and all("tu-bo-nho" in card["class"] for card in second_page)

    edit(articles / "bai-23.md", article(23, title="Tiêu đề đã sửa"))
    edit(articles / "moi-2.md", article(98, title="Bài mới thứ hai", day=401))
    site = build(tmp_path, "incremental", content, theme, **options)
    shown = {c.get_text(strip=True): c["class"] for c in site.soup("index.html").select(
        ".card__title")}  # fmt: skip
    assert "tu-bo-nho" not in shown["Tiêu đề đã sửa"]
    assert "tu-bo-nho" in shown[re.search(r"Title: (.*)", article(22))[1]]

    card = theme / "templates" / "macros" / "article_card.html"
    edit(card, card.read_text(encoding="utf-8").replace(
        '<p class="card__meta">', '<p class="card__meta card__meta--moi">'))  # fmt: skip
    assert_same_as_cold(tmp_path, "card macro", content, theme, **options)
    assert "tu-bo-nho" not in (tmp_path / "incremental" / "index.html").read_text("utf-8")
    # the cards of the old macro are gone from the store: one card for each of 26 articles
    assert mark_remembered_cards(cache, "lan-hai") == 26


def test_a_cold_build_takes_each_files_key_from_the_worker_that_parses_it(
    tmp_path, project, monkeypatch
):
    """With nothing remembered, the reading workers take each Markdown file's key (its stat
    before reading, the digest of the bytes parsed): the build's own process reads no file
    for it, and the keys kept are the ones the next build finds, so that build reads none
    again; an edit is then read for its key by the build's own process, as before."""
    import marshal

    from plugins.incremental import readers
    from plugins.incremental.fingerprint import file_signature

    content, theme = project
    monkeypatch.setattr(readers, "PARALLEL_MINIMUM", 1)
    here, digested = os.getpid(), []
    real_digest = readers.file_digest

    def digest(data):
        if os.getpid() == here:
            digested.append(data)
        return real_digest(data)

    monkeypatch.setattr(readers, "file_digest", digest)
    options = {"INCREMENTAL_WORKERS": 2}
    build(tmp_path, "incremental", content, theme, **options)
    assert digested == []
    with open(tmp_path / "incremental-cache" / "incremental" / "file-keys.marshal", "rb") as f:
        _, memo = marshal.loads(f.read())
    sources = sorted(str(path) for path in content.rglob("*.md"))
    assert len(sources) >= 24 and sorted(p for p in memo if p.endswith(".md")) == sources
    for path in sources:
        with open(path, "rb") as handle:
            data = handle.read()
        assert memo[path] == (file_signature(path), hashlib.sha1(data).hexdigest())
    build(tmp_path, "incremental", content, theme, **options)
    assert digested == []
    edit(content / "articles" / "2023" / "bai-3.md", article(3, title="Đã sửa"))
    assert_same_as_cold(tmp_path, "edit", content, theme, **options)
    assert digested == [(content / "articles" / "2023" / "bai-3.md").read_bytes()]


def test_the_incremental_plugin_adds_the_cache_tag_when_the_settings_leave_it_out(
    tmp_path, project
):
    """A ``JINJA_ENVIRONMENT`` without the tag's extension (an office's own settings): the
    incremental plugin adds it, and the site is the same."""
    from pelican.settings import read_settings

    content, theme = project
    jinja = dict(read_settings(str(ROOT / "pelicanconf.py"))["JINJA_ENVIRONMENT"])
    assert jinja["extensions"] == ["plugins.incremental.fragments.FragmentCache"]
    plain = build(tmp_path, "plain", content, theme, JINJA_ENVIRONMENT={**jinja, "extensions": []})
    assert plain.log.messages(level=40) == []
    usual = build(tmp_path, "usual", content, theme)
    assert file_digests(plain.output) == file_digests(usual.output)
    assert plain.soup("index.html").select(".card__title")


def test_the_cache_tag_renders_its_body_outside_an_incremental_build():
    """Without a build to answer it (plain Pelican, a small build) the tag is its body,
    escaped as the template escapes; a build's answer is not escaped again."""
    from jinja2 import Environment

    from plugins.incremental import fragments

    source = "{% cache item, 'h2' %}<b>{{ item.title }}</b>{% endcache %}|{{ '<i>' }}"
    for autoescape, expected in ((True, "<b>A &amp; B</b>|&lt;i&gt;"),
                                 (False, "<b>A & B</b>|<i>")):  # fmt: skip
        env = Environment(autoescape=autoescape, extensions=[fragments.FragmentCache])
        item = type("Item", (), {"title": "A & B"})()
        assert env.from_string(source).render(item=item) == expected

    asked = []

    def answer(environment, name, lineno, values, siteurl, render):
        asked.append((name, lineno, values[1:], siteurl))
        return "<u>kept</u>"

    try:
        fragments.fragment_source = answer
        env = Environment(autoescape=True, extensions=[fragments.FragmentCache])
        rendered = env.from_string("\n\n" + source).render(item=item, SITEURL="/x")
    finally:
        fragments.fragment_source = None
    assert rendered == "\n\n<u>kept</u>|&lt;i&gt;"
    assert asked == [(None, 3, ["h2"], "/x")]


CARD, LIST = ("card.html", 2), ("list.html", 5)


@pytest.mark.parametrize("contents, templates, made, kept", [
    # a fragment made: the entries of this build's contents stay, the others go
    ({"a", "d"}, {"card.html": "v1", "list.html": "w1"}, {"d": (*CARD, "v1", "", "'h2'")},
     {"a": {(*CARD, "v1", "", "'h2'"), (*LIST, "w1", "", "'h3'")},
      "d": {(*CARD, "v1", "", "'h2'")}}),
    # a template whose key this build saw change loses its old fragments (wherever its tag
    # was), not the others
    ({"a", "b"}, {"card.html": "v2"}, {},
     {"a": {(*LIST, "w1", "", "'h3'")}, "b": {(*CARD, "v2", "", "'h2'")}}),
    # no template seen, nothing made: nothing to write
    ({"a"}, {}, {}, None),
])  # fmt: skip
def test_the_fragment_store_keeps_the_fragments_of_this_builds_contents_and_templates(
    tmp_path, contents, templates, made, kept
):
    from plugins.incremental.fragments import FragmentStore

    store = FragmentStore(str(tmp_path), "k" * 40)
    store.entries.update({
        "a": {(*CARD, "v1", "", "'h2'"): "<a>", (*LIST, "w1", "", "'h3'"): "<l>",
              ("card.html", 9, "v0", "", "'h2'"): "<a9>"},  # the tag on another line before
        "b": {(*CARD, "v2", "", "'h2'"): "<b>"},
        "c": {(*CARD, "v1", "", "'h2'"): "<c>"},
    })  # fmt: skip
    store.as_markup()  # as before rendering: written back as plain strings
    store.save(contents, templates, {(outer, inner): "<new>" for outer, inner in made.items()})
    again = FragmentStore(str(tmp_path), "k" * 40)
    if kept is None:
        assert not os.path.exists(again.path)
        return
    assert {outer: set(inner) for outer, inner in again.entries.items()} == kept
    assert all(type(html) is str for inner in again.entries.values() for html in inner.values())


def test_a_plugin_listening_to_content_object_init_sees_every_article(
    tmp_path, project
):
    from pelican import signals

    content, theme = project
    build(tmp_path, "incremental", content, theme)
    seen = []

    def receiver(instance):
        seen.append(os.path.basename(instance.source_path))

    signals.content_object_init.connect(receiver)
    try:
        edit(content / "articles" / "2023" / "bai-5.md", article(5, body="Nội dung đã sửa."))
        assert_same_as_cold(tmp_path, "with a receiver", content, theme)
    finally:
        signals.content_object_init.disconnect(receiver)
    articles = [name for name in seen if name.startswith("bai-")]
    assert sorted(set(articles)) == sorted(f"bai-{n}.md" for n in range(24))
    assert len(articles) == 2 * 24


def test_a_future_article_is_not_kept_in_the_snapshot_and_appears_when_due(
    tmp_path, project
):
    from zoneinfo import ZoneInfo

    content, theme = project
    due = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(seconds=4)
    text = article(50, title="Bài hẹn giờ").replace(
        next(line for line in article(50).splitlines() if line.startswith("Date:")),
        f"Date: {due:%Y-%m-%d %H:%M:%S}",
    )
    edit(content / "articles" / "2023" / "hen-gio.md", text)
    first = build(tmp_path, "incremental", content, theme)
    assert "Bài hẹn giờ" not in first.text("index.html")
    wait = due.timestamp() - datetime.now().timestamp() + 0.5
    if wait > 0:
        import time

        time.sleep(wait)
    site = assert_same_as_cold(tmp_path, "due", content, theme)
    assert "Bài hẹn giờ" in site.text("index.html")


def test_objects_made_in_the_workers_give_the_output_of_objects_made_here(
    tmp_path, project, monkeypatch
):
    """A cold build of 24+ files reads them on every core, and the workers also make the
    article objects; the site is the same as when every object is made in this process
    (a content_object_init receiver turns the snapshot and the workers' objects off)."""
    from pelican import signals

    content, theme = project
    made = count_articles_made(monkeypatch)
    shared = build(tmp_path, "shared", content, theme)
    assert made == []  # every article came from a worker
    monkeypatch.undo()

    def receiver(instance):
        pass

    signals.content_object_init.connect(receiver)
    try:
        made = count_articles_made(monkeypatch)
        here = build(tmp_path, "here", content, theme)
    finally:
        signals.content_object_init.disconnect(receiver)
    assert len(made) == 24
    assert file_digests(shared.output) == file_digests(here.output)


def test_switching_between_two_settings_keeps_both_caches(tmp_path, project, monkeypatch):
    """`make html` and `make publish` (another SITEURL: another settings digest) share the
    cache folder: going back to the first settings must not read every file again."""
    content, theme = project
    build(tmp_path, "incremental", content, theme)
    build(tmp_path, "incremental", content, theme, SITEURL="https://gialoc.example")
    made = count_articles_made(monkeypatch)
    site = build(tmp_path, "incremental", content, theme)
    assert made == []  # every article put back from the first settings' snapshot
    monkeypatch.undo()
    cold = build(tmp_path, "cold-switch", content, theme)
    assert file_digests(site.output) == file_digests(cold.output)
    caches = tmp_path / "incremental-cache" / "incremental"
    assert len(list(caches.glob("objects-*.marshal"))) == 2
    build(tmp_path, "incremental", content, theme, SITEURL="https://khac.example")
    assert len(list(caches.glob("objects-*.marshal"))) == 2  # the oldest one went


def test_a_restored_article_links_to_the_new_url_of_an_article_it_names(tmp_path, project):
    """An unchanged article (put back from the snapshot) that links to another with
    {filename}: when the other's title, so its URL, changes, the link follows."""
    content, theme = project
    articles = content / "articles" / "2023"
    edit(articles / "bai-1.md", article(1, body="Xem thêm [bài kia]({filename}bai-2.md)."))
    build(tmp_path, "incremental", content, theme)
    edit(articles / "bai-2.md", article(2, title="Tiêu đề mới của bài hai"))
    site = assert_same_as_cold(tmp_path, "renamed target", content, theme)
    page = next(p for p in site.files(".html") if "bai-so-1" in p.name)
    assert "tieu-de-moi-cua-bai-hai.html" in page.read_text(encoding="utf-8")


def test_with_a_reading_signal_heard_the_workers_parse_and_this_process_does_not(
    tmp_path, project, monkeypatch
):
    """An article_generator_context receiver turns the objects of the snapshot and of the
    workers off (it must be sent for every file), but the workers' parsing still serves."""
    from pelican import signals

    from plugins.content_check.content_check import CheckedMarkdownReader

    content, theme = project
    parsed = []
    original = CheckedMarkdownReader.read_raw
    monkeypatch.setattr(CheckedMarkdownReader, "read_raw",
                        lambda self, path: parsed.append(path) or original(self, path))  # fmt: skip
    seen = []

    def receiver(sender, metadata=None):
        seen.append(metadata.get("title"))

    signals.article_generator_context.connect(receiver)
    try:
        build(tmp_path, "heard", content, theme)
    finally:
        signals.article_generator_context.disconnect(receiver)
    assert len(seen) == 24
    assert parsed == []  # all 24 parsed by the workers (forked: not seen here), none again


def test_a_file_saved_while_the_build_reads_it_is_cached_under_the_bytes_parsed(
    tmp_path, project, monkeypatch
):
    """The cache's key for a file is computed from its bytes before the reader parses it; a
    save in between (an editor's autosave during `make html`) must not store the new bytes'
    HTML under the old bytes' key: putting the old text back would then serve the other."""
    from plugins.content_check.content_check import CheckedMarkdownReader

    content, theme = project
    source = content / "articles" / "2023" / "bai-5.md"
    build(tmp_path, "incremental", content, theme)
    second = article(5, body="Bản thứ hai của bài.")
    third = article(5, body="Bản thứ ba, lưu trong lúc đang dựng trang.")
    edit(source, second)
    original = CheckedMarkdownReader.read_raw
    saved = []

    def save_then_read(self, path):
        if path == str(source) and not saved:
            edit(source, third)  # saved after the build took the key, before the parse
            saved.append(path)
        return original(self, path)

    monkeypatch.setattr(CheckedMarkdownReader, "read_raw", save_then_read)
    build(tmp_path, "incremental", content, theme)
    monkeypatch.undo()
    assert saved == [str(source)]
    edit(source, second)  # the second text again (a new mtime)
    site = assert_same_as_cold(tmp_path, "the second text back", content, theme)
    page = next(site.output.rglob("*bai-so-5-*.html"))
    assert "Bản thứ hai của bài." in page.read_text(encoding="utf-8")


def test_an_edit_that_keeps_the_size_and_sets_the_mtime_back_is_built(tmp_path, project):
    """`cp -p`, `rsync -a` or an unzipped archive bring a file of the same size with its old
    mtime: the ctime still tells (a build must not say "nothing changed")."""
    content, theme = project
    source = content / "articles" / "2023" / "bai-7.md"
    build(tmp_path, "incremental", content, theme)
    before = source.stat()
    text = source.read_text(encoding="utf-8")
    edited = text.replace("Bài số 7", "Bài SỐ 7")
    assert edited != text and len(edited.encode()) == len(text.encode())
    edit(source, edited)
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    site = assert_same_as_cold(tmp_path, "same size, same mtime", content, theme)
    assert "Bài SỐ 7" in next(site.output.rglob("*bai-so-7-*.html")).read_text(encoding="utf-8")


def test_edits_in_linked_folders_are_built(tmp_path, project):
    """Pelican reads content through links to folders (``get_files`` follows them), and a
    theme may link a folder of templates or static files: an edit there is an edit (a build
    must not say "nothing changed", nor keep pages made with the old template), and linked
    static files are copied as Pelican copies them."""
    content, theme = project
    elsewhere = tmp_path / "shared"
    shutil.move(content / "articles" / "2023", elsewhere / "bai")
    (content / "articles" / "2023").symlink_to(elsewhere / "bai", target_is_directory=True)
    shutil.move(theme / "templates" / "partials", elsewhere / "partials")
    (theme / "templates" / "partials").symlink_to(elsewhere / "partials")
    shutil.move(theme / "static" / "js", elsewhere / "js")
    (theme / "static" / "js").symlink_to(elsewhere / "js")
    site = build(tmp_path, "incremental", content, theme)
    assert len(list(site.output.rglob("*bai-so-7-*.html"))) == 1
    # The theme's static files are copied from a linked folder too (Pelican copies them).
    assert (site.output / "theme" / "js" / "vn-fold.js").read_bytes() == (
        elsewhere / "js" / "vn-fold.js"
    ).read_bytes()

    source = elsewhere / "bai" / "bai-7.md"
    edit(source, source.read_text(encoding="utf-8").replace("Bài số 7", "Bài mười bảy"))
    site = assert_same_as_cold(tmp_path, "linked content edited", content, theme)
    assert [p.name for p in site.output.rglob("*bai-so-7-*.html")] == []
    page = next(site.output.rglob("*bai-muoi-bay-*.html"))  # the new title's slug
    assert "Bài mười bảy" in page.read_text(encoding="utf-8")

    footer = elsewhere / "partials" / "footer.html"
    edit(footer, footer.read_text(encoding="utf-8").replace("</footer>", "<p>Mới</p></footer>"))
    site = assert_same_as_cold(tmp_path, "linked template edited", content, theme)
    assert "<p>Mới</p>" in (site.output / "index.html").read_text(encoding="utf-8")


def test_edits_in_content_folders_outside_path_are_built(tmp_path, project):
    """ARTICLE_PATHS, PAGE_PATHS and STATIC_PATHS are joined to PATH, so "../x" names a
    folder beside it, and Pelican reads it: an edit there is an edit, not "nothing
    changed" (only PATH was stamped)."""
    content, theme = project
    beside = tmp_path / "bai-ngoai"
    shutil.move(content / "articles" / "2023", beside)
    settings = {"ARTICLE_PATHS": ["articles", "../bai-ngoai"]}
    site = build(tmp_path, "incremental", content, theme, **settings)
    assert len(list(site.output.rglob("*bai-so-7-*.html"))) == 1

    source = beside / "bai-7.md"
    edit(source, source.read_text(encoding="utf-8").replace("Bài số 7", "Bài mười bảy"))
    site = assert_same_as_cold(tmp_path, "outside edited", content, theme, **settings)
    assert [p.name for p in site.output.rglob("*bai-so-7-*.html")] == []
    assert len(list(site.output.rglob("*bai-muoi-bay-*.html"))) == 1


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ({}, ["/site/content"]),
        ({"ARTICLE_PATHS": ["articles"], "PAGE_PATHS": ["pages"]}, ["/site/content"]),
        ({"ARTICLE_PATHS": ["articles", "../cu"]}, ["/site/content", "/site/cu"]),
        ({"ARTICLE_PATHS": ["../cu"], "PAGE_PATHS": ["../cu/"]}, ["/site/content", "/site/cu"]),
        ({"STATIC_PATHS": ["/srv/anh", "a/../../content-x"]},
         ["/site/content", "/srv/anh", "/site/content-x"]),
        ({"STATIC_PATHS": ["images/../../content/images", "."]}, ["/site/content"]),
        ({"TEMPLATE_PAGES": {"extra/robots.txt": "robots.txt", "../chung/x.html": "x.html"}},
         ["/site/content", "/site/chung/x.html"]),
    ],
)
def test_source_roots_are_path_and_the_content_paths_outside_it(paths, expected):
    from plugins.incremental.fingerprint import source_roots

    assert source_roots({"PATH": "/site/content", **paths}) == expected


def test_an_edit_of_a_template_page_is_built(tmp_path, project):
    """TEMPLATE_PAGES (robots.txt) are templates in the content folder: an edit there is
    rendered (the page's fingerprint held the theme, not this template), and so is an edit
    of one outside PATH."""
    content, theme = project
    robots = content / "extra" / "robots.txt"
    assert_same_as_cold(tmp_path, "first", content, theme)
    edit(robots, robots.read_text(encoding="utf-8") + "Disallow: /kiem-thu/\n")
    site = assert_same_as_cold(tmp_path, "robots edited", content, theme)
    assert "Disallow: /kiem-thu/" in (site.output / "robots.txt").read_text(encoding="utf-8")

    beside = tmp_path / "chung" / "humans.txt"
    beside.parent.mkdir()
    edit(beside, "Văn phòng Huyện ủy Gia Lộc\n")
    settings = {"TEMPLATE_PAGES": {"extra/robots.txt": "robots.txt",
                                   "../chung/humans.txt": "humans.txt"}}  # fmt: skip
    assert_same_as_cold(tmp_path, "outside added", content, theme, **settings)
    edit(beside, "Văn phòng Huyện ủy Gia Lộc, Hải Dương\n")
    site = assert_same_as_cold(tmp_path, "outside edited", content, theme, **settings)
    assert "Hải Dương" in (site.output / "humans.txt").read_text(encoding="utf-8")


@pytest.fixture
def rendered_by_build(monkeypatch):
    """The names of the pages each build of a test rendered (``BuildState.rendered``)."""
    from plugins.incremental import incremental

    seen = []
    original = incremental.Build.finish

    def spy(self, generators):
        original(self, generators)
        seen.append(set(self.state.rendered))

    monkeypatch.setattr(incremental.Build, "finish", spy)
    return seen


def test_a_template_edit_renders_only_the_pages_made_from_it(
    tmp_path, project, rendered_by_build
):
    """A page's fingerprint holds the templates it is made from (``template_sources``), not
    the whole theme: an edit of article.html renders the article pages again and not the
    lists, an edit of the article card macro the lists and not the articles, an edit of
    base.html, which every page extends, everything. The output is a cold build's each time."""
    content, theme = project
    templates = theme / "templates"
    assert_same_as_cold(tmp_path, "first", content, theme)

    def edit_template(relative, old, new):
        path = templates / relative
        text = path.read_text(encoding="utf-8")
        assert old in text
        edit(path, text.replace(old, new, 1))
        rendered_by_build.clear()
        site = assert_same_as_cold(tmp_path, relative, content, theme)
        rendered = rendered_by_build[0]  # the incremental build's (then the cold one's)
        articles = {n for n in rendered if re.match(r"2023/\d\d/bai-so-", n)}
        return site, rendered, articles

    site, rendered, articles = edit_template(
        "article.html", '<article class="article"', '<article class="article article--sua"')
    assert len(articles) == 24 and "index.html" not in rendered
    assert not any(n.startswith(("chuyen-muc/", "chu-de/")) for n in rendered)
    assert "article--sua" in next(site.output.glob("2023/01/bai-so-*.html")).read_text("utf-8")

    site, rendered, articles = edit_template(
        "macros/article_card.html", '<article class="card', '<article class="card card--sua')
    assert not articles and "index.html" in rendered
    assert "card--sua" in (site.output / "index.html").read_text(encoding="utf-8")

    site, rendered, articles = edit_template("base.html", "</head>", "<!-- sửa --></head>")
    assert len(articles) == 24 and "index.html" in rendered


def test_the_theme_less_its_templates_has_a_digest_of_its_own(tmp_path):
    """What every page's fingerprint holds of the theme: its files but the templates (of
    THEME/templates and THEME_TEMPLATES_OVERRIDES), which count page by page."""
    from plugins.incremental.fingerprint import theme_rest_digest

    theme, overrides = tmp_path / "theme", tmp_path / "ghi-de"
    for folder in (theme / "templates", theme / "static" / "css", overrides):
        folder.mkdir(parents=True)
    files = {theme / "templates" / "base.html": "a", theme / "static" / "css" / "x.css": "b",
             overrides / "article.html": "c"}  # fmt: skip
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    settings = {"THEME": str(theme), "THEME_TEMPLATES_OVERRIDES": [str(overrides)]}
    first = theme_rest_digest(settings)
    (theme / "templates" / "base.html").write_text("a2", encoding="utf-8")
    (overrides / "article.html").write_text("c2", encoding="utf-8")
    assert theme_rest_digest(settings) == first
    (theme / "static" / "css" / "x.css").write_text("b2", encoding="utf-8")
    assert theme_rest_digest(settings) != first
    (theme / "static" / "css" / "x.css").write_text("b", encoding="utf-8")
    assert theme_rest_digest(settings) == first
    (theme / "theme.conf").write_text("x", encoding="utf-8")
    assert theme_rest_digest(settings) != first


def test_the_files_read_anew_are_handed_early_to_whom_asks_and_warn_once(
    tmp_path, project, monkeypatch
):
    """Before the other articles are put back, the few new or edited files are parsed and a
    copy of their objects handed to the ``EARLY_RECEIVERS`` (the related posts guess their
    lists with them). A file with a warning is left to the reading loop: the warning is
    logged once, and nothing is handed. The output is a cold build's."""
    from plugins.incremental import readers

    content, theme = project
    handed = []
    monkeypatch.setattr(readers, "EARLY_RECEIVERS", [
        lambda cls, contents, paths: handed.append((cls.__name__, [c.title for c in contents],
                                                    len(paths)))])  # fmt: skip
    assert_same_as_cold(tmp_path, "first", content, theme)
    assert not [h for h in handed if h[0] == "Article"]  # many new files: read at once
    handed.clear()
    edit(content / "articles" / "2023" / "bai-3.md", article(3, title="Bài số 3 đã sửa"))
    assert_same_as_cold(tmp_path, "edited", content, theme)
    assert handed[0] == ("Article", ["Bài số 3 đã sửa"], 24)
    handed.clear()
    edit(content / "articles" / "2023" / "bai-4.md",
         article(4).replace("Author:", "Tacgia: VPHU\nAuthor:"))  # fmt: skip
    site = assert_same_as_cold(tmp_path, "warned", content, theme)
    assert not [h for h in handed if h[0] == "Article"]
    warned = [m for m in site.log.messages() if "tacgia" in m.lower()]
    assert len(warned) == 1, warned


def test_an_edit_in_a_theme_static_path_outside_the_theme_is_copied(tmp_path, project):
    """THEME_STATIC_PATHS are joined to THEME: "../x" is a folder beside the theme, which
    Pelican copies; an edit there is not "nothing changed"."""
    content, theme = project
    shared = tmp_path / "tai-nguyen-chung"
    shared.mkdir()
    edit(shared / "in-an.css", "body { color: black; }\n")
    settings = {"THEME_STATIC_PATHS": ["static", "../tai-nguyen-chung"]}
    site = build(tmp_path, "incremental", content, theme, **settings)
    copied = site.output / "theme" / "in-an.css"
    assert copied.read_text(encoding="utf-8") == "body { color: black; }\n"
    edit(shared / "in-an.css", "body { color: #111; }\n")
    site = assert_same_as_cold(tmp_path, "shared static edited", content, theme, **settings)
    assert copied.read_text(encoding="utf-8") == "body { color: #111; }\n"


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ({}, ["/site/theme"]),
        ({"THEME_STATIC_PATHS": ["static"]}, ["/site/theme"]),
        ({"THEME_STATIC_PATHS": ["static", "../chung"], "THEME_TEMPLATES_OVERRIDES": ["/o"]},
         ["/site/theme", "/o", "/site/chung"]),
        ({"THEME_STATIC_PATHS": ["../chung/a.css", "../chung/a.css"]},
         ["/site/theme", "/site/chung/a.css"]),
    ],
)
def test_theme_roots_are_the_theme_its_overrides_and_static_paths_outside_it(paths, expected):
    from plugins.incremental.fingerprint import theme_roots

    assert theme_roots({"THEME": "/site/theme", **paths}) == expected


def test_a_future_article_published_with_future_dates_joins_related_lists_when_due(
    tmp_path, project
):
    """WITH_FUTURE_DATES = True publishes an article dated in the future, but the related
    lists leave it out until its date (related_posts' candidates are dated no later than
    now). When the date comes, a build with no file changed must put it in the lists, as a
    cold build would: not "nothing changed", and not the related lists of the last build."""
    content, theme = project
    due = now_in_vietnam().replace(tzinfo=None) + timedelta(seconds=4)
    body = "Trạm bơm tiêu úng Gia Xuyên nâng công suất máy bơm chống ngập mùa mưa bão. " * 3
    edit(content / "articles" / "2023" / "tram-bom.md",
         article(90, title="Trạm bơm Gia Xuyên", body=body, day=40))  # fmt: skip
    text = article(91, title="Bài hẹn giờ", body=body).replace(
        "Date: 2023-10-02 08:00", f"Date: {due:%Y-%m-%d %H:%M:%S}"
    )
    assert f"{due:%Y-%m-%d %H:%M:%S}" in text
    edit(content / "articles" / "2023" / "hen-gio.md", text)
    settings = {"WITH_FUTURE_DATES": True}

    def listing(site):
        return sorted(str(p.relative_to(site.output)) for p in site.output.rglob("*.html")
                      if "bai-hen-gio" in "".join(
                          a["href"] for a in BeautifulSoup(p.read_text("utf-8"), "html.parser")
                          .select(".related a")))  # fmt: skip

    site = build(tmp_path, "incremental", content, theme, **settings)
    assert listing(site) == []  # not yet in any list
    time.sleep(max(0.0, (due - now_in_vietnam().replace(tzinfo=None)).total_seconds()) + 0.5)
    site = assert_same_as_cold(tmp_path, "due", content, theme, **settings)
    assert listing(site) != []


def test_an_edit_of_a_settings_function_is_built(tmp_path, project):
    """A Jinja filter defined in the settings file: editing its body changes the pages that
    use it (the settings digest held only its name)."""
    content, theme = project
    footer = theme / "templates" / "partials" / "footer.html"
    edit(footer, footer.read_text(encoding="utf-8").replace(
        "</footer>", "<p>{{ SITENAME|ten_don_vi }}</p></footer>"))  # fmt: skip
    filters = {"JINJA_FILTERS": {"ten_don_vi": settings_function('value.upper()')}}
    site = assert_same_as_cold(tmp_path, "first", content, theme, **filters)
    shown = f"<p>{site.settings['SITENAME'].upper()}</p>"
    assert shown in (site.output / "index.html").read_text(encoding="utf-8")
    filters = {"JINJA_FILTERS": {"ten_don_vi": settings_function('"Đã sửa: " + value')}}
    site = assert_same_as_cold(tmp_path, "function edited", content, theme, **filters)
    assert "<p>Đã sửa: " in (site.output / "index.html").read_text(encoding="utf-8")


def test_an_edit_in_theme_templates_overrides_is_built(tmp_path, project):
    """THEME_TEMPLATES_OVERRIDES: Pelican finds templates there before the theme's, so they
    count as the theme (an edit there renders the pages again)."""
    content, theme = project
    overrides = tmp_path / "overrides"
    (overrides / "partials").mkdir(parents=True)
    footer = overrides / "partials" / "footer.html"
    original = (theme / "templates" / "partials" / "footer.html").read_text(encoding="utf-8")
    edit(footer, original.replace("</footer>", "<p>Bản riêng</p></footer>"))
    settings = {"THEME_TEMPLATES_OVERRIDES": [str(overrides)]}
    site = build(tmp_path, "incremental", content, theme, **settings)
    assert "<p>Bản riêng</p>" in (site.output / "index.html").read_text(encoding="utf-8")
    edit(footer, original.replace("</footer>", "<p>Bản sửa</p></footer>"))
    site = assert_same_as_cold(tmp_path, "override edited", content, theme, **settings)
    assert "<p>Bản sửa</p>" in (site.output / "index.html").read_text(encoding="utf-8")


def test_tree_files_follow_links_once_and_in_a_stable_order(tmp_path):
    from plugins.incremental.fingerprint import tree_files, tree_stamp

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "z.md").write_text("z")
    (tmp_path / "a" / "y.md").write_text("y")
    (tmp_path / "a" / "x.md").write_text("x")
    (tmp_path / "a" / "b" / "up").symlink_to(tmp_path / "a")  # a cycle
    (tmp_path / "a" / "gone.md").symlink_to(tmp_path / "nowhere.md")  # a broken link
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "w.md").write_text("w")
    (tmp_path / "a" / "c").symlink_to(tmp_path / "other")
    names = [relative for relative, _ in tree_files(str(tmp_path / "a"))]
    assert names == ["gone.md", "x.md", "y.md", "b/z.md", "c/w.md"]
    before = tree_stamp(str(tmp_path / "a"))
    (tmp_path / "other" / "w.md").write_text("ww")
    assert tree_stamp(str(tmp_path / "a")) != before


def reference_stamp(folder, signatures=False):
    """``tree_stamp`` as it was first written: ``tree_files``' order, a line per file."""
    from plugins.incremental.fingerprint import tree_files

    lines = []
    for relative, entry in tree_files(folder):
        try:
            info = entry.stat()
        except OSError:
            continue
        extra = f"\0{info.st_ctime_ns}\0{info.st_ino}" if signatures else ""
        lines.append(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}{extra}\n")
    return hashlib.sha1("".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


def linked_tree(root):
    """Folders with a link cycle, a broken link and a linked folder (as above)."""
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "z.md").write_text("z")
    (root / "a" / "y.md").write_text("y")
    (root / "a" / "x.md").write_text("x")
    (root / "a" / "b" / "up").symlink_to(root / "a")
    (root / "a" / "gone.md").symlink_to(root / "nowhere.md")
    (root / "other").mkdir()
    (root / "other" / "w.md").write_text("w")
    (root / "a" / "c").symlink_to(root / "other")
    return root / "a"


def test_tree_stamp_is_a_digest_of_every_file_in_tree_files_order(tmp_path):
    from plugins.incremental.fingerprint import tree_stamp

    folder = linked_tree(tmp_path)
    for signatures in (False, True):
        assert tree_stamp(str(folder), signatures) == reference_stamp(str(folder), signatures)
    assert tree_stamp(str(tmp_path / "missing")) is None


def test_a_stamp_from_a_snapshot_reads_again_only_the_folders_changed_since(
    tmp_path, monkeypatch
):
    """``tree_stamp(known=folder_snapshot(…))`` is the stamp of the folder as it is now, when
    files were added, replaced (by a rename), removed and folders made or removed since the
    snapshot: each such change touches its folder, which is read again. A folder changed just
    before the snapshot (``SNAPSHOT_MARGIN``) is read again even if its mtime is the same."""
    from plugins.incremental import fingerprint
    from plugins.incremental.fingerprint import folder_snapshot, tree_stamp
    from plugins.incremental.state import write_if_changed

    folder = linked_tree(tmp_path)
    (folder / "d" / "e").mkdir(parents=True)
    (folder / "d" / "e" / "v.md").write_text("v")
    (folder / "gone").mkdir()
    (folder / "gone" / "u.md").write_text("u")
    time.sleep(fingerprint.SNAPSHOT_MARGIN / 1e9 + 0.02)

    read = []
    original = fingerprint._read_folder

    def reading(directory, *rest):
        read.append(directory)
        return original(directory, *rest)

    monkeypatch.setattr(fingerprint, "_read_folder", reading)
    snapshot = folder_snapshot(str(folder))
    assert tree_stamp(str(folder), known=snapshot) == reference_stamp(str(folder))
    read.clear()
    assert tree_stamp(str(folder), known=snapshot) == reference_stamp(str(folder))
    assert read == []  # nothing changed: every folder's lines are the snapshot's

    write_if_changed(str(folder / "b" / "z.md"), b"zz")  # replaced by a rename
    (folder / "d" / "e" / "t.md").write_text("t")  # added
    (folder / "y.md").unlink()  # removed
    (folder / "d" / "moi").mkdir()  # a new folder
    (folder / "d" / "moi" / "s.md").write_text("s")
    shutil.rmtree(folder / "gone")  # a folder removed
    (tmp_path / "other" / "w2.md").write_text("w2")  # in a linked folder
    read.clear()
    assert tree_stamp(str(folder), known=snapshot) == reference_stamp(str(folder))
    changed = {os.path.relpath(path, folder) for path in read}
    assert changed == {".", "b", os.path.join("d", "e"), "d", os.path.join("d", "moi"), "c"}

    # Written in place just after the snapshot, in a folder changed just before it began (its
    # start set so, whatever the machine's load): the folder's mtime is the one the snapshot
    # saw, but too recent to be trusted.
    (folder / "d" / "e" / "r.md").write_text("r")
    _, records = folder_snapshot(str(folder))
    recent = ((folder / "d" / "e").stat().st_mtime_ns + 1_000_000, records)
    with open(folder / "d" / "e" / "r.md", "r+b") as handle:
        handle.write(b"rrr")
    assert tree_stamp(str(folder), known=recent) == reference_stamp(str(folder))


def test_a_stamp_from_a_snapshot_never_passes_for_a_later_state(tmp_path):
    """The one change a snapshot's stamp misses is a file written in place, in a folder
    unchanged for a while (no page of the output is written so after the snapshot starts).
    The stamp then stands for the tree as the snapshot saw it, not as it is: the next build
    compares it with the real tree's stamp and builds, as it should."""
    from plugins.incremental import fingerprint
    from plugins.incremental.fingerprint import folder_snapshot, tree_stamp

    folder = linked_tree(tmp_path)
    time.sleep(fingerprint.SNAPSHOT_MARGIN / 1e9 + 0.02)
    snapshot = folder_snapshot(str(folder))
    with open(folder / "x.md", "r+b") as handle:
        handle.write(b"xx")
    stale = tree_stamp(str(folder), known=snapshot)
    assert stale != tree_stamp(str(folder)) == reference_stamp(str(folder))


def test_the_output_snapshot_makes_the_stamp_a_full_read_makes(tmp_path, project, monkeypatch):
    """With a large output (here any), the build forks a process that reads the output's
    folders while the last writers run, and its stamp is the one a full read gives: the next
    build finds nothing changed, and an edit after it is built."""
    from plugins.incremental import incremental

    monkeypatch.setattr(incremental, "OUTPUT_SNAPSHOT_MINIMUM", 0)
    taken = []
    original = incremental.Build.take_output_snapshot

    def spy(self):
        snapshot = original(self)
        taken.append(snapshot)
        return snapshot

    monkeypatch.setattr(incremental.Build, "take_output_snapshot", spy)
    content, theme = project
    build(tmp_path, "incremental", content, theme)
    edit(content / "articles" / "2023" / "bai-5.md", article(5, body="Nội dung đã sửa."))
    second = build(tmp_path, "incremental", content, theme)
    assert len(taken) == 2 and all(snapshot is not None for snapshot in taken)
    assert taken[-1][1][""][3]  # the files of the output's top folder, as the process saw them
    before = mtimes(second.output)
    build(tmp_path, "incremental", content, theme)
    assert len(taken) == 2  # nothing changed: the build stopped at once (its stamp held)
    assert mtimes(second.output) == before
    edit(content / "articles" / "2023" / "bai-6.md", article(6, body="Nội dung mới."))
    assert_same_as_cold(tmp_path, "after the snapshot", content, theme)
    assert len(taken) == 4  # the edit's build and the cold one


def test_a_failed_output_snapshot_leaves_the_stamp_to_the_build(tmp_path, project, monkeypatch):
    """A snapshot process that fails (here: it exits at once) is not waited for twice and
    changes nothing: the build reads every folder itself, and the next build finds nothing
    changed."""
    from plugins.incremental import incremental

    monkeypatch.setattr(incremental, "OUTPUT_SNAPSHOT_MINIMUM", 0)
    started = []

    def failing(folder, path):
        started.append(path)
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    monkeypatch.setattr(incremental, "start_snapshot", failing)
    rendered = []
    monkeypatch.setattr(incremental.Build, "render_deferred",
                        lambda self, original=incremental.Build.render_deferred:
                        rendered.append(1) or original(self))  # fmt: skip
    content, theme = project
    first = build(tmp_path, "incremental", content, theme)
    assert len(started) == 1 and not os.path.exists(started[0])
    before = mtimes(first.output)
    build(tmp_path, "incremental", content, theme)
    assert len(rendered) == 1  # the second build stopped at once: nothing changed
    assert mtimes(first.output) == before


def test_an_upgraded_package_changes_the_build_key(tmp_path, monkeypatch):
    """Everything cached from a file is keyed by the code too: the plugins, Python, and the
    installed packages with their versions (a new Jinja2 or Markdown may change the output)."""
    from pelican.settings import read_settings

    from plugins.incremental import fingerprint

    settings = read_settings(str(ROOT / "pelicanconf.py"))
    before = fingerprint.build_key(settings)
    assert any(name.lower().startswith("markdown-") for name in fingerprint.installed_packages())
    packages = tmp_path / "site-packages"
    (packages / "Jinja2-9.9.9.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(packages))
    fingerprint.code_key.cache_clear()
    try:
        assert "Jinja2-9.9.9.dist-info" in fingerprint.installed_packages()
        assert fingerprint.build_key(settings) != before
    finally:
        monkeypatch.undo()
        fingerprint.code_key.cache_clear()
    assert fingerprint.build_key(settings) == before


@pytest.fixture
def collector_seen():
    """Whether the cycle collector runs while articles are read and while they are written,
    and a weak reference to an article of each build."""
    import gc
    import weakref

    from pelican import signals

    seen = {"reading": [], "writing": [], "articles": []}

    def read(generator):
        seen["reading"].append(gc.isenabled())
        seen["articles"].append(weakref.ref(generator.articles[0]))

    def written(generator, writer):
        seen["writing"].append(gc.isenabled())

    signals.article_generator_finalized.connect(read)
    signals.article_writer_finalized.connect(written)
    yield seen
    signals.article_generator_finalized.disconnect(read)
    signals.article_writer_finalized.disconnect(written)
    gc.enable()


def test_collection_pauses_while_reading_and_the_next_build_frees_the_last_one(
    tmp_path, project, collector_seen
):
    """The objects read are frozen for the writing and after the build (an exit does not
    walk them); the next build in the process (a devserver's) unfreezes and frees them."""
    import gc

    content, theme = project
    assert gc.isenabled()
    build(tmp_path, "first", content, theme)
    assert collector_seen["reading"] == [False] and collector_seen["writing"] == [True]
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    gc.collect()
    assert collector_seen["articles"][0]() is not None  # frozen: not collected
    build(tmp_path, "second", content, theme)
    assert collector_seen["reading"] == [False, False]
    assert collector_seen["articles"][0]() is None  # the first build's article is freed
    assert collector_seen["articles"][1]() is not None
    assert gc.isenabled()


OWN_COLLECTOR = """
import gc, pathlib, sys
from tests.conftest import build_site, make_content
from tests.test_incremental import CATEGORIES, article
tmp = pathlib.Path(sys.argv[1])
content = make_content(tmp, {f"2023/bai-{n}.md": article(n) for n in range(12)})
mine = [[]]
mine[0].append(mine)
gc.freeze()
frozen = gc.get_freeze_count()  # frozen objects that die leave it: it can only go down
build_site(tmp / "a", content=content, SITE_CATEGORIES=CATEGORIES)
assert not any(o is mine for o in gc.get_objects()), "the process's own object was thawed"
assert gc.get_freeze_count() <= frozen, "the build froze its objects"
assert gc.isenabled()
gc.disable()
build_site(tmp / "b", content=content, SITE_CATEGORIES=CATEGORIES)
assert not gc.isenabled(), "collection turned on"
assert not any(o is mine for o in gc.get_objects()), "the process's own object was thawed"
assert gc.get_freeze_count() <= frozen, "the build froze its objects"
print("kept")
"""


def test_a_process_keeps_its_own_collector_settings(tmp_path):
    """A fresh process that froze objects of its own keeps them frozen through its builds
    (which then freeze nothing), and collection off before a build stays off after it."""
    done = run_tool([sys.executable, "-c", OWN_COLLECTOR, str(tmp_path)], timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("kept")


def _signal_state(_):
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return (
        signal.getsignal(signal.SIGTERM),
        signal.getsignal(signal.SIGINT),
        bool(blocked & {signal.SIGINT, signal.SIGTERM}),
    )


def test_build_workers_leave_sigterm_and_sigint_to_the_parent():
    """make publish turns SIGTERM into KeyboardInterrupt; a worker with that handler, sent
    SIGTERM on its way out (multiprocessing's Pool did so to end its workers; so does a
    service manager stopping the whole group), could raise in its own exit and hang the
    build. Workers take the system's SIGTERM and ignore SIGINT; nothing stays blocked."""
    heard, parent = [], os.getpid()

    def handler(number, frame):
        if os.getpid() != parent:
            os._exit(1)  # a worker that kept this handler: end it (the pool waits for it)
        heard.append(number)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with worker_pool(2) as pool:
            states = set(pool.map(_signal_state, range(8), chunksize=1))
        os.kill(os.getpid(), signal.SIGTERM)  # the parent keeps its handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert states == {(signal.SIG_DFL, signal.SIG_IGN, False)}
    assert heard == [signal.SIGTERM]
    assert not signal.pthread_sigmask(signal.SIG_BLOCK, []) & {signal.SIGINT, signal.SIGTERM}


POOLS_UNDER_PUBLISH = """
import signal
from plugins.incremental.readers import worker_pool
from tools.publish import stop
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
for _ in range(200):
    with worker_pool(2) as pool:
        assert list(pool.map(abs, range(-5, 5))) == [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]
print("ended")
"""


def test_worker_pools_end_under_publish_signal_handlers():
    """The hang seen in CI: with publish's handlers inherited, multiprocessing's Pool (it
    ends its workers with SIGTERM) hung within a few hundred pools here, 3 runs out of 3; a
    worker printed KeyboardInterrupt tracebacks, one from the parent's own code."""
    result = run_tool([sys.executable, "-c", POOLS_UNDER_PUBLISH], timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ended"
    assert "Traceback" not in result.stderr and "KeyboardInterrupt" not in result.stderr


DYING_WORKER = """
import os, signal, sys
from pathlib import Path
from plugins.incremental import readers
from tests.conftest import build_site, make_content
from tests.test_incremental import article

reading = readers._read_in_worker


def dies_on_the_seventh(path):
    if path.endswith("bai-7.md"):
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return reading(path)


readers._read_in_worker = dies_on_the_seventh
folder = Path(sys.argv[1])
content = make_content(folder, {f"bai-{n}.md": article(n) for n in range(40)})
build_site(folder / "output", content=content, INCREMENTAL_WORKERS=2)
"""


def test_a_build_worker_that_dies_fails_the_build_instead_of_hanging(tmp_path):
    """A reading worker killed mid-build (multiprocessing's Pool waited for it for ever)."""
    result = run_tool([sys.executable, "-c", DYING_WORKER, str(tmp_path)], timeout=120)
    assert result.returncode != 0
    assert "BuildWorkerError" in result.stderr
    assert "INCREMENTAL_WORKERS = 1" in result.stderr


# --- random sequences of everyday edits -----------------------------------------------------


# (file of the theme, one text, the other): a theme edit swaps one for the other.
THEME_EDITS = [
    ("templates/macros/article_card.html", '<p class="card__meta">',
     '<p class="card__meta card__meta--moi">'),  # an imported macro: every listing
    ("templates/macros/time.html", '">({{ date|vn_date }})</time>',
     '">{{ date|vn_date }}</time>'),  # imported with context by several templates
    ("templates/partials/related.html", "Các bài viết khác", "Bài viết liên quan"),
    ("templates/partials/footer.html", "Giờ làm việc:", "Giờ tiếp dân:"),  # every page
    ("templates/partials/pagination.html", "« Trang trước", "« Trang mới hơn"),
    ("templates/period_archives.html", "Lưu trữ: {{ period_label }}",
     "Lưu trữ {{ period_label }}"),
    ("static/css/components/card.css", "margin-bottom: var(--space-2); }\n.card__summary",
     "margin-bottom: var(--space-3); }\n.card__summary"),  # the CSS bundle
]  # fmt: skip

# setting → the values a settings edit chooses from (the first: pelicanconf.py's, or the
# test build's)
SETTING_EDITS = {
    "DEFAULT_PAGINATION": [10, 4, 7],
    "SITENAME": ["Huyện ủy Gia Lộc", "Huyện ủy Gia Lộc (thử)"],
    "OFFICE_PHONE": ["0220 3716 105", "0220 3716 999"],
    "RELATED_POSTS_MAX": [5, 2],
    "SUMMARY_MAX_LENGTH": [40, 12],
    "FEED_MAX_ITEMS": [50, 3],
}


class StaffEdits:
    """The edits office staff make, on the ``project`` content, drawn by a seeded generator,
    and the two the office's webmaster makes: a theme file, a setting (``self.settings``: the
    overrides both builds get). Each returns a short description (for the failure message).
    Links and photos stay valid: deleting or renaming an article mends the links to it, as
    ``make check`` would demand."""

    def __init__(self, content, seed, sources, theme):
        self.rng = random.Random(seed)
        self.theme = theme
        self.settings = {}
        self.setting_deck = []
        self.articles = content / "articles" / "2023"
        self.images = content / "images" / "2023"
        self.page = content / "pages" / "gioi-thieu.md"
        self.robots = content / "extra" / "robots.txt"
        self.sources = sources  # photos of each kind, by suffix
        self.meta = {f"bai-{n}.md": {"n": n, "extra": ""} for n in range(24)}
        self.added = 100
        self.deck = []
        self.linked = set()  # articles other articles link to

    def words(self, count):
        return " ".join(self.rng.choice(WORDS) for _ in range(count))

    def pick(self, count=1):
        chosen = self.rng.sample(sorted(self.meta), count)
        return chosen[0] if count == 1 else chosen

    def pick_linked(self):
        """Half the time an article others link to (its URL changes under their links)."""
        targets = sorted(self.linked & set(self.meta))
        return self.rng.choice(targets) if targets and self.rng.random() < 0.5 else self.pick()

    def write(self, name):
        meta = self.meta[name]
        options = {k: meta[k] for k in ("title", "category", "tags", "body", "day") if k in meta}
        text = article(meta["n"], **options)
        self.articles.joinpath(name).write_text(
            text.replace("Author:", meta["extra"] + "Author:", 1), encoding="utf-8"
        )

    def set_fields(self, name, **fields):
        """Change what ``article()`` is given for ``name`` (title, body…) and save it."""
        self.meta[name].update(fields)
        self.write(name)

    def set_line(self, name, key, value):
        """Set (or with no ``value`` remove) a metadata line such as ``Summary:``."""
        extra = re.sub(rf"{key}: .*\n", "", self.meta[name]["extra"])
        self.set_fields(name, extra=extra + (f"{key}: {value}\n" if value else ""))

    def mend_links(self, old, new=None):
        for name, meta in self.meta.items():
            link = f" Xem [bài kia]({{filename}}{old})."
            if link in meta.get("body", ""):
                mended = f" Xem [bài kia]({{filename}}{new})." if new else ""
                self.set_fields(name, body=meta["body"].replace(link, mended))

    # the edits
    def body(self):
        name = self.pick()
        words = self.words(self.rng.randint(20, 60)).capitalize()
        self.set_fields(name, body=f"{words}. {self.meta[name].get('body', '')}")
        return f"body {name}"

    def title(self):
        name = self.pick_linked()
        self.set_fields(name, title="Tiêu đề " + self.words(3))
        return f"title {name}"

    def category(self):
        name = self.pick()
        self.set_fields(name, category=self.rng.choice(CATEGORIES))
        return f"category {name}"

    def tags(self):
        name = self.pick()
        tags = ["lễ hội", "đảng viên", "nông thôn mới", "y tế", "giáo dục"]
        self.set_fields(name, tags=", ".join(self.rng.sample(tags, self.rng.randint(1, 3))))
        return f"tags {name}"

    def add(self):
        self.added += 1
        name = f"moi-{self.added}.md"
        self.meta[name] = {"n": self.added, "extra": ""}
        self.set_fields(name, title=f"Bài mới {self.added} " + self.words(2),
                        day=self.rng.randint(0, 80))  # fmt: skip
        return f"add {name}"

    def delete(self):
        name = self.pick()
        self.articles.joinpath(name).unlink()
        del self.meta[name]
        self.mend_links(name)
        return f"delete {name}"

    def rename(self):
        name = self.pick_linked()
        new = f"doi-ten-{self.rng.randint(1000, 9999)}.md"
        self.articles.joinpath(name).rename(self.articles / new)
        self.meta[new] = self.meta.pop(name)
        if name in self.linked:
            self.linked.add(new)
        self.mend_links(name, new)
        return f"rename {name} {new}"

    def date(self):
        name = self.pick()
        self.set_fields(name, day=self.rng.randint(0, 80))
        return f"date {name}"

    def same_date(self):
        name, other = self.pick(2)
        self.set_fields(name, day=self.meta[other].get("day", self.meta[other]["n"] * 3))
        return f"same date {name} {other}"

    def link(self):
        name, other = self.pick(2)
        self.linked.add(other)
        body = self.meta[name].get("body", "Nội dung.")
        self.set_fields(name, body=f"{body} Xem [bài kia]({{filename}}{other}).")
        return f"link {name} {other}"

    def related(self):
        name = self.pick()
        slug = self.rng.choice(["", "bai-so-3-ve-truong", "bai-so-10-ve-hoa", "khong-co-bai-nay"])
        self.set_line(name, "Related", slug)
        return f"related {name} {slug}"

    def summary(self):
        name = self.pick()
        self.set_line(name, "Summary", "Tóm tắt " + self.words(4))
        return f"summary {name}"

    def status(self):
        name = self.pick()
        status = self.rng.choice(["draft", "hidden", ""])
        self.set_line(name, "Status", status)
        return f"status {name} {status or 'published'}"

    def modified(self):
        name = self.pick()
        self.set_line(name, "Modified", f"2024-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}")
        return f"modified {name}"

    def photo(self):
        name = self.pick()
        suffix = self.rng.choice(sorted(self.sources))
        photo = f"anh-{self.rng.randint(1, 3)}-{suffix}.{suffix}"
        target = self.images / photo
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.rng.choice(self.sources[suffix]), target)
        figure = f"![Ảnh {self.words(2)}](images/2023/{photo})\n*Chú thích {self.words(2)}*"
        self.set_fields(name, body=f"{figure}\n\n{self.meta[name].get('body', 'Nội dung bài.')}")
        return f"photo {name} {photo}"

    def replace_photo(self):
        photos = sorted(self.images.glob("*")) if self.images.is_dir() else []
        if not photos:
            return self.photo()
        target = self.rng.choice(photos)
        shutil.copyfile(self.rng.choice(self.sources[target.suffix[1:]]), target)
        return f"replace photo {target.name}"

    def page_text(self):
        self.page.write_text(f"Title: Giới thiệu {self.words(1)}\n\n{self.words(12)}.\n",
                             encoding="utf-8")  # fmt: skip
        return "page"

    def robots_txt(self):
        """The one template in the content folder (TEMPLATE_PAGES)."""
        lines = self.robots.read_text(encoding="utf-8").splitlines()
        lines.insert(2, f"Disallow: /{self.rng.randint(1000, 9999)}/")
        self.robots.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return "robots.txt"

    def theme_file(self):
        relative, one, other = self.rng.choice(THEME_EDITS)
        path = self.theme / relative
        text = path.read_text(encoding="utf-8")
        old, new = (one, other) if one in text else (other, one)
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new), encoding="utf-8")
        return f"theme {relative}"

    def setting(self):
        """Two settings changed at once, dealt like the edits: every one in turn."""
        changed = []
        for _ in range(2):
            if not self.setting_deck:
                self.setting_deck = sorted(SETTING_EDITS)
                self.rng.shuffle(self.setting_deck)
            key = self.setting_deck.pop()
            values = SETTING_EDITS[key]
            now = self.settings.get(key, values[0])
            self.settings[key] = self.rng.choice([value for value in values if value != now])
            changed.append(f"{key}={self.settings[key]!r}")
        return "settings " + ", ".join(changed)

    def draw(self, count=2):
        """``count`` edits, dealt from a shuffled deck of every kind (body three times):
        every kind comes once before any comes again."""
        done = []
        for _ in range(count):
            if not self.deck:
                self.deck = [self.body] * 3 + [
                    self.title, self.category, self.tags, self.add, self.delete, self.rename,
                    self.date, self.same_date, self.link, self.related, self.summary,
                    self.status, self.modified, self.photo, self.replace_photo, self.page_text,
                    self.robots_txt, self.theme_file, self.setting,
                ]  # fmt: skip
                self.rng.shuffle(self.deck)
            done.append(self.deck.pop()())
        return done


def test_random_rounds_of_everyday_edits_equal_a_cold_build(tmp_path, project, monkeypatch):
    """Rounds of two edits dealt from everything staff do (body, title, category,
    tags, date, a date shared with another article, add, delete, rename, {filename} links,
    Related, Summary, Status, Modified, photos added and replaced, the about page,
    robots.txt) and the webmaster's theme and setting edits: after every round the
    incremental output equals a cold build of the same tree. Eleven rounds deal every kind
    at least once. The seed is
    fixed: a failure comes back on the next run. The related lists are computed in the
    background and the pages rendered by worker processes with their cards remembered, as
    at archive scale (most other tests do both in the build's process)."""
    import plugins.incremental.incremental as incremental
    from plugins.related_posts import related_posts
    from tests.test_photos import phone_jpeg, phone_png

    started = []
    monkeypatch.setattr(related_posts, "BACKGROUND_MINIMUM", 0)
    # Pages rendered by worker processes, with the cards remembered (fragments.py)
    monkeypatch.setattr(incremental, "PARALLEL_RENDER_MINIMUM", 1)
    def counted(workers):
        started.append(workers)
        return start_worker_pool(workers)

    monkeypatch.setattr(related_posts, "start_worker_pool", counted)

    content, theme = project
    (content / "pages" / "gioi-thieu.md").write_text(
        "Title: Giới thiệu\n\nVăn phòng Huyện ủy.\n", encoding="utf-8"
    )
    sources = tmp_path / "sources"
    photos = {
        "jpg": [phone_jpeg(sources / "a.jpg", size=(1200, 800)),
                phone_jpeg(sources / "b.jpg", size=(900, 1300), orientation=6)],
        "png": [phone_png(sources / "c.png", size=(700, 500)),
                phone_png(sources / "d.png", size=(640, 900))],
    }  # fmt: skip
    staff = StaffEdits(content, seed=8, sources=photos, theme=theme)
    assert_same_as_cold(tmp_path, "first", content, theme)
    done = []
    for number in range(11):
        done.append(staff.draw())
        assert_same_as_cold(tmp_path, f"round-{number}", content, theme, why=done,
                            INCREMENTAL_WORKERS=2, **staff.settings)  # fmt: skip
    assert len(started) >= 12  # at least each cold build's lists (a warm one may reuse them)


def test_contents_read_now_are_the_new_and_edited_files(tmp_path):
    """``contents_read_now``: every article of a cold build (read by the workers: 30 files),
    then only the file edited or added; None when a plugin listens to a reading signal (the
    object snapshot is not used, so which files are new is not known)."""
    from pelican import signals
    from pelican.generators import ArticlesGenerator

    from plugins.incremental.incremental import contents_read_now

    seen = []

    def remember(generators):
        for generator in generators:
            if isinstance(generator, ArticlesGenerator):
                read = contents_read_now(generator)
                seen.append(None if read is None else sorted(
                    os.path.basename(a.source_path) for a in read
                ))  # fmt: skip

    content = make_content(tmp_path, {f"a{n:02}.md": article(n) for n in range(30)})
    out = tmp_path / "out"
    with signals.all_generators_finalized.connected_to(remember):
        build_site(out, content=content, SEARCH_INDEX=False)
        assert seen[-1] == [f"a{n:02}.md" for n in range(30)]
        (content / "articles" / "a07.md").write_text(article(7, body="Sửa."), encoding="utf-8")
        build_site(out, content=content, SEARCH_INDEX=False)
        assert seen[-1] == ["a07.md"]
        (content / "articles" / "b.md").write_text(article(40), encoding="utf-8")
        build_site(out, content=content, SEARCH_INDEX=False)
        assert seen[-1] == ["b.md"]

        def listen(content_object):
            pass

        with signals.content_object_init.connected_to(listen):
            (content / "articles" / "b.md").write_text(article(41), encoding="utf-8")
            build_site(out, content=content, SEARCH_INDEX=False)
        assert seen[-1] is None


@pytest.mark.parametrize("extensions", [None, False, ["md"], ["rst", "txt"], ["html", "md"], []])
def test_files_found_by_one_walk_are_pelicans_for_every_extension_list(tmp_path, extensions):
    """The generators walk the content folder once and pick by extension (``get_files``,
    ``pick_extensions``): for any extension list, the files Pelican's own ``get_files``
    finds, ignored files (IGNORE_FILES), excluded folders and single-file paths included."""
    from pelican.generators import ArticlesGenerator
    from pelican.settings import read_settings

    from plugins.incremental.incremental import FastArticlesGenerator

    content = make_content(tmp_path, {
        "2024/a.md": article(1), "2024/b.rst": "b", "2024/c.txt": "c", "2024/.d.md": "d",
        "2024/e.tar.md": article(2), "2024/f": "f", "luu-tru/g.md": article(3),
        "2024/con/h.html": "<html></html>", "2024/#i.md#": "i",
    })  # fmt: skip
    (content / "rieng.md").write_text(article(4), encoding="utf-8")
    settings = read_settings(str(ROOT / "pelicanconf.py"), override={
        "PATH": str(content), "IGNORE_FILES": [".*", "#*#"],
    })  # fmt: skip
    found = {}
    for generator_class in (ArticlesGenerator, FastArticlesGenerator):
        generator = generator_class(
            context={}, settings=settings, path=str(content), theme=settings["THEME"],
            output_path=str(tmp_path / "o"),
        )
        found[generator_class] = [
            sorted(generator.get_files(paths, exclude=exclude, extensions=extensions))
            for paths, exclude in (
                (["articles"], ["articles/luu-tru"]), (["articles"], []),
                (["articles/2024/a.md", "rieng.md", "khong-co.md"], []), ("", ["articles"]),
            )
        ]  # fmt: skip
    assert found[FastArticlesGenerator] == found[ArticlesGenerator]
    if extensions is False:  # the tree is what the comparison needs
        assert found[ArticlesGenerator][0] == [
            "articles/2024/a.md", "articles/2024/b.rst", "articles/2024/c.txt",
            "articles/2024/con/h.html", "articles/2024/e.tar.md", "articles/2024/f",
        ]  # fmt: skip
        assert found[ArticlesGenerator][2] == ["articles/2024/a.md", "rieng.md"]


def test_an_edit_writes_the_object_snapshot_as_a_delta_until_it_grows(
    tmp_path, project, monkeypatch
):
    """An edit's build leaves the whole object snapshot as it is and writes what changed
    (the entries put, the paths dropped) to a delta file that the next build applies; once
    the delta holds more than DELTA_SHARE of the entries, the whole file is written again and
    the delta goes. A delta made for another whole file is not applied. Every output equals
    a cold build's."""
    import marshal

    from plugins.incremental.readers import ObjectSnapshot

    monkeypatch.setattr(ObjectSnapshot, "DELTA_SHARE", 0.15)  # 3 of the 23 or 24 articles
    content, theme = project
    caches = tmp_path / "incremental-cache" / "incremental"
    posts = content / "articles" / "2023"
    build(tmp_path, "incremental", content, theme)
    (whole,) = caches.glob("objects-*.marshal")
    first = whole.stat()
    assert not list(caches.glob("delta-objects-*"))

    def delta_of():
        (delta,) = caches.glob("delta-objects-*.marshal")
        assert delta.name == "delta-" + whole.name
        _, base, put, dropped = marshal.loads(delta.read_bytes())
        names = sorted(os.path.basename(p) for p in put), [os.path.basename(p) for p in dropped]
        return base, names

    edit(posts / "bai-5.md", article(5, body="Nội dung đã sửa."))
    assert_same_as_cold(tmp_path, "edit", content, theme)
    assert (whole.stat().st_ino, whole.stat().st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert delta_of() == ((first.st_ino, first.st_size, first.st_mtime_ns), (["bai-5.md"], []))

    (posts / "bai-7.md").unlink()
    with monkeypatch.context() as patch:
        made = count_articles_made(patch)
        build(tmp_path, "incremental", content, theme)
    assert made == []  # bai-5.md's object came from the delta
    assert_same_as_cold(tmp_path, "delete", content, theme)
    assert delta_of()[1] == (["bai-5.md"], ["bai-7.md"])

    # A delta made for another whole file (here: the same bytes, another mtime) is not
    # applied: the articles it holds are read again, and no other.
    os.utime(whole, ns=(first.st_atime_ns, first.st_mtime_ns + 1_000_000_000))
    edit(posts / "bai-6.md", article(6, body="Sửa bài sáu."))
    with monkeypatch.context() as patch:
        made = count_articles_made(patch)
        build(tmp_path, "incremental", content, theme)
    assert sorted(made) == ["bai-5.md", "bai-6.md"]
    assert_same_as_cold(tmp_path, "stale delta", content, theme)
    assert delta_of()[1] == (["bai-5.md", "bai-6.md"], ["bai-7.md"])

    edit(posts / "bai-8.md", article(8, body="Sửa bài tám."))
    assert_same_as_cold(tmp_path, "the delta grew", content, theme)
    assert not list(caches.glob("delta-objects-*"))
    assert whole.stat().st_ino != first.st_ino
    with monkeypatch.context() as patch:
        made = count_articles_made(patch)
        edit(posts / "bai-9.md", article(9, body="Sửa bài chín."))
        build(tmp_path, "incremental", content, theme)
    assert made == ["bai-9.md"]  # the whole file holds every other article
    assert delta_of()[1] == (["bai-9.md"], [])


@pytest.fixture
def early_renders(monkeypatch):
    """Render workers for as few as two pages, related lists in a process of their own (as
    at archive scale); the number of pages each early rendering took, in order."""
    from plugins.incremental import incremental
    from plugins.related_posts import related_posts

    monkeypatch.setattr(incremental, "PARALLEL_RENDER_MINIMUM", 2)
    monkeypatch.setattr(related_posts, "BACKGROUND_MINIMUM", 0)
    started = []
    original = incremental.Build.render_listings_early

    def spy(self):
        queued = len(self.deferred)
        original(self)
        if self.early_render is not None:
            started.append(queued)

    monkeypatch.setattr(incremental.Build, "render_listings_early", spy)
    return started


def test_the_listings_a_new_article_shifts_are_rendered_early_in_workers(
    tmp_path, project, early_renders
):
    """A new article shifts every page of the newest-first lists: those listings are
    rendered in worker processes while the build goes on with the article pages, and the
    output is a cold build's. No process is left behind."""
    import multiprocessing

    content, theme = project
    build(tmp_path, "incremental", content, theme, INCREMENTAL_WORKERS=2)
    early_renders.clear()
    edit(content / "articles" / "2023" / "moi.md", article(30, day=400))
    assert_same_as_cold(tmp_path, "new article", content, theme, INCREMENTAL_WORKERS=2)
    assert early_renders and early_renders[0] >= 4  # the incremental build's listings
    assert multiprocessing.active_children() == []


def test_listings_that_show_related_lists_are_not_rendered_early(
    tmp_path, project, early_renders
):
    """A theme whose article cards show related lists: the listings wait for the lists, so
    they are rendered at the end as before, and the output is a cold build's."""
    content, theme = project
    card = theme / "templates" / "macros" / "article_card.html"
    edit(card, card.read_text(encoding="utf-8").replace(
        '<p class="card__meta">',
        '<p class="card__related">{% for other in article.related_posts %}'
        "{{ other.title }};{% endfor %}</p>\n  <p class=\"card__meta\">",
    ))  # fmt: skip
    build(tmp_path, "incremental", content, theme, INCREMENTAL_WORKERS=2)
    edit(content / "articles" / "2023" / "moi.md", article(30, day=400))
    site = assert_same_as_cold(tmp_path, "related on cards", content, theme,
                               INCREMENTAL_WORKERS=2)  # fmt: skip
    assert early_renders == []
    assert "card__related" in (site.output / "index.html").read_text(encoding="utf-8")


def test_a_build_that_fails_after_rendering_early_ends_its_workers(
    tmp_path, project, early_renders, monkeypatch
):
    """An article template error after the listings' early rendering started: the build
    fails with the error, leaves no render worker behind, and the build after the fix equals
    a cold build. (The related lists in the build: a failed build's lists' process is ended
    by the next build, see test_related_posts.)"""
    import multiprocessing

    from plugins.related_posts import related_posts

    monkeypatch.setattr(related_posts, "BACKGROUND_MINIMUM", 10**9)
    content, theme = project
    build(tmp_path, "incremental", content, theme, INCREMENTAL_WORKERS=2)
    edit(content / "articles" / "2023" / "moi.md", article(30, day=400))
    template = theme / "templates" / "article.html"
    good = template.read_text(encoding="utf-8")
    edit(template, good.replace("{{ article.title }}", "{{ article.title | khong_co }}", 1))
    with pytest.raises(Exception, match="khong_co"):
        build(tmp_path, "incremental", content, theme, INCREMENTAL_WORKERS=2)
    assert early_renders
    assert multiprocessing.active_children() == []
    edit(template, good)
    assert_same_as_cold(tmp_path, "after the fix", content, theme, INCREMENTAL_WORKERS=2)


def test_listings_are_rendered_at_the_end_when_no_process_can_be_forked_early(
    tmp_path, project, early_renders, monkeypatch
):
    """No process to be had when the listings are queued (memory, a process limit): they
    are rendered at the end as before, and the output is a cold build's."""
    from plugins.incremental import incremental

    refused = []
    start_worker_pool = incremental.start_worker_pool

    def no_process_at_first(workers):  # then processes again, for the end's rendering
        if not refused:
            refused.append(workers)
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return start_worker_pool(workers)

    content, theme = project
    build(tmp_path, "incremental", content, theme, INCREMENTAL_WORKERS=2)
    assert early_renders  # a cold build queues every listing
    early_renders.clear()
    monkeypatch.setattr(incremental, "start_worker_pool", no_process_at_first)
    edit(content / "articles" / "2023" / "moi.md", article(30, day=400))
    build(tmp_path, "incremental", content, theme, INCREMENTAL_WORKERS=2)
    assert refused == [2] and early_renders == []
    assert_same_as_cold(tmp_path, "no process", content, theme, INCREMENTAL_WORKERS=2)


def test_write_atomically_of_bytes_or_a_writer_leaves_nothing_when_that_fails(tmp_path):
    path = tmp_path / "folder" / "file.bin"
    state_module.write_atomically(str(path), b"first")  # the folder is made
    assert path.read_bytes() == b"first"
    state_module.write_atomically_with(str(path), lambda handle: handle.write(b"second"))
    assert path.read_bytes() == b"second"

    def failing(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        state_module.write_atomically_with(str(path), failing)
    assert path.read_bytes() == b"second"  # left as it was
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.bin"]  # no temporary
