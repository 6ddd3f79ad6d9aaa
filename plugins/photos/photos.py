"""photos: staff-friendly images in Markdown.

A paragraph holding only an image becomes a figure::

    ![Quang cảnh Hội nghị](images/2021/hoi-nghi.jpg "Quang cảnh Hội nghị")

or, with the caption in italics on the next line::

    ![Quang cảnh Hội nghị](images/2021/hoi-nghi.jpg)
    *Quang cảnh Hội nghị*

both give ``<figure><img …><figcaption>Quang cảnh Hội nghị</figcaption></figure>``.
An image without alt text takes its caption as alt. Image paths written relative to the
content folder (``images/…``) are resolved like ``{static}/images/…``.

Settings:
    PHOTOS_CONTENT_PREFIXES = ["images/"]   # paths resolved from the content folder
"""

import logging
import xml.etree.ElementTree as etree

from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pelican import signals

logger = logging.getLogger(__name__)

DEFAULTS = {
    "PHOTOS_CONTENT_PREFIXES": ["images/"],
}


def resolve_src(src, prefixes):
    """"images/2021/a.jpg" → "{static}/images/2021/a.jpg"; anything else unchanged."""
    if any(src.startswith(prefix) for prefix in prefixes):
        return "{static}/" + src
    return src


def _only_whitespace(text):
    return not (text or "").strip()


def figure_parts(paragraph):
    """Return (img, caption) when ``paragraph`` is a lone image (with an optional
    italic caption after it), else None."""
    children = list(paragraph)
    if not children or children[0].tag != "img" or not _only_whitespace(paragraph.text):
        return None
    img = children[0]
    if len(children) == 1 and _only_whitespace(img.tail):
        return img, img.get("title", "")
    if len(children) == 2 and children[1].tag == "em" and _only_whitespace(img.tail):
        em = children[1]
        if _only_whitespace(em.tail) and len(em) == 0:
            return img, (em.text or "").strip()
    return None


class FigureTreeprocessor(Treeprocessor):
    def __init__(self, md, prefixes):
        super().__init__(md)
        self.prefixes = prefixes

    def run(self, root):
        for img in root.iter("img"):
            img.set("src", resolve_src(img.get("src", ""), self.prefixes))
        for index, paragraph in enumerate(list(root)):
            if paragraph.tag != "p":
                continue
            parts = figure_parts(paragraph)
            if parts is None:
                continue
            img, caption = parts
            img.attrib.pop("title", None)
            img.tail = None
            if not img.get("alt") and caption:
                img.set("alt", caption)
            figure = etree.Element("figure")
            figure.tail = paragraph.tail
            figure.append(img)
            if caption:
                figcaption = etree.SubElement(figure, "figcaption")
                figcaption.text = caption
            root.remove(paragraph)
            root.insert(index, figure)


class FigureExtension(Extension):
    def __init__(self, prefixes):
        super().__init__()
        self.prefixes = prefixes

    def extendMarkdown(self, md):
        # After inline patterns (priority 20) have produced the <img> elements.
        md.treeprocessors.register(FigureTreeprocessor(md, self.prefixes), "photos_figure", 5)


def configure(pelican):
    settings = pelican.settings
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    extensions = settings.setdefault("MARKDOWN", {}).setdefault("extensions", [])
    if not any(isinstance(ext, FigureExtension) for ext in extensions):
        extensions.append(FigureExtension(settings["PHOTOS_CONTENT_PREFIXES"]))


def register():
    signals.initialized.connect(configure)
