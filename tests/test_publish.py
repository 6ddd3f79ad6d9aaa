"""`make publish` (tools/publish.py): all or nothing, reproducible."""

import hashlib
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from pelican.settings import read_settings

from plugins.incremental.fingerprint import output_key
from tests.conftest import ROOT, make_content, run_tool
from tools.publish import PublishError, exchange, lock, mirror, publish

ARTICLE = """Title: {title}
Date: {date}
Category: Xây dựng Đảng
Author: VPHU Gia Lộc

{body}
"""
BODY = "Ban Thường vụ Huyện ủy tổ chức hội nghị giao ban công tác xây dựng Đảng quý I."


def articles(count=6):
    first = datetime(2024, 3, 1, 8, 0)
    return {
        f"2024/bai-{n}.md": ARTICLE.format(
            title=f"Hội nghị giao ban số {n}",
            date=f"{first + timedelta(days=n):%Y-%m-%d %H:%M}",
            body=BODY,
        )
        for n in range(count)
    }


def run_publish(content, output, cache, *extra, wait=True):
    command = [
        sys.executable, "-m", "tools.publish", "-s", "publishconf.py",
        "--content", str(content), "-o", str(output), "--cache", str(cache), *extra,
    ]  # fmt: skip
    return run_tool(command, wait=wait)


def snapshot(folder):
    """Every file with its bytes' hash and its mtime: 'exactly as it was'."""
    state = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[path.relative_to(folder).as_posix()] = (digest, stat.st_mtime_ns)
    return state


def contents(folder):
    return {name: digest for name, (digest, _) in snapshot(folder).items()}


@pytest.fixture
def published(tmp_path):
    content = make_content(tmp_path, articles())
    output, cache = tmp_path / "output", tmp_path / "cache"
    result = run_publish(content, output, cache)
    assert result.returncode == 0, result.stderr
    assert (output / "2024/03/hoi-nghi-giao-ban-so-0.html").is_file()
    return content, output, cache


def test_publish_succeeds_and_leaves_no_staging_folder(published, tmp_path):
    _, output, _ = published
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".output")) == []
    assert (output / "sitemap.xml").is_file() and (output / "pagefind").is_dir()


def test_content_error_fails_and_keeps_the_live_site(published):
    content, output, cache = published
    before = snapshot(output)
    (content / "articles" / "2024" / "hong.md").write_text(
        ARTICLE.format(title="Bài lỗi", date="2024-02-31 08:00", body=BODY), encoding="utf-8"
    )
    (content / "articles" / "2024" / "bai-0.md").write_text(
        ARTICLE.format(title="Đã sửa", date="2024-03-01 08:00", body="Nội dung mới."),
        encoding="utf-8",
    )
    result = run_publish(content, output, cache)
    assert result.returncode == 1
    assert "articles/2024/hong.md:2: lỗi: ngày \"2024-02-31 08:00\" không có thật" in result.stderr
    assert "vẫn giữ nguyên" in result.stderr
    assert snapshot(output) == before


def test_build_crash_fails_and_keeps_the_live_site(published, tmp_path):
    content, output, cache = published
    before = snapshot(output)
    theme = tmp_path / "theme"
    subprocess.run(["cp", "-r", str(ROOT / "theme"), str(theme)], check=True)
    (theme / "templates" / "article.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ article.title|no_such_filter }}'
        "{% endblock %}",
        encoding="utf-8",
    )
    settings_file = tmp_path / "brokenconf.py"
    settings_file.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom publishconf import *\n"
        f"THEME = {str(theme)!r}\n",
        encoding="utf-8",
    )
    result = run_publish(content, output, cache, "-s", str(settings_file))
    assert result.returncode == 1
    assert "no_such_filter" in result.stderr
    assert snapshot(output) == before


def test_unexpected_warning_fails_publish(published, tmp_path, monkeypatch):
    content, output, cache = published
    before = snapshot(output)
    plugin = tmp_path / "plugins_extra" / "noisy.py"
    plugin.parent.mkdir()
    plugin.write_text(
        "import logging\nfrom pelican import signals\n"
        "def warn(generator):\n"
        "    logging.getLogger('noisy').warning('noisy: điều bất thường %s', id(generator))\n"
        "def register():\n    signals.article_generator_finalized.connect(warn)\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(plugin.parent))
    settings = read_settings(
        str(ROOT / "publishconf.py"),
        override={"PATH": str(content), "CACHE_PATH": str(cache)},
    )
    settings["PLUGINS"] = list(settings["PLUGINS"]) + ["noisy"]
    monkeypatch.chdir(ROOT)
    try:
        with pytest.raises(PublishError, match="unexpected warnings"):
            publish(settings, str(output))
    finally:  # signal receivers are process-wide: unplug the noisy plugin
        import noisy
        from pelican import signals

        signals.article_generator_finalized.disconnect(noisy.warn)
    assert snapshot(output) == before


def test_content_warnings_are_expected_and_do_not_fail(published):
    content, output, cache = published
    (content / "articles" / "2024" / "trung.md").write_text(
        ARTICLE.format(title="Hội nghị giao ban số 1", date="2024-04-02 08:00", body=BODY),
        encoding="utf-8",
    )
    result = run_publish(content, output, cache)
    assert result.returncode == 0, result.stderr
    assert "cảnh báo: tiêu đề trùng với" in result.stderr
    assert (output / "2024/04/hoi-nghi-giao-ban-so-1.html").is_file()


def _wait_for_build(output, cache, process, timeout=120):
    """Wait until the build has started in the standby folder: the build's manifest is
    copied there just before it starts (and exists until the swap)."""
    started = cache / "incremental" / f"publish-{output_key(output)}.marshal.staging"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if started.exists():
            return
        if process.poll() is not None:
            pytest.fail(f"publish ended before it could be interrupted: {process.returncode}")
        time.sleep(0.01)
    pytest.fail("the build never started")


def _standby_mark(output, cache):
    return cache / "incremental" / f"publish-{output_key(output)}.standby"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_interrupted_publish_leaves_output_exactly_as_it_was(published, tmp_path, how):
    content, output, cache = published
    before = snapshot(output)
    for path, text in articles(60).items():  # more work, so there is time to interrupt
        target = content / "articles" / path
        target.write_text(text.replace(BODY, "Nội dung đã sửa. " + BODY), encoding="utf-8")
    process = run_publish(content, output, cache, wait=False)
    _wait_for_build(output, cache, process)
    process.send_signal(how)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode != 0, (stdout + stderr).decode("utf-8", "replace")[-2000:]
    assert snapshot(output) == before
    # The half-built standby folder is not trusted: the next publish compares it with
    # output/ byte by byte (see test_an_untrusted_standby_folder_is_compared_byte_by_byte).
    assert not _standby_mark(output, cache).exists()
    result = run_publish(content, output, cache)
    assert result.returncode == 0, result.stderr
    assert _standby_mark(output, cache).exists()
    assert "Nội dung đã sửa" in (output / "2024/03/hoi-nghi-giao-ban-so-0.html").read_text()
    cold = tmp_path / "cold"
    assert run_publish(content, cold, tmp_path / "cold-cache").returncode == 0
    assert contents(output) == contents(cold)


def test_two_publish_builds_are_byte_identical(tmp_path):
    content = make_content(tmp_path, articles())
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_publish(content, first, tmp_path / "cache-1").returncode == 0
    time.sleep(1.1)  # a build-time timestamp anywhere would now differ
    assert run_publish(content, second, tmp_path / "cache-1").returncode == 0  # warm cache
    assert run_publish(content, tmp_path / "third", tmp_path / "cache-2").returncode == 0
    assert contents(first) == contents(second) == contents(tmp_path / "third")


def test_the_sample_site_publishes_reproducibly(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for output in (first, second):
        result = run_publish(ROOT / "content", output, tmp_path / f"cache-{output.name}")
        assert result.returncode == 0, result.stderr
    assert contents(first) == contents(second)


def test_publishing_after_each_edit_equals_a_cold_publish(published, tmp_path):
    """Each publish builds in the standby folder, which holds the site as it was two
    publishes ago (the build before the last): after every edit the live site equals a cold
    publish of the same tree into an empty folder with an empty cache."""
    content, output, cache = published
    folder = content / "articles" / "2024"
    edits = [
        lambda: (folder / "bai-1.md").write_text(ARTICLE.format(
            title="Hội nghị giao ban số 1", date="2024-03-02 08:00", body="Nội dung mới."),
            encoding="utf-8"),
        lambda: (folder / "bai-moi.md").write_text(ARTICLE.format(
            title="Bài mới đăng", date="2024-04-01 09:00", body=BODY), encoding="utf-8"),
        lambda: (folder / "bai-2.md").unlink(),
        lambda: (folder / "bai-3.md").write_text(ARTICLE.format(
            title="Hội nghị giao ban số 3", date="2024-03-04 08:00", body=BODY)
            .replace("Author:", "Status: draft\nAuthor:"), encoding="utf-8"),
        lambda: (content / "extra" / "robots.txt").write_text(
            (content / "extra" / "robots.txt").read_text(encoding="utf-8")
            + "Disallow: /tam/\n", encoding="utf-8"),
        lambda: None,  # nothing changed: the standby folder is two builds behind
    ]  # fmt: skip
    for number, change in enumerate(edits):
        change()
        result = run_publish(content, output, cache)
        assert result.returncode == 0, result.stderr
        cold = tmp_path / f"cold-{number}"
        assert run_publish(content, cold, tmp_path / f"cold-cache-{number}").returncode == 0
        assert contents(output) == contents(cold), number
    assert "Disallow: /tam/" in (output / "robots.txt").read_text(encoding="utf-8")
    assert not (output / "2024/03/hoi-nghi-giao-ban-so-2.html").exists()


def test_exchange_swaps_two_folders(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    (old / "a").write_text("old"), (new / "a").write_text("new")
    exchange(str(new), str(old))
    assert (old / "a").read_text() == "new" and (new / "a").read_text() == "old"


def test_publish_logs_nothing_unexpected_for_the_sample_site(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(ROOT)
    settings = read_settings(str(ROOT / "publishconf.py"),
                             override={"CACHE_PATH": str(tmp_path / "cache")})  # fmt: skip
    with caplog.at_level(logging.WARNING):
        publish(settings, str(tmp_path / "output"))
    assert (tmp_path / "output" / "index.html").is_file()
    assert not os.path.exists(tmp_path / ".output.new")


def test_the_previous_site_stays_as_the_standby_folder(published, tmp_path):
    content, output, cache = published
    before = contents(output)
    (content / "articles" / "2024" / "bai-0.md").write_text(
        ARTICLE.format(title="Hội nghị giao ban số 0", date="2024-03-02 08:00",
                       body="Nội dung đã sửa."),
        encoding="utf-8",
    )  # fmt: skip
    result = run_publish(content, output, cache)
    assert result.returncode == 0, result.stderr
    assert "Nội dung đã sửa" in (output / "2024/03/hoi-nghi-giao-ban-so-0.html").read_text()
    assert contents(tmp_path / ".output.standby") == before
    assert _standby_mark(output, cache).exists()


def test_an_untrusted_standby_folder_is_compared_byte_by_byte(published, tmp_path):
    content, output, cache = published
    assert run_publish(content, output, cache).returncode == 0  # makes the standby folder
    standby = tmp_path / ".output.standby"
    page = "2024/03/hoi-nghi-giao-ban-so-1.html"
    # Same size and mtime as the live page, other bytes: only a byte comparison sees it.
    live = (output / page).stat()
    (standby / page).write_bytes(b"x" * live.st_size)
    os.utime(standby / page, ns=(live.st_atime_ns, live.st_mtime_ns))
    _standby_mark(output, cache).unlink()  # as after an interrupted publish
    expected = contents(output)
    result = run_publish(content, output, cache)
    assert result.returncode == 0, result.stderr
    assert contents(output) == expected


def test_a_second_publish_at_the_same_time_stops_with_a_message(published):
    content, output, cache = published
    before = snapshot(output)
    held = lock(str(_standby_mark(output, cache).with_suffix(".lock")))
    try:
        result = run_publish(content, output, cache)
    finally:
        held.close()
    assert result.returncode == 1
    assert "đang có một lần đăng khác chạy" in result.stderr
    assert snapshot(output) == before
    assert run_publish(content, output, cache).returncode == 0  # the lock is gone with it


def _tree(folder):
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = ("link", os.readlink(path))
        elif path.is_dir():
            found[name] = ("dir",)
        else:
            found[name] = ("file", path.read_bytes(), path.stat().st_mtime_ns)
    return found


def test_mirror_copies_only_what_differs(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    (source / "a" / "b").mkdir(parents=True)
    (source / "index.html").write_text("trang chủ")
    (source / "a" / "b" / "bai.html").write_text("bài")
    (source / "a" / "gone-dir").mkdir()
    (source / "link").symlink_to("index.html")
    assert mirror(source, target) == 2
    assert _tree(target) == _tree(source)
    assert mirror(source, target) == 0  # nothing differs: nothing copied
    (source / "index.html").write_text("trang chủ mới")
    os.utime(source / "index.html", ns=(0, 1_000_000_000))
    (source / "a" / "gone-dir").rmdir()
    (source / "a" / "gone-dir").write_text("now a file")
    (source / "link").unlink()
    (source / "link").symlink_to("a")
    (target / "extra" / "deep").mkdir(parents=True)
    (target / "stray.html").write_text("x")
    # A symlink in the target where the source has a folder is replaced, not followed.
    (source / "thu-muc").mkdir()
    (source / "thu-muc" / "trang.html").write_text("trang")
    outside = tmp_path / "outside"
    outside.mkdir()
    (target / "thu-muc").symlink_to(outside)
    assert mirror(source, target) == 3
    assert _tree(target) == _tree(source)
    assert list(outside.iterdir()) == []
    # Same size and mtime, other bytes: trusted unless careful.
    (target / "index.html").write_bytes(b"x" * (source / "index.html").stat().st_size)
    os.utime(target / "index.html", ns=(0, 1_000_000_000))
    assert mirror(source, target) == 0
    assert mirror(source, target, careful=True) == 1
    assert _tree(target) == _tree(source)
    # A changed file is written into in place; one that shares its bytes with another name
    # (a backup made with `cp -al`) is replaced, and the other name keeps the old bytes.
    page, inode = target / "a" / "b" / "bai.html", (target / "a" / "b" / "bai.html").stat().st_ino
    backup = tmp_path / "backup.html"
    os.link(target / "index.html", backup)
    kept = backup.read_bytes()
    (source / "a" / "b" / "bai.html").write_text("bài đã sửa")
    (source / "index.html").write_text("trang chủ, lần ba")
    assert mirror(source, target) == 2
    assert _tree(target) == _tree(source)
    assert page.stat().st_ino == inode
    assert backup.read_bytes() == kept and backup.stat().st_nlink == 1


def test_git_ignores_the_standby_folder():
    """Staff commit with `git add .`: the standby folder (a whole copy of the site) must
    never be committed."""
    result = subprocess.run(["git", "check-ignore", "-q", ".output.standby/index.html"],
                            cwd=ROOT, capture_output=True)  # fmt: skip
    assert result.returncode == 0


def test_a_signal_whose_exception_was_lost_still_stops_before_the_swap(published, monkeypatch):
    """Python only prints an exception raised by a signal handler while a finaliser runs:
    the signal is recorded too, and the publish stops before the swap."""
    import tools.publish

    content, output, cache = published
    before = snapshot(output)
    (content / "articles" / "2024" / "bai-0.md").write_text(
        ARTICLE.format(title="Đã sửa", date="2024-03-01 08:00", body="Nội dung mới."),
        encoding="utf-8",
    )
    monkeypatch.setattr(tools.publish, "_stopped", [signal.SIGTERM])
    monkeypatch.chdir(ROOT)
    settings = read_settings(str(ROOT / "publishconf.py"),
                             override={"PATH": str(content), "CACHE_PATH": str(cache)})  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        publish(settings, str(output))
    assert snapshot(output) == before
