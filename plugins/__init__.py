"""The site's own Pelican plugins, loaded as ``plugins.<name>`` so that an installed
``pelican.plugins.<name>`` namespace package of the same name can never shadow them.

``plugins.IncrementalPelican`` is the Pelican class of the site (``PELICAN_CLASS``):
Pelican resolves that setting as ``<top-level module>.<name>``, hence this alias.
"""


def __getattr__(name):
    if name == "IncrementalPelican":
        from plugins.incremental.incremental import IncrementalPelican

        return IncrementalPelican
    raise AttributeError(name)
