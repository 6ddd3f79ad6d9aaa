"""The site's own Pelican plugins, loaded as ``plugins.<name>`` so that an installed
``pelican.plugins.<name>`` namespace package of the same name can never shadow them."""
