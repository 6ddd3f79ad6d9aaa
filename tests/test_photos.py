"""photos plugin: Markdown images become captioned figures."""

import markdown
import pytest

from plugins.photos.photos import FigureExtension, resolve_src


def render(text):
    return markdown.Markdown(extensions=[FigureExtension(["images/"])]).convert(text)


def test_image_with_title_becomes_figure():
    html = render('![Quang cảnh Hội nghị](images/2021/a.jpg "Quang cảnh Hội nghị")')
    assert html == (
        '<figure><img alt="Quang cảnh Hội nghị" src="{static}/images/2021/a.jpg" />'
        "<figcaption>Quang cảnh Hội nghị</figcaption></figure>"
    )


def test_italic_caption_on_the_next_line():
    html = render("![Quang cảnh](images/2021/a.jpg)\n*Quang cảnh Hội nghị*")
    assert "<figcaption>Quang cảnh Hội nghị</figcaption>" in html
    assert "<em>" not in html and "<p>" not in html


def test_image_without_alt_takes_the_caption():
    html = render('![](images/a.jpg "Đoàn công tác")')
    assert 'alt="Đoàn công tác"' in html


def test_image_inside_text_is_left_alone():
    html = render("Xem ảnh ![x](images/a.jpg) ở đây.")
    assert "<figure>" not in html
    assert "<p>Xem ảnh" in html


def test_figure_keeps_surrounding_paragraphs_in_order():
    html = render('Trước.\n\n![A](images/a.jpg "A")\n\nSau.')
    assert html.index("Trước.") < html.index("<figure>") < html.index("Sau.")


@pytest.mark.parametrize(
    "src, expected",
    [
        ("images/2021/a.jpg", "{static}/images/2021/a.jpg"),
        ("{static}/images/a.jpg", "{static}/images/a.jpg"),
        ("https://example.org/a.jpg", "https://example.org/a.jpg"),
        ("/theme/a.png", "/theme/a.png"),
    ],
)
def test_resolve_src(src, expected):
    assert resolve_src(src, ["images/"]) == expected
