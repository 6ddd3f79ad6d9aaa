"""`make publish`: the production build, all or nothing.

1. The content check (`make check`): any error stops here, before anything is built.
2. The site is built with publishconf.py into a fresh folder next to output/
   (``.output.new-<pid>``), never into output/ itself.
3. The build must finish without an error and without an unexpected warning (content
   warnings from the check, such as a duplicate title, are expected and shown).
4. Only then the new folder takes the place of output/ in one atomic step (Linux
   ``renameat2(RENAME_EXCHANGE)``), and the old one is deleted.

A failed, interrupted (Ctrl-C) or killed (SIGKILL) publish leaves output/ exactly as it
was; a leftover ``.output.new-*`` folder from a killed run is removed by the next run.
"""

import argparse
import ctypes
import ctypes.util
import hashlib
import logging
import os
import shutil
import signal
import sys

from pelican.settings import read_settings

from plugins.content_check.content_check import check_tree
from plugins.content_check.rules import ERROR

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


def staging_path(output):
    parent, name = os.path.split(os.path.abspath(output))
    return os.path.join(parent, f".{name}.new-{os.getpid()}")


def remove_leftovers(output):
    parent, name = os.path.split(os.path.abspath(output))
    for entry in os.listdir(parent or "."):
        if entry.startswith(f".{name}.new-") or entry == f"{name}.old":
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def publish(settings, output):
    """Check, build into a staging folder, swap it in. Raises PublishError on failure."""
    _, problems = check_tree(settings)
    for problem in problems:
        print(problem.format(), file=sys.stderr)
    errors = [p for p in problems if p.level == ERROR]
    if errors:
        raise PublishError(f"{len(errors)} lỗi trong nội dung ({len(errors)} content errors)")
    remove_leftovers(output)
    staging = staging_path(output)
    # The staging folder starts as a copy of the live site (mtimes kept), and the build's
    # manifest as a copy of the live one: the incremental build then renders and writes only
    # what changed, and unchanged files keep their mtime in the new output/.
    name = f"publish-{hashlib.sha1(output.encode()).hexdigest()[:12]}.json"
    manifest = os.path.join(settings["CACHE_PATH"], "incremental", name)
    staging_manifest = manifest + ".staging"
    os.makedirs(os.path.dirname(manifest), exist_ok=True)
    settings = dict(settings, OUTPUT_PATH=staging, DELETE_OUTPUT_DIRECTORY=False,
                    INCREMENTAL_MANIFEST=staging_manifest)  # fmt: skip
    try:
        if os.path.isdir(output):
            shutil.copytree(output, staging, symlinks=True, copy_function=shutil.copy2)
            if os.path.isfile(manifest):
                shutil.copyfile(manifest, staging_manifest)
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
        if os.path.isdir(output):
            exchange(staging, output)
        else:
            os.rename(staging, output)
        if os.path.isfile(staging_manifest):
            os.replace(staging_manifest, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if os.path.exists(staging_manifest):
            os.remove(staging_manifest)


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
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
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
