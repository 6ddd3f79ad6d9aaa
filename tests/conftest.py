"""Shared fixtures: build sites through Pelican's API into temporary folders."""

import hashlib
import logging
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pelican.settings import read_settings

from tools.publish import pelican_class

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# A byte-for-byte copy of ../shared/seed/ (the model page), so a clone anywhere can test.
SEED = DATA / "seed" / "bulletin-2021-11-03.txt"
SHARED_SEED = ROOT.parent / "shared" / "seed" / "bulletin-2021-11-03.txt"
SEED_SLUG = (
    "ban-thuong-vu-huyen-uy-gia-loc-to-chuc-hoi-nghi-giao-ban-bi-thu-chi-bo-chuyen-de-ve-cong-tac"
    "-phat-trien-dang-vien"
)
SEED_PATH = f"2021/11/{SEED_SLUG}.html"


def file_digests(folder):
    """Every file under ``folder`` (relative path → SHA-256 of its bytes): to compare two
    outputs, an incremental build's with a cold one's."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


def run_tool(command, timeout=300, wait=True, **options):
    """Run a command of the project (cwd ROOT) in its own process group. With ``wait``,
    return the CompletedProcess (text). On a timeout the test fails with what is needed
    to see where it hung: the group's processes and, via faulthandler (SIGABRT), the
    Python stack of every thread of each of them. Without ``wait``, return the Popen."""
    env = dict(os.environ, PYTHONFAULTHANDLER="1", **options.pop("env", {}))
    process = subprocess.Popen(
        command, cwd=options.pop("cwd", ROOT), env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options,
    )  # fmt: skip
    if not wait:
        return process
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        listing = "\n".join(_group_processes(process.pid))
        os.killpg(process.pid, signal.SIGABRT)
        try:
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        text = (stdout + stderr).decode("utf-8", "replace")
        pytest.fail(f"{command} did not end in {timeout} s\n{listing}\n{text[-30000:]}")
    return subprocess.CompletedProcess(
        command, process.returncode, stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
    )  # fmt: skip


def _group_processes(group):
    """'pid ppid state command' of the processes of a process group, from /proc."""
    lines = []
    for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == group:  # state, ppid, pgrp, ...
            lines.append(f"{pid} {int(fields[1])} {fields[0].decode()} {command}")
    return lines


class LogRecorder(logging.Handler):
    """Collects the log records of a build, to assert that it logged no warning or error."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def messages(self, level=logging.WARNING):
        return [r.getMessage() for r in self.records if r.levelno >= level]


class Site:
    """A built site: its output folder, its settings and the warnings of the build."""

    def __init__(self, output, settings, log):
        self.output = Path(output)
        self.settings = settings
        self.log = log

    def path(self, relative):
        return self.output / relative

    def exists(self, relative):
        return self.path(relative).is_file()

    def text(self, relative):
        return self.path(relative).read_text(encoding="utf-8")

    def soup(self, relative):
        return BeautifulSoup(self.text(relative), "html.parser")

    def files(self, suffix=""):
        return sorted(p for p in self.output.rglob("*") if p.is_file() and p.name.endswith(suffix))


def build_site(output, settings_file="pelicanconf.py", content=None, **overrides):
    """Build a site with our settings (optionally another content folder) into ``output``."""
    override = {
        "OUTPUT_PATH": str(output),
        "CACHE_PATH": str(Path(output).parent / (Path(output).name + "-cache")),
        **overrides,
    }
    if content is not None:
        override["PATH"] = str(content)
    settings = read_settings(str(ROOT / settings_file), override=override)
    recorder = LogRecorder()
    root_logger = logging.getLogger()
    root_logger.addHandler(recorder)
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        pelican_class(settings)(settings).run()
    finally:
        os.chdir(cwd)
        root_logger.removeHandler(recorder)
    return Site(output, settings, recorder)


def make_content(tmp_path, articles, pages=None, images=None):
    """Write a small content folder: ``articles`` maps relative path → Markdown text."""
    content = tmp_path / "content"
    (content / "articles").mkdir(parents=True, exist_ok=True)
    (content / "pages").mkdir(parents=True, exist_ok=True)
    for relative, text in articles.items():
        target = content / "articles" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    for relative, text in (pages or {}).items():
        target = content / "pages" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    for relative, source in (images or {}).items():
        target = content / "images" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    shutil.copytree(ROOT / "content" / "extra", content / "extra")
    return content


@pytest.fixture
def runs(monkeypatch):
    """The search plugin's IndexResult of every indexing in the builds of a test (which
    shards were indexed, how many pages read)."""
    from plugins.search import search

    results = []
    update_index = search.update_index

    def spy(*args, **kwargs):
        results.append(update_index(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(search, "update_index", spy)
    return results


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The sample site, built once per session with the production settings."""
    return build_site(tmp_path_factory.mktemp("site") / "output", "publishconf.py")


@pytest.fixture(scope="session")
def seed_text():
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_page(site):
    return site.soup(SEED_PATH)
