"""The cycle collector during a build or a check, and Pelican's memo of rendered contents.

A build or a check makes hundreds of thousands of objects that live until it ends, and
almost no cyclic garbage; Python's collector still walks all of them at each full
collection. ``BuildCollector`` (a build) and ``paused_collection`` (a check) spare that.
"""

import contextlib
import gc

from pelican.contents import Content


@contextlib.contextmanager
def paused_collection():
    """No cyclic garbage collection inside the block; as it was, after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def forget_rendered_contents():
    """Empty Pelican's memo of every article's and page's content and summary (its
    ``memoized`` decorator keeps them in one dict per method, for the whole process): it
    holds every content object of every build, so a long-running process (``make
    devserver``) would keep each build's whole site in memory."""
    for name in ("get_content", "get_summary"):
        memo = getattr(Content.__dict__.get(name), "cache", None)
        if isinstance(memo, dict):
            memo.clear()


_frozen_by_a_build = False  # the last build left its objects frozen (BuildCollector)


class BuildCollector:
    """Python's cycle collector, set for a build.

    Reading makes hundreds of thousands of objects that live until the build ends, and
    almost no cyclic garbage (about 5 objects per Markdown file), yet each full collection
    walks all of them: at 10,000 articles, 4 full collections of 0.17 s each, plus the young
    ones, and one more of 0.3 s when the process exits: about 1 s of a 7 s build after one
    edit. So collection is off while the generators read (``start``); once everything is
    read (``settle``), the objects made so far are frozen (left out of later collections,
    and out of the memory pages the forked render workers' collections would copy) and
    collection is on again for the writing. They stay frozen after the build, so the exit
    does not walk them; the next build in the same process (``make devserver``) unfreezes
    and collects them first. A process that froze objects of its own before a build keeps
    them frozen: that build then only pauses collection. (``gc.unfreeze`` cannot tell whose
    objects it thaws: one frozen between two builds would be thawed, which costs only
    collection time.)"""

    def __init__(self):
        self.was_enabled = True
        self.may_freeze = False
        self.reading = False

    def start(self):
        global _frozen_by_a_build
        self.was_enabled = gc.isenabled()  # as the build found it: what ``stop`` restores
        forget_rendered_contents()
        if _frozen_by_a_build:
            gc.unfreeze()
            _frozen_by_a_build = False
            if self.was_enabled:
                gc.collect()  # the last build's objects, garbage now
        self.may_freeze = gc.get_freeze_count() == 0
        gc.disable()
        self.reading = True

    def settle(self):
        global _frozen_by_a_build
        if not self.reading:
            return
        self.reading = False
        if self.may_freeze:
            gc.freeze()
            _frozen_by_a_build = True
        if self.was_enabled:
            gc.enable()

    def stop(self):
        """After ``start``, whatever happened: collection as it was before the build."""
        self.reading = False
        if self.was_enabled:
            gc.enable()
