"""`make publish`: the production build, all or nothing.

1. The content check (`make check`): any error stops here, before anything is built.
2. The site is built with publishconf.py into the standby folder next to output/
   (``.output.standby``), never into output/ itself. The standby folder is first made an
   exact copy of output/ (``mirror``), so the incremental build writes only what changed.
3. The build must finish without an error and without an unexpected warning (content
   warnings from the check, such as a duplicate title, are expected and shown).
4. Only then the standby folder takes the place of output/ in one atomic step (Linux
   ``renameat2(RENAME_EXCHANGE)``); the site that was live becomes the standby folder.

The standby folder is kept between publishes (it is the previous site, a one-step backup):
bringing it up to date copies the files the last publish changed, where a fresh copy of
output/ and deleting the old one cost seconds per thousand files (see docs/BENCHMARKS.md).
Whether it was left exactly as the swap left it is recorded in the cache
(``publish-<hash>.standby``); if not (an interrupted publish, or no record), it is compared
with output/ byte by byte instead of by size and mtime.

A failed, interrupted (Ctrl-C) or killed (SIGKILL) publish leaves output/ exactly as it
was. Two publishes into the same output/ at once: the second stops with a message.
"""

import argparse
import ctypes
import ctypes.util
import errno
import fcntl
import filecmp
import logging
import os
import shutil
import signal
import stat
import sys

from pelican.settings import read_settings

from plugins.content_check.content_check import check_tree
from plugins.content_check.rules import ERROR
from plugins.incremental.fingerprint import output_key
from plugins.incremental.state import overwrite_if_changed

EXPECTED_WARNING_LOGGERS = ("plugins.content_check",)
RENAME_EXCHANGE = 2
AT_FDCWD = -100


class PublishError(Exception):
    pass


class LogRecorder(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def pelican_class(settings):
    """The Pelican class named by the PELICAN_CLASS setting (dotted path or class)."""
    cls = settings.get("PELICAN_CLASS", "pelican.Pelican")
    if isinstance(cls, str):
        import importlib

        module, name = cls.rsplit(".", 1)
        cls = getattr(importlib.import_module(module), name)
    return cls


def build(settings):
    """Run one Pelican build; returns the log records of level WARNING and above."""
    recorder = LogRecorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    try:
        pelican_class(settings)(settings).run()
    finally:
        root.removeHandler(recorder)
    return recorder.records


def unexpected(records):
    return [
        record
        for record in records
        if record.levelno >= logging.ERROR
        or not record.name.startswith(EXPECTED_WARNING_LOGGERS)
    ]


def exchange(new, old):
    """Atomically swap two paths (both must exist); fall back to two renames."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        result = renameat2(AT_FDCWD, os.fsencode(new), AT_FDCWD, os.fsencode(old),
                           RENAME_EXCHANGE)  # fmt: skip
        if result == 0:
            return
    # Filesystems without RENAME_EXCHANGE: a very short window without output/.
    parked = old + ".old"
    os.rename(old, parked)
    os.rename(new, old)
    os.rename(parked, new)


def standby_path(output):
    parent, name = os.path.split(os.path.abspath(output))
    return os.path.join(parent, f".{name}.standby")


def remove_leftovers(output):
    """Folders older versions of this tool left behind (a per-run staging copy) and the
    fallback swap's parking place."""
    parent, name = os.path.split(os.path.abspath(output))
    for entry in os.listdir(parent or "."):
        if entry.startswith(f".{name}.new-") or entry == f"{name}.old":
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _remove(path, mode):
    """Remove what ``path`` is (``mode``: its lstat mode): a folder with its contents."""
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        os.remove(path)


def copy_into(source, target, old):
    """``shutil.copy2(source, target)``, ``old`` being the target's lstat (None: none yet).
    A plain file no other name shares is written into in place, and only if its bytes differ
    (``overwrite_if_changed``: replacing a file makes ext4 write it to the disk at once, a
    cost per file that a new article's thousand listing pages add up). Anything else is
    removed and copied anew: never write into a file another name may share."""
    if old is not None and stat.S_ISREG(old.st_mode) and old.st_nlink == 1:
        with open(source, "rb") as handle:
            overwrite_if_changed(target, handle.read())
        shutil.copystat(source, target, follow_symlinks=False)
        return
    if old is not None:
        os.remove(target)
    shutil.copy2(source, target, follow_symlinks=False)


def mirror(source, target, careful=False):
    """Make ``target`` an exact copy of ``source`` (files, symlinks, folders), copying only
    what differs; returns the number of files copied.

    A file counts as the same when size and mtime match (copies keep the mtime), or, if
    ``careful``, when its bytes match: for a target someone may have written into. Entries of
    ``target`` are taken as they are (lstat): a symlink there is replaced, never followed."""
    copied = 0
    if careful:
        filecmp.clear_cache()
    os.makedirs(target, exist_ok=True)
    wanted = set()
    with os.scandir(source) as entries:
        for entry in entries:
            wanted.add(entry.name)
            there = os.path.join(target, entry.name)
            try:
                old = os.lstat(there)
            except FileNotFoundError:
                old = None
            if entry.is_symlink():
                kind, link = stat.S_IFLNK, os.readlink(entry.path)
            else:
                kind = stat.S_IFDIR if entry.is_dir() else stat.S_IFREG
            if old is not None and stat.S_IFMT(old.st_mode) != kind:
                _remove(there, old.st_mode)
                old = None
            if kind == stat.S_IFLNK:
                if old is not None and os.readlink(there) != link:
                    os.remove(there)
                    old = None
                if old is None:
                    os.symlink(link, there)
            elif kind == stat.S_IFDIR:
                copied += mirror(entry.path, there, careful)
            else:
                new = entry.stat()
                same = (
                    old is not None
                    and old.st_size == new.st_size
                    and (filecmp.cmp(entry.path, there, shallow=False) if careful
                         else old.st_mtime_ns == new.st_mtime_ns)
                )  # fmt: skip
                if not same:
                    copy_into(entry.path, there, old)
                    copied += 1
                elif careful and old.st_mtime_ns != new.st_mtime_ns:
                    os.utime(there, ns=(new.st_atime_ns, new.st_mtime_ns))
    with os.scandir(target) as entries:
        for entry in entries:
            if entry.name not in wanted:
                _remove(entry.path, entry.stat(follow_symlinks=False).st_mode)
    return copied


def lock(path):
    """An exclusive lock held until the process ends (released by the system even when the
    process is killed); raises PublishError if another publish holds it."""
    handle = open(path, "a")  # noqa: SIM115 (kept open: the lock lives as long as the file)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        handle.close()
        if error.errno in (errno.EAGAIN, errno.EACCES):
            raise PublishError(
                "đang có một lần đăng khác chạy cho cùng thư mục, hãy chờ nó xong "
                "(another publish into the same output folder is running)"
            ) from None
        raise
    return handle


_stopped = []  # the signals received (``stop``)


def stop(signum, frame):
    """Ctrl-C or SIGTERM: stop the publish. The KeyboardInterrupt can be lost when the signal
    comes while Python runs a finaliser (it is then only printed), so the signal is also
    recorded, and ``publish`` checks the record before the swap."""
    _stopped.append(signum)
    raise KeyboardInterrupt


def publish(settings, output):
    """Check, build into a staging folder, swap it in. Raises PublishError on failure."""
    _, problems = check_tree(settings)
    for problem in problems:
        print(problem.format(), file=sys.stderr)
    errors = [p for p in problems if p.level == ERROR]
    if errors:
        raise PublishError(f"{len(errors)} lỗi trong nội dung ({len(errors)} content errors)")
    # The standby folder is made a copy of the live site (mtimes kept), and the build's
    # manifest a copy of the live one: the incremental build then renders and writes only
    # what changed, and unchanged files keep their mtime in the new output/.
    stem = os.path.join(settings["CACHE_PATH"], "incremental", f"publish-{output_key(output)}")
    manifest, staging_manifest = stem + ".marshal", stem + ".marshal.staging"
    clean_mark = stem + ".standby"  # present: the standby folder is as the last swap left it
    os.makedirs(os.path.dirname(manifest), exist_ok=True)
    staging = standby_path(output)
    settings = dict(settings, OUTPUT_PATH=staging, DELETE_OUTPUT_DIRECTORY=False,
                    INCREMENTAL_MANIFEST=staging_manifest)  # fmt: skip
    held = lock(stem + ".lock")
    try:
        remove_leftovers(output)
        careful = not os.path.isfile(clean_mark)
        if not careful:
            os.remove(clean_mark)  # from now on the standby folder may be written into
        if os.path.isdir(output):
            mirror(output, staging, careful)
            if os.path.isfile(manifest):
                shutil.copyfile(manifest, staging_manifest)
        elif os.path.exists(staging):
            shutil.rmtree(staging)
        try:
            records = build(settings)
        except Exception as error:  # a crash in a template or a plugin
            raise PublishError(f"bản dựng bị lỗi (build failed): {error}") from error
        bad = unexpected(records)
        for record in bad:
            print(f"{record.levelname}: {record.name}: {record.getMessage()}", file=sys.stderr)
        if bad:
            raise PublishError(
                f"{len(bad)} lỗi/cảnh báo bất thường khi dựng trang "
                f"({len(bad)} errors or unexpected warnings during the build)"
            )
        if _stopped:
            raise KeyboardInterrupt  # the exception of ``stop`` was lost on the way
        if os.path.isdir(output):
            exchange(staging, output)
            open(clean_mark, "w").close()  # noqa: SIM115 (an empty file: its presence says it)
        else:
            os.rename(staging, output)
        if os.path.isfile(staging_manifest):
            os.replace(staging_manifest, manifest)
    finally:
        if os.path.exists(staging_manifest):
            os.remove(staging_manifest)
        held.close()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="make publish")
    parser.add_argument("-s", "--settings", default="publishconf.py")
    parser.add_argument("--content", help="content folder (default: PATH of the settings)")
    parser.add_argument("-o", "--output", help="output folder (default: OUTPUT_PATH)")
    parser.add_argument("--cache", help="cache folder (default: CACHE_PATH)")
    args = parser.parse_args(argv)
    override = {"PATH": os.path.abspath(args.content)} if args.content else {}
    if args.cache:
        override["CACHE_PATH"] = os.path.abspath(args.cache)
    settings = read_settings(args.settings, override=override)
    output = os.path.abspath(args.output or settings["OUTPUT_PATH"])
    # SIGTERM (e.g. a CI timeout) cleans up like Ctrl-C does.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        publish(settings, output)
    except PublishError as error:
        print(f"Không đăng được: {error}. Trang web cũ trong {output} vẫn giữ nguyên. "
              f"(Publish failed; {output} is unchanged.)", file=sys.stderr)  # fmt: skip
        return 1
    except KeyboardInterrupt:
        print(f"Đã dừng. Trang web cũ trong {output} vẫn giữ nguyên. "
              f"(Interrupted; {output} is unchanged.)", file=sys.stderr)  # fmt: skip
        return 130
    print(f"Đã đăng vào {output} (published to {output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
