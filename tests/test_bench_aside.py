"""bench/aside.py: old folders renamed out of a measurement's way, removed after it."""

import os
import time

import pytest

from bench.aside import (
    DIRTY_SECONDS,
    SETTLE_SECONDS,
    empty_trash,
    measuring,
    set_aside,
    settle,
)


def test_set_aside_moves_the_folder_whole_without_removing_anything(tmp_path):
    work = tmp_path / "run-10000"
    (work / "output" / "tin-tuc").mkdir(parents=True)
    (work / "output" / "tin-tuc" / "index.html").write_text("trang", encoding="utf-8")
    inode = os.stat(work / "output" / "tin-tuc" / "index.html").st_ino
    moved = set_aside(work, tmp_path / "trash")
    assert not work.exists()
    assert moved.parent == tmp_path / "trash"
    page = moved / "output" / "tin-tuc" / "index.html"
    # Renamed, not copied then removed: the same inode, nothing freed.
    assert page.read_text(encoding="utf-8") == "trang" and os.stat(page).st_ino == inode


def test_set_aside_twice_under_one_name_keeps_both(tmp_path):
    trash = tmp_path / "trash"
    moved = []
    for text in ("lần một", "lần hai", "lần ba"):
        (tmp_path / "output").mkdir()
        (tmp_path / "output" / "a.html").write_text(text, encoding="utf-8")
        moved.append(set_aside(tmp_path / "output", trash))
    assert len(set(moved)) == 3
    assert [(path / "a.html").read_text(encoding="utf-8") for path in moved] == [
        "lần một", "lần hai", "lần ba"]  # fmt: skip


def test_set_aside_of_nothing_does_nothing(tmp_path):
    assert set_aside(tmp_path / "missing", tmp_path / "trash") is None
    assert not (tmp_path / "trash").exists()


def test_set_aside_takes_a_file_and_a_dangling_link(tmp_path):
    (tmp_path / "cache.marshal").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert set_aside(tmp_path / "cache.marshal", tmp_path / "trash").read_bytes() == b"x"
    assert set_aside(tmp_path / "link", tmp_path / "trash").is_symlink()
    assert not os.path.lexists(tmp_path / "link")


def test_empty_trash_removes_what_was_set_aside_and_notes_when(tmp_path):
    (tmp_path / "output" / "sub").mkdir(parents=True)
    (tmp_path / "output" / "sub" / "p.html").write_text("x", encoding="utf-8")
    set_aside(tmp_path / "output", tmp_path / "trash")
    stamp = tmp_path / "bench" / "last-removal"
    before = time.time()
    empty_trash(tmp_path / "trash", stamp)
    assert not (tmp_path / "trash").exists()
    assert before <= float(stamp.read_text()) <= time.time()
    stamp.unlink()
    empty_trash(tmp_path / "trash", stamp)  # nothing to remove: no error, no note
    assert not stamp.exists()


@pytest.mark.parametrize(("removed_ago", "waited", "synced"), [
    (None, 0.0, False),  # no benchmark removed anything
    (5.0, SETTLE_SECONDS - 5.0, True),
    (SETTLE_SECONDS - 1.0, 1.0, True),
    (SETTLE_SECONDS + 1.0, 0.0, True),  # written back, or ext4 would skip them for 5 min more
    (DIRTY_SECONDS + 1.0, 0.0, False),
    (3600.0, 0.0, False),
])  # fmt: skip
def test_settle_waits_out_the_last_removal(tmp_path, removed_ago, waited, synced):
    stamp = tmp_path / "last-removal"
    now = 1_800_000_000.0
    if removed_ago is not None:
        stamp.write_text(f"{now - removed_ago}\n")
    sleeps, syncs = [], []
    assert settle(stamp, sleep=sleeps.append, now=lambda: now,
                  sync=lambda: syncs.append(1)) == pytest.approx(waited)  # fmt: skip
    assert sleeps == ([pytest.approx(waited)] if waited else [])
    assert bool(syncs) is synced


def test_measuring_empties_the_trash_after_the_measurements_even_when_they_fail(tmp_path):
    stamp, trash = tmp_path / "last-removal", tmp_path / "trash"
    (tmp_path / "output").mkdir()
    with measuring(trash, stamp) as waited:
        assert waited == 0.0  # nothing removed before: no wait
        set_aside(tmp_path / "output", trash)
        assert trash.is_dir()  # kept while measuring
    assert not trash.exists() and stamp.exists()
    stamp.write_text("0\n")  # long ago: the next one does not wait
    (tmp_path / "output").mkdir()
    with pytest.raises(RuntimeError), measuring(trash, stamp):
        set_aside(tmp_path / "output", trash)
        raise RuntimeError("a build failed")
    assert not trash.exists()
