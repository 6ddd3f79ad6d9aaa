"""Stable digests of settings, files and site objects: plain functions, no Pelican state.

A digest must be the same in two processes for the same input (never ``id()`` or a
default ``repr`` with an address) and must change whenever anything a page shows changes.
"""

import datetime
import functools
import hashlib
import os
import stat
import sys

PLUGINS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Settings that say where things go, not what they are: excluded from the settings digest,
# so a publish into a staging folder reuses the work of the previous publish.
LOCATION_SETTINGS = frozenset({"OUTPUT_PATH", "CACHE_PATH", "PATH", "PELICAN_CLASS"})


def stable_repr(value, _depth=0):
    """A deterministic text for settings-like values (dicts sorted by key; objects by
    their class and public attributes, never by address)."""
    if _depth > 8:
        return "…"
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return repr(value)
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        return repr(value)
    if isinstance(value, dict):
        items = sorted((stable_repr(k, _depth + 1), stable_repr(v, _depth + 1))
                       for k, v in value.items())  # fmt: skip
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(stable_repr(v, _depth + 1) for v in value)
        return (
            ("[" if isinstance(value, list) else "(")
            + inner
            + ("]" if isinstance(value, list) else ")")
        )
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(stable_repr(v, _depth + 1) for v in value)) + "}"
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"<{getattr(value, '__module__', '?')}.{value.__qualname__}>"
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        public = {k: v for k, v in attributes.items() if not k.startswith("_")}
        return f"<{name} {stable_repr(public, _depth + 1)}>"
    return f"<{name}>"


def digest(*parts):
    """SHA-1 hex digest of the parts (strings, bytes or anything stable_repr takes)."""
    hasher = hashlib.sha1()
    for part in parts:
        if isinstance(part, bytes):
            data = part
        elif isinstance(part, str):
            data = part.encode("utf-8", "surrogatepass")
        else:
            data = stable_repr(part).encode("utf-8", "surrogatepass")
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def settings_digest(settings):
    return digest({k: v for k, v in settings.items() if k not in LOCATION_SETTINGS})


def build_key(settings):
    """What anything made from one content file depends on besides the file: the settings
    (less where things go) and the code (``code_key``)."""
    return digest(settings_digest(settings), code_key())


@functools.cache
def code_key():
    """The code that makes the site: the plugins' files, the Python version, and every
    installed package with its version (Pelican, Markdown, Jinja2, numpy…: an upgrade may
    change the output). Taken once per process: the code a process runs is the code it
    loaded, even if the files change while it runs (``make devserver``)."""
    plugin_code = tree_digest(PLUGINS_DIR, suffixes=(".py", ".js", ".css"))
    return digest(plugin_code, sys.version, installed_packages())


def installed_packages():
    """The names of the packages' metadata folders on ``sys.path`` ("Jinja2-3.1.4.dist-info"):
    each carries its package's version, and listing them is far cheaper than reading them."""
    names = []
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as entries:
                names.extend(e.name for e in entries
                             if e.name.endswith((".dist-info", ".egg-info")))  # fmt: skip
        except OSError:  # a zip file, or a folder that does not exist
            continue
    return sorted(names)


@functools.cache
def module_digest(*modules):
    """Digest of the source files of ``modules`` (module objects), once per process: for a
    cache that depends on a few modules only, not on every plugin."""
    return digest(*(_read(module.__file__) for module in modules))


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def output_key(output_path):
    """A short name for an output folder, for the state kept about it under CACHE_PATH
    (the incremental manifest, publish's records, the search index's stamps)."""
    return digest(os.path.abspath(output_path))[:12]


def tree_digest(*folders, suffixes=None):
    """Digest of every file (path and bytes) under the folders, in a stable order."""
    hasher = hashlib.sha1()
    for folder in folders:
        if not folder or not os.path.isdir(folder):
            continue
        for directory, subdirs, files in os.walk(folder):
            subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.startswith("."))
            for name in sorted(files):
                if suffixes and not name.endswith(tuple(suffixes)):
                    continue
                path = os.path.join(directory, name)
                hasher.update(os.path.relpath(path, folder).encode("utf-8", "surrogatepass"))
                with open(path, "rb") as handle:
                    hasher.update(hashlib.sha1(handle.read()).digest())
    return hasher.hexdigest()


def file_signature(path):
    """What says a file is unchanged without reading it: type, size, mtime, ctime and inode;
    None when there is no such file. Any write to a file changes its ctime, which no tool can
    set back, so an edit that keeps the size and restores the mtime is still seen."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, info.st_ctime_ns,
            info.st_ino)  # fmt: skip


def file_digest(data):
    return hashlib.sha1(data).hexdigest()


def tree_stamp(folder, signatures=False):
    """Digest of the paths, sizes and mtimes of every file under ``folder`` (no reading):
    changes whenever a file is added, removed or written. With ``signatures``, also each
    file's ctime and inode (what ``file_signature`` compares): for sources, where an edit
    that keeps the size and sets the mtime back must count. The output folder is stamped
    without them: publish's standby copies keep the mtimes, not the ctimes or inodes."""
    hasher = hashlib.sha1()
    if not os.path.isdir(folder):
        return None
    skip = len(folder.rstrip(os.sep)) + 1
    for directory, subdirs, files in os.walk(folder):
        subdirs.sort()
        prefix = directory[skip:]
        lines = []
        for name in sorted(files):
            try:
                stat = os.stat(os.path.join(directory, name))
            except OSError:
                continue
            extra = f"\0{stat.st_ctime_ns}\0{stat.st_ino}" if signatures else ""
            lines.append(f"{prefix}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}{extra}\n")
        hasher.update("".join(lines).encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()
