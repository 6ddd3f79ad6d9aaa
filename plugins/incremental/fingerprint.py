"""Stable digests of settings, files and site objects: plain functions, no Pelican state.

A digest must be the same in two processes for the same input (never ``id()`` or a
default ``repr`` with an address) and must change whenever anything a page shows changes.
"""

import contextlib
import datetime
import functools
import hashlib
import marshal
import os
import stat
import subprocess
import sys
import time
import types

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
    if isinstance(value, types.FunctionType):
        # A function of the settings file (a Jinja filter…): its code counts, not only its
        # name, or an edit of its body would keep every page as it was.
        defaults = stable_repr((value.__defaults__, value.__kwdefaults__), _depth + 1)
        return (f"<{value.__module__}.{value.__qualname__} {_code_digest(value.__code__)} "
                f"{defaults}>")  # fmt: skip
    if callable(value) and hasattr(value, "__qualname__"):
        return f"<{getattr(value, '__module__', '?')}.{value.__qualname__}>"
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        public = {k: v for k, v in attributes.items() if not k.startswith("_")}
        return f"<{name} {stable_repr(public, _depth + 1)}>"
    return f"<{name}>"


def _code_digest(code):
    """Digest of a code object's instructions, names and constants (nested code too):
    the same in every process for the same source and Python."""
    hasher = hashlib.sha1(code.co_code)
    hasher.update(repr((code.co_names, code.co_varnames, code.co_freevars)).encode())
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            hasher.update(_code_digest(constant).encode())
        else:
            hasher.update(stable_repr(constant).encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()[:16]


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


def tree_files(folder, skip_folder=None):
    """``(relative path, os.DirEntry)`` of every file under ``folder``, in a stable order (a
    folder's files by name, then its subfolders by name). Links are followed as Pelican's
    ``get_files`` follows them (a linked folder's files are read as content too), each real
    folder once, so a link cycle ends. ``skip_folder(name)``: subfolders not to enter."""
    seen = set()

    def visit(directory, prefix):
        try:
            info = os.stat(directory)
            files, folders = _folder_entries(directory)
        except OSError:
            return
        if (info.st_dev, info.st_ino) in seen:
            return
        seen.add((info.st_dev, info.st_ino))
        for entry in files:
            yield prefix + entry.name, entry
        for entry in folders:
            if skip_folder is None or not skip_folder(entry.name):
                yield from visit(entry.path, f"{prefix}{entry.name}/")

    return visit(folder, "")


def _folder_entries(directory):
    """The files and the folders in ``directory`` (``os.DirEntry``), each list by name; a
    link counts as what it points to, an entry that cannot be looked at as a file. Raises
    OSError when the folder cannot be listed."""
    with os.scandir(directory) as scan:
        entries = list(scan)
    files, folders = [], []
    for entry in entries:
        try:
            is_folder = entry.is_dir()
        except OSError:
            is_folder = False
        (folders if is_folder else files).append(entry)
    return sorted(files, key=_name), sorted(folders, key=_name)


def _name(entry):
    return entry.name


def _hidden_or_cache(name):
    return name == "__pycache__" or name.startswith(".")


def tree_digest(*folders, suffixes=None):
    """Digest of every file (path and bytes) under the folders, in a stable order; a
    "folder" that is a file counts as itself."""
    hasher = hashlib.sha1()
    for folder in folders:
        if folder and os.path.isfile(folder):
            with open(folder, "rb") as handle:
                hasher.update(os.path.basename(folder).encode("utf-8", "surrogatepass"))
                hasher.update(hashlib.sha1(handle.read()).digest())
            continue
        if not folder or not os.path.isdir(folder):
            continue
        for relative, entry in tree_files(folder, _hidden_or_cache):
            if suffixes and not entry.name.endswith(tuple(suffixes)):
                continue
            try:
                with open(entry.path, "rb") as handle:
                    data = handle.read()
            except OSError:  # a broken link
                continue
            hasher.update(relative.encode("utf-8", "surrogatepass"))
            hasher.update(hashlib.sha1(data).digest())
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


# The attribute of an article or page that memoises ``content_hash``.
CONTENT_HASH = "_content_sha1"


def content_hash(item):
    """SHA-1 (20 bytes) of ``item._content`` in UTF-8, memoised on the item for as long as its
    ``_content`` is the same string. The object snapshot keeps the memo (``ObjectSnapshot.
    keep``), so a build hashes only the contents it read or a plugin replaced: 10,000
    articles' bodies are about 45 MB to encode and hash (0.1 s), and the related lists' key
    and the pages' fingerprints both need them."""
    state = item.__dict__
    content = state.get("_content") or ""
    memo = state.get(CONTENT_HASH)
    if memo is not None and memo[0] is content:
        return memo[1]
    value = hashlib.sha1(content.encode("utf-8", "surrogatepass")).digest()
    state[CONTENT_HASH] = (content, value)
    return value


# The attribute of an article or page that memoises ``static_links``.
STATIC_LINKS = "_static_links"


def static_links(item):
    """``item.get_static_links()``: the files its body links with {static} or {attach}, which
    Pelican's generators add to the static files to copy (``add_static_links``), memoised on
    the item like ``content_hash``, for as long as its ``_content`` is the same string (the
    result depends on nothing else an object put back can change: its source path, the
    content folder and INTRASITE_LINK_REGEX are those it was kept with). Pelican scans every
    body for them at every build, about 0.05 s at 10,000 articles; the object snapshot keeps
    the memo (``ObjectSnapshot.keep``). A new set each time: Pelican's is the caller's."""
    state = item.__dict__
    content = state.get("_content")
    memo = state.get(STATIC_LINKS)
    if memo is not None and memo[0] is content:
        return set(memo[1])
    links = item.get_static_links()
    state[STATIC_LINKS] = (content, frozenset(links))
    return links


def tree_stamp(folder, signatures=False, known=None):
    """Digest of the paths, sizes and mtimes of every file under ``folder`` (no reading):
    changes whenever a file is added, removed or written, linked folders included (in
    ``tree_files``' order). With ``signatures``, also each file's ctime and inode (what
    ``file_signature`` compares): for sources, where an edit that keeps the size and sets the
    mtime back must count. The output folder is stamped without them: publish's standby
    copies keep the mtimes, not the ctimes or inodes.

    ``known``: a ``folder_snapshot`` of ``folder`` taken earlier (in another process, while
    this one went on writing): a folder whose stat is still the one the snapshot recorded,
    and which was last changed well before the snapshot began (``SNAPSHOT_MARGIN``), is not
    read again; its files' lines are the snapshot's. Any other folder is read here."""
    if not os.path.isdir(folder):
        return None
    hasher = hashlib.sha1()
    for _, record in _folder_records(folder, signatures, known):
        hasher.update(record[3].encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()


# A folder recorded by ``folder_snapshot`` is used by ``tree_stamp`` only if its mtime is
# this much older than the snapshot's start: a file system stamps changes with a coarse
# clock (a tick of up to 10 ms behind the precise one), so a folder changed just after the
# snapshot read it could otherwise keep the very mtime the snapshot saw.
SNAPSHOT_MARGIN = 50_000_000  # ns


def folder_snapshot(folder, signatures=False):
    """(start, {prefix: record}) of every folder under ``folder`` (``_folder_records``), for
    ``tree_stamp(known=…)``: ``start`` is the clock (ns) when the walk began."""
    start = time.time_ns()
    return start, dict(_folder_records(folder, signatures, None))


def snapshot_to_file(folder, path):
    """Write ``folder_snapshot(folder)`` to ``path`` (marshal): the work of the process
    ``start_snapshot`` starts."""
    with open(path, "wb") as handle:
        marshal.dump(folder_snapshot(folder), handle)


# What that process runs (``python -I -S -c``): this module loaded from its file alone, with
# the standard library only, not through its package (which imports Pelican and Jinja).
SNAPSHOT_COMMAND = """\
import importlib.util, sys
spec = importlib.util.spec_from_file_location("folder_snapshot", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.snapshot_to_file(sys.argv[2], sys.argv[3])
"""


def start_snapshot(folder, path):
    """Start a new Python process (in about 30 ms) that writes ``folder_snapshot(folder)`` to
    ``path`` (``read_snapshot`` reads it): started, not forked, so it shares none of this
    process's memory, and this process copies none of it when it writes meanwhile."""
    return subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", SNAPSHOT_COMMAND, __file__, folder, path],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def read_snapshot(process, path):
    """The snapshot ``start_snapshot``'s ``process`` wrote to ``path`` once it ends, or None
    if it failed; the file is removed."""
    try:
        if process.wait() != 0:
            return None
        with open(path, "rb") as handle:
            start, records = marshal.load(handle)
        return (start, records) if isinstance(records, dict) else None
    except (OSError, EOFError, ValueError, TypeError):
        return None
    finally:
        with contextlib.suppress(OSError):  # a snapshot is never worth failing the build
            os.remove(path)


def _folder_records(folder, signatures, known):
    """``(prefix, (dev, inode, mtime_ns, lines, subfolders))`` of each folder under ``folder``
    in ``tree_files``' order, each real folder once: ``lines`` its files' lines of the stamp,
    ``subfolders`` the names of the folders it holds, by name. From ``known`` when that
    snapshot's record still holds (``tree_stamp``)."""
    start, records = known if known is not None else (0, {})
    seen = set()

    def visit(directory, prefix):
        try:
            info = os.stat(directory)
        except OSError:
            return
        identity = (info.st_dev, info.st_ino)
        if identity in seen:  # a folder reached again through a link
            return
        record = records.get(prefix)
        if (
            record is None
            or record[:3] != (*identity, info.st_mtime_ns)
            or info.st_mtime_ns >= start - SNAPSHOT_MARGIN
        ):
            record = _read_folder(directory, prefix, info, signatures)
            if record is None:
                return
        seen.add(identity)
        yield prefix, record
        for name in record[4]:
            yield from visit(os.path.join(directory, name), f"{prefix}{name}/")

    return visit(folder, "")


def _read_folder(directory, prefix, info, signatures):
    """The record of one folder (``_folder_records``), or None if it cannot be listed."""
    try:
        files, folders = _folder_entries(directory)
    except OSError:
        return None
    lines = []
    for entry in files:
        try:
            found = entry.stat()
        except OSError:  # a broken link, or gone since
            continue
        extra = f"\0{found.st_ctime_ns}\0{found.st_ino}" if signatures else ""
        lines.append(f"{prefix}{entry.name}\0{found.st_size}\0{found.st_mtime_ns}{extra}\n")
    subfolders = [entry.name for entry in folders]
    return (info.st_dev, info.st_ino, info.st_mtime_ns, "".join(lines), subfolders)


def _outside(base, names, roots):
    """``roots`` plus each of ``names`` joined to ``base`` (as Pelican joins them) that lies
    outside ``base`` and is not there yet: absolute, normalised paths."""
    for name in names or ():
        full = os.path.normpath(os.path.join(base, name))
        if os.path.commonpath([full, base]) != base and full not in roots:
            roots.append(full)
    return roots


def source_roots(settings):
    """PATH, then the entries of ARTICLE_PATHS, PAGE_PATHS and STATIC_PATHS and the
    templates of TEMPLATE_PAGES that lie outside it: Pelican joins them to PATH and reads
    what they name, so "../x" is beside the content folder."""
    path = os.path.abspath(settings["PATH"])
    roots = [path]
    for key in ("ARTICLE_PATHS", "PAGE_PATHS", "STATIC_PATHS", "TEMPLATE_PAGES"):
        _outside(path, settings.get(key), roots)
    return roots


def sources_stamp(settings):
    """``tree_stamp`` (with signatures) of every source root (``source_roots``); a root
    that is a file counts by its ``file_signature``."""
    parts = []
    for root in source_roots(settings):
        stamp = tree_stamp(root, signatures=True) if os.path.isdir(root) else file_signature(root)
        parts.append(f"{root}\0{stamp}")
    return digest(*parts)


def theme_roots(settings):
    """Where the theme's files are read from: THEME, the folders of
    THEME_TEMPLATES_OVERRIDES, and the entries of THEME_STATIC_PATHS outside THEME (Pelican
    joins them to THEME and copies what they name)."""
    theme = os.path.abspath(settings["THEME"])
    overrides = [os.path.abspath(f) for f in settings.get("THEME_TEMPLATES_OVERRIDES") or ()]
    return _outside(theme, settings.get("THEME_STATIC_PATHS"), [theme, *overrides])


def theme_rest_digest(settings):
    """Digest of the theme's files less its templates: what ``theme_roots`` names, without
    THEME/templates and the THEME_TEMPLATES_OVERRIDES folders (whose templates count page
    by page, see ``incremental.template_sources``)."""
    theme = os.path.abspath(settings["THEME"])
    templates = {os.path.join(theme, "templates")}
    templates.update(os.path.abspath(f) for f in settings.get("THEME_TEMPLATES_OVERRIDES") or ())
    parts = []
    for root in theme_roots(settings):
        if root in templates:
            continue
        if root != theme:
            parts.append(f"{root}\0{tree_digest(root)}")
            continue
        try:
            names = sorted(os.listdir(theme))
        except OSError:
            continue
        for name in names:
            path = os.path.join(theme, name)
            if path in templates or (_hidden_or_cache(name) and os.path.isdir(path)):
                continue
            parts.append(f"{name}\0{tree_digest(path)}")
    return digest(*parts)
