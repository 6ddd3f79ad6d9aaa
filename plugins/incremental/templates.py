"""What the build remembers of the theme's templates between builds: Jinja's compiled code
(through Jinja's own bytecode-cache interface) and the templates each template's source
names (for ``template_mentions``).

Jinja parses and compiles every template a build uses, on every build: about 0.2 s for
the theme's 22 templates, plus 0.1 s to parse them again when the build asks which templates
show the related lists. An edit's build is a few seconds, so this is worth keeping. Both are
kept in one file per settings digest (``SettingsCache``), whose key covers the settings
(``JINJA_ENVIRONMENT``, ``JINJA_FILTERS``…) and the code (the plugins, Jinja's and Python's
versions): compiled code depends on those and on the template's source, which Jinja checks
itself (a bucket holds the source's checksum, and its magic number holds Python's version).
"""

import hashlib

from jinja2 import meta
from jinja2.bccache import BytecodeCache

from plugins.incremental.readers import SettingsCache


class TemplateCache(SettingsCache):
    """("code", Jinja's bucket key) → the bucket's bytes; ("refs", SHA-1 of a source) → the
    template names the source extends, includes or imports (None: one named only when
    rendering)."""

    PREFIX = "templates-"
    FORMAT = 1

    def save(self):
        """Compiled code is kept even when this build did not load it: a build loads only
        the templates of the pages it renders (the partials are loaded when rendering, and
        by the render workers when there are many), and Jinja replaces a template's entry
        when its source changes. Parsed references go when unused."""
        if self.loaded:
            self.used.update(key for key in self.entries if key[0] == "code")
        super().save()

    def references(self, environment, source):
        """``parsed_references``, remembered by the source's SHA-1."""
        key = ("refs", hashlib.sha1(source.encode("utf-8", "surrogatepass")).hexdigest())
        known = self.get(key)
        if known is None:
            known = parsed_references(environment, source)
            self.put(key, known)
        return known


def parsed_references(environment, source):
    """The names of the templates ``source`` extends, includes or imports (None for one
    named only when rendering), parsing it."""
    return list(meta.find_referenced_templates(environment.parse(source)))


class JinjaBytecodeCache(BytecodeCache):
    """Jinja's bytecode-cache interface over a ``TemplateCache``: a template whose source is
    unchanged is loaded without being parsed and compiled again. Jinja rejects a bucket of
    another source (checksum) or another Python (magic number) itself."""

    def __init__(self, cache):
        self.cache = cache

    def load_bytecode(self, bucket):
        data = self.cache.get(("code", bucket.key))
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket):
        self.cache.put(("code", bucket.key), bucket.bytecode_to_string())
