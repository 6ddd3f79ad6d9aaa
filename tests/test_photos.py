"""photos plugin: captioned figures, private and responsive photos, cache, errors.

Every test image is drawn by Pillow here, with the metadata a phone writes (EXIF
orientation, GPS, XMP, a comment, maker data after the end of the JPEG); the secret
string HOME marks it so the tests can look for it in every published byte.
"""

import io
import os
import re
import sys
import time
from pathlib import Path

import markdown
import pytest
from PIL import Image, PngImagePlugin

from plugins.content_check.content_check import ContentError
from plugins.photos import imaging, photos
from plugins.photos.imaging import ImageProblem, plan_crop, plan_widths
from plugins.photos.photos import (
    FigureExtension,
    PhotoError,
    audit_images,
    derivative_path,
    publish_file,
    resolve_src,
)
from tests.conftest import ROOT, build_site, file_digests, make_content, run_tool

HOME = b"NHA-RIENG-21.0285N-105.8542E"
DEFAULT_OPTIONS = photos.options_from_settings(photos.DEFAULTS)
RED, BLUE, GREEN = (220, 20, 20), (20, 20, 220), (20, 200, 20)


# --- images with a phone's metadata ---------------------------------------------------------


def phone_exif(orientation=1):
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (21.0, 1.0, 42.0)
    gps[3], gps[4] = "E", (105.0, 51.0, 15.0)
    gps[27] = b"ASCII\x00\x00\x00" + HOME  # GPSProcessingMethod
    return exif


def two_colour_image(size, first=RED, second=BLUE):
    """Left half ``first``, right half ``second``."""
    image = Image.new("RGB", size, second)
    image.paste(first, (0, 0, size[0] // 2, size[1]))
    return image


def phone_jpeg(path, size=(2000, 1200), orientation=1, trailer=True):
    """A JPEG as a phone writes it; with orientation 6 the red half shows on top."""
    path.parent.mkdir(parents=True, exist_ok=True)
    two_colour_image(size).save(
        path,
        "JPEG",
        quality=90,
        exif=phone_exif(orientation),
        comment=HOME,
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + HOME + b"</x:xmpmeta>",
    )
    if trailer:  # maker data after the end-of-image marker, as some phones write
        with open(path, "ab") as handle:
            handle.write(b"SEFT" + HOME)
    return path


def phone_png(path, size=(900, 600)):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", HOME.decode())
    info.add_itxt("XML:com.adobe.xmp", HOME.decode())
    path.parent.mkdir(parents=True, exist_ok=True)
    two_colour_image(size, GREEN, BLUE).save(path, "PNG", exif=phone_exif(), pnginfo=info)
    return path


def phone_webp(path, size=(800, 500)):
    path.parent.mkdir(parents=True, exist_ok=True)
    two_colour_image(size).save(path, "WEBP", quality=90, exif=phone_exif(), xmp=HOME)
    return path


def assert_private(path):
    data = Path(path).read_bytes()
    assert HOME not in data, path
    assert b"Exif\x00\x00" not in data and b"PhoneMaker" not in data, path
    with Image.open(path) as image:
        assert not image.getexif(), path
        assert not {"exif", "xmp", "comment", "XML:com.adobe.xmp", "Comment"} & set(image.info)


def colour_at(image, xy):
    return image.convert("RGB").getpixel(xy)


def near(colour, expected, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


# --- Markdown: figures ---------------------------------------------------------------------


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


# --- planning: pure arithmetic -------------------------------------------------------------


@pytest.mark.parametrize(
    "size, expected",
    [
        ((6000, 4000), [(480, 320), (960, 640), (1600, 1067)]),
        ((1600, 1067), [(480, 320), (960, 640), (1600, 1067)]),
        ((1200, 2000), [(480, 800), (960, 1600), (1200, 2000)]),
        ((400, 300), [(400, 300)]),
        ((480, 320), [(480, 320)]),
    ],
)
def test_plan_widths_never_upscales(size, expected):
    assert plan_widths(*size, [480, 960, 1600]) == expected


@pytest.mark.parametrize(
    "size, target, box, out",
    [
        ((6000, 4000), (1200, 630), (0, 425, 6000, 3575), (1200, 630)),
        ((4000, 6000), (1200, 630), (0, 1950, 4000, 4050), (1200, 630)),
        ((1000, 1000), (1200, 630), (0, 237, 1000, 762), (1000, 525)),
        ((6000, 4000), (360, 240), (0, 0, 6000, 4000), (360, 240)),
        ((1000, 400), (360, 240), (200, 0, 800, 400), (360, 240)),
    ],
)
def test_plan_crop_is_centred_and_never_upscales(size, target, box, out):
    assert plan_crop(*size, target) == (box, out)


@pytest.mark.parametrize(
    "relpath, name, expected",
    [
        ("images/2021/a.jpg", "w960.webp", "images/2021/a-960w.webp"),
        ("images/2021/a.jpg", "w480.jpg", "images/2021/a-480w.jpg"),
        ("images/2021/a.b.png", "thumb.webp", "images/2021/a.b-thumb.webp"),
        ("images/a.jpeg", "og.jpg", "images/a-og.jpg"),
    ],
)
def test_derivative_path(relpath, name, expected):
    assert derivative_path(relpath, name) == expected


def test_bad_settings_fail_loudly():
    settings = {**photos.DEFAULTS, "PHOTOS_FORMATS": ["webp", "gif"]}
    with pytest.raises(photos.PhotoSettingsError, match="PHOTOS_FORMATS"):
        photos.options_from_settings(settings)
    settings = {**photos.DEFAULTS, "PHOTOS_WIDTHS": [480, "960"]}
    with pytest.raises(photos.PhotoSettingsError, match="PHOTOS_WIDTHS"):
        photos.options_from_settings(settings)


# --- stripping metadata --------------------------------------------------------------------


def test_strip_jpeg_is_lossless_and_private(tmp_path):
    source = phone_jpeg(tmp_path / "a.jpg", size=(300, 200))
    stripped = imaging.strip_jpeg(source.read_bytes())
    (tmp_path / "b.jpg").write_bytes(stripped)
    assert_private(tmp_path / "b.jpg")
    with Image.open(source) as before, Image.open(tmp_path / "b.jpg") as after:
        assert before.tobytes() == after.tobytes()  # same compressed data, same pixels


def test_strip_jpeg_keeps_the_colour_profile(tmp_path):
    profile = b"\x00" * 128 + b"acsp" + b"\x00" * 200  # opaque bytes are enough here
    Image.new("RGB", (64, 64), RED).save(tmp_path / "a.jpg", icc_profile=profile, exif=phone_exif())
    stripped = imaging.strip_jpeg((tmp_path / "a.jpg").read_bytes())
    assert profile in stripped and b"PhoneMaker" not in stripped


@pytest.mark.parametrize("make, strip", [(phone_png, "strip_png"), (phone_webp, "strip_webp")])
def test_strip_png_and_webp_are_lossless_and_private(tmp_path, make, strip):
    source = make(tmp_path / "a.img")
    out = tmp_path / "b.img"
    out.write_bytes(getattr(imaging, strip)(source.read_bytes()))
    assert_private(out)
    with Image.open(source) as before, Image.open(out) as after:
        assert before.size == after.size
        assert before.convert("RGB").tobytes() == after.convert("RGB").tobytes()


def test_truncated_jpeg_cannot_be_stripped(tmp_path):
    data = phone_jpeg(tmp_path / "a.jpg", trailer=False).read_bytes()
    with pytest.raises(ImageProblem) as caught:
        imaging.strip_jpeg(data[: len(data) // 2])
    assert caught.value.kind == "corrupt"


def test_inspect_reads_upright_size(tmp_path):
    info = imaging.inspect_photo(phone_jpeg(tmp_path / "a.jpg", orientation=6), 10**9)
    assert (info.width, info.height, info.orientation, info.format) == (1200, 2000, 6, "JPEG")


def test_problem_messages_are_vietnamese_with_english():
    message = ImageProblem("missing").describe("images/2021/a.jpg")
    assert message == "không tìm thấy ảnh images/2021/a.jpg (image not found)"
    message = ImageProblem("corrupt", "image file is truncated").describe("images/a.jpg")
    assert message.endswith("(corrupt or truncated image: image file is truncated)")


# --- writing outputs ------------------------------------------------------------------------


def test_publish_file_writes_only_changed_bytes(tmp_path):
    source, target = tmp_path / "cache.bin", tmp_path / "out" / "a.bin"
    source.write_bytes(b"photo")
    assert publish_file(source, target) is True
    assert target.read_bytes() == b"photo"
    assert oct(target.stat().st_mode & 0o044) == oct(0o044)  # readable by the web server
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))  # e.g. a copy from elsewhere
    assert publish_file(source, target) is False  # same bytes: left alone
    assert target.stat().st_mtime_ns == 1_000_000_000
    source.write_bytes(b"other")
    assert publish_file(source, target) is True
    assert target.read_bytes() == b"other"
    assert [p.name for p in target.parent.iterdir()] == ["a.bin"]  # no temporary left


# --- audit for `make check` -----------------------------------------------------------------


@pytest.fixture
def audit_content(tmp_path):
    content = tmp_path / "content"
    phone_jpeg(content / "images" / "2021" / "a.jpg", size=(300, 200))
    (content / "images" / "2021" / "b.bmp").write_bytes(b"BM")
    (content / "images" / "2021" / "c.jpg").write_bytes(b"not a photo")
    (content / "articles").mkdir(parents=True)
    return content


@pytest.mark.parametrize(
    "text, expected",
    [
        ('![A](images/2021/a.jpg "A")', []),
        ("![](images/2021/a.jpg)\n*Chú thích*", []),
        ('![](images/2021/a.jpg "Chú thích")', []),
        ("![Mô tả](images/2021/a.jpg)", []),
        ("![Mô tả]({static}/images/2021/a.jpg)", []),
        ("![Mô tả]({static}../images/2021/a.jpg)", []),
        ('<img src="{static}/images/2021/a.jpg" alt="Mô tả">', []),
        ("![Ảnh](https://example.org/x.jpg)", []),
        ("```\n![](images/2021/none.jpg)\n```", []),
        ("Dòng một.\n\n![](images/2021/a.jpg)", [(3, "warning", "không có mô tả")]),
        ("![A](images/2021/none.jpg)", [(1, "error", "không tìm thấy ảnh images/2021/none.jpg")]),
        ("![A](images/2021/b.bmp)", [(1, "error", "định dạng không được hỗ trợ")]),
        ("![A](images/2021/x.heic)", [(1, "error", "định dạng không được hỗ trợ")]),
        ("![A](images/2021/c.jpg)", [(1, "error", "bị hỏng")]),
        (
            "![](images/2021/none.jpg)",
            [(1, "warning", "không có mô tả"), (1, "error", "không tìm thấy")],
        ),
    ],
)
def test_audit_images(audit_content, text, expected):
    source = audit_content / "articles" / "x.md"
    problems = audit_images(str(source), text, str(audit_content))
    assert [(p.line, p.level) for p in problems] == [(line, level) for line, level, _ in expected]
    for problem, (_line, _level, words) in zip(problems, expected, strict=True):
        assert words in problem.message
        assert re.search(r"\([a-z ,:]+", problem.message)  # the English in brackets


def test_audit_finds_a_decompression_bomb(audit_content):
    problems = audit_images(
        str(audit_content / "articles" / "x.md"),
        "![A](images/2021/a.jpg)",
        str(audit_content),
        max_pixels=10_000,
    )
    assert [(p.level, "quá lớn" in p.message) for p in problems] == [("error", True)]


# --- a small site ----------------------------------------------------------------------------

ARTICLE = """Title: {title}
Date: {date}
Category: Tin tức - Sự kiện

Đoạn mở đầu.

{body}
"""


def article(title, body, date="2024-03-28 14:00"):
    return ARTICLE.format(title=title, body=body, date=date)


def photo_site_content(tmp_path):
    sources = tmp_path / "sources"
    images = {
        "2024/doc.jpg": phone_jpeg(sources / "doc.jpg", size=(2000, 1200), orientation=6),
        "2024/ngang.jpg": phone_jpeg(sources / "ngang.jpg", size=(1000, 700)),
        "2024/so-do.png": phone_png(sources / "so-do.png"),
        "2024/anh.webp": phone_webp(sources / "anh.webp"),
        "2024/dong.gif": sources / "dong.gif",
        "2024/logo.svg": sources / "logo.svg",
        "2024/khong-dung.jpg": phone_jpeg(sources / "khong-dung.jpg", size=(640, 480)),
    }
    Image.new("P", (40, 30)).save(sources / "dong.gif")
    (sources / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    articles = {
        "2024/hoi-nghi.md": article(
            "Hội nghị",
            '![Quang cảnh Hội nghị](images/2024/doc.jpg "Quang cảnh Hội nghị")\n\n'
            "Đoạn giữa.\n\n![](images/2024/ngang.jpg)\n*Đại biểu dự Hội nghị*\n\n"
            "Sơ đồ ![Sơ đồ](images/2024/so-do.png) và ![Ảnh](images/2024/anh.webp).\n\n"
            "![Động](images/2024/dong.gif) ![Logo](images/2024/logo.svg)",
        ),
        "2024/khong-anh.md": article("Không ảnh", "Chỉ có chữ.", date="2024-03-27 10:00"),
    }
    return make_content(tmp_path, articles, images=images), images


@pytest.fixture(scope="module")
def photo_site(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("photos")
    content, images = photo_site_content(tmp_path)
    site = build_site(tmp_path / "output", "publishconf.py", content=content)
    site.images = images
    site.article = site.soup("2024/03/hoi-nghi.html")
    return site


def local(site, url):
    return site.path(url.removeprefix("https://gialoc.dcs.vn/"))


def srcset_entries(srcset):
    return [(url, int(w[:-1])) for url, w in (item.split() for item in srcset.split(", "))]


def test_build_logs_no_warning(photo_site):
    assert photo_site.log.messages() == []


def test_no_published_file_carries_metadata(photo_site):
    published = [p for p in photo_site.files() if p.suffix in {".jpg", ".png", ".webp"}]
    assert len(published) > 30
    for path in published:
        assert_private(path)
    for path in photo_site.files():  # nor anything else in output/
        assert HOME not in path.read_bytes(), path


def test_orientation_six_comes_out_upright(photo_site):
    figure = photo_site.article.select("figure")[0]
    urls = [figure.img["src"]] + [u for u, _w in srcset_entries(figure.source["srcset"])]
    urls.append(figure.img["srcset"].split()[0])
    for url in urls + ["https://gialoc.dcs.vn/images/2024/doc.jpg"]:
        with Image.open(local(photo_site, url)) as image:
            assert image.height > image.width, url
            assert near(colour_at(image, (image.width // 2, 5)), RED), url
            assert near(colour_at(image, (image.width // 2, image.height - 5)), BLUE), url


def test_originals_are_published_stripped(photo_site):
    doc = photo_site.path("images/2024/doc.jpg")
    with Image.open(doc) as image:
        assert image.size == (1200, 2000)  # re-encoded upright
    with (
        Image.open(photo_site.path("images/2024/ngang.jpg")) as image,
        Image.open(photo_site.images["2024/ngang.jpg"]) as source,
    ):
        assert image.tobytes() == source.tobytes()  # orientation 1: stripped losslessly
    assert photo_site.exists("images/2024/khong-dung.jpg")  # not in any article: still stripped


def test_figures_become_pictures_with_captions(photo_site):
    figures = photo_site.article.select(".article__body figure")
    assert [f.figcaption.get_text() for f in figures] == [
        "Quang cảnh Hội nghị",
        "Đại biểu dự Hội nghị",
    ]
    for figure in figures:
        assert [c.name for c in figure.find_all(recursive=False)] == ["picture", "figcaption"]
        assert figure.picture.source["type"] == "image/webp"
    assert figures[1].img["alt"] == "Đại biểu dự Hội nghị"  # alt from the caption


@pytest.mark.parametrize("name", ["doc.jpg", "ngang.jpg", "so-do.png", "anh.webp"])
def test_srcset_widths_exist_and_never_exceed_the_source(photo_site, name):
    img = photo_site.article.find("img", src=re.compile(re.escape(Path(name).stem) + "-"))
    with Image.open(photo_site.images[f"2024/{name}"]) as source:
        upright_width = source.height if name == "doc.jpg" else source.width
    picture = img.find_parent("picture")
    for srcset in [img["srcset"], picture.source["srcset"]]:
        entries = srcset_entries(srcset)
        assert [w for _u, w in entries] == sorted(w for _u, w in entries)
        assert max(w for _u, w in entries) == min(upright_width, 1600)
        for url, width in entries:
            assert width <= upright_width
            with Image.open(local(photo_site, url)) as image:
                assert image.width == width, url
    assert picture.source["sizes"] == img["sizes"]


def test_width_and_height_match_the_file(photo_site):
    for img in photo_site.article.select(".article__body picture img"):
        with Image.open(local(photo_site, img["src"])) as image:
            assert (int(img["width"]), int(img["height"])) == image.size, img["src"]


def test_only_the_first_image_is_eager(photo_site):
    imgs = photo_site.article.select(".article__body img")
    assert len(imgs) == 6
    assert not imgs[0].has_attr("loading") and not imgs[0].has_attr("decoding")
    for img in imgs[1:]:
        assert (img["loading"], img["decoding"]) == ("lazy", "async"), img


def test_gif_and_svg_pass_through_untouched(photo_site):
    for name in ("dong.gif", "logo.svg"):
        published = photo_site.path(f"images/2024/{name}")
        assert published.read_bytes() == photo_site.images[f"2024/{name}"].read_bytes()
        img = photo_site.article.find("img", src=re.compile(re.escape(name) + "$"))
        assert img.find_parent("picture") is None
    gif = photo_site.article.find("img", src=re.compile("dong.gif$"))
    assert (gif["width"], gif["height"]) == ("40", "30")


def test_og_image_for_an_article_with_a_photo(photo_site):
    meta = {m["property"]: m["content"] for m in photo_site.article.select("meta[property]")}
    assert meta["og:image"].startswith("https://gialoc.dcs.vn/images/2024/doc-og")
    assert meta["og:image:alt"] == "Quang cảnh Hội nghị"
    with Image.open(local(photo_site, meta["og:image"])) as image:
        assert image.size == (int(meta["og:image:width"]), int(meta["og:image:height"]))
        assert image.size == (1200, 630)
        assert image.format == "JPEG"
    plain = photo_site.soup("2024/03/khong-anh.html")
    assert plain.select_one('meta[property="og:image"]') is None


def test_list_cards_show_the_thumbnail(photo_site):
    index = photo_site.soup("index.html")
    cards = index.select(".card")
    assert [c.select_one(".card__title").get_text() for c in cards] == ["Hội nghị", "Không ảnh"]
    img = cards[0].select_one(".card__photo img")
    assert img["alt"] == "" and not img.has_attr("loading")  # the first image of the page
    with Image.open(local(photo_site, img["src"])) as image:
        assert image.size == (int(img["width"]), int(img["height"])) == (360, 240)
    source = cards[0].select_one(".card__photo source")
    assert local(photo_site, source["srcset"]).is_file()
    assert cards[1].select_one(".card__photo") is None


def test_pages_feed_and_summary_keep_working(photo_site):
    feed = photo_site.text("feeds/tat-ca.atom.xml")
    assert "doc-960w.jpg" in feed and "{static}" not in feed


# --- cache: a rebuild only stats unchanged photos ---------------------------------------------


def test_cache_skips_unchanged_photos(tmp_path, monkeypatch):
    content, _images = photo_site_content(tmp_path)
    built, hashed = [], []
    real_build, real_hash = imaging.build_into_cache, imaging.file_sha256
    monkeypatch.setattr(
        imaging, "build_into_cache", lambda *a: built.append(a[0]) or real_build(*a)
    )
    monkeypatch.setattr(imaging, "file_sha256", lambda p: hashed.append(p) or real_hash(p))
    output = tmp_path / "output"
    build_site(output, content=content, PHOTOS_WORKERS=1)
    assert len(built) == 5  # the JPEGs, the PNG and the WebP; not the GIF or the SVG
    images = sorted(p for p in (output / "images").rglob("*") if p.is_file())
    before = {p: p.stat().st_mtime_ns for p in images}

    built.clear(), hashed.clear()
    build_site(output, content=content, PHOTOS_WORKERS=1)
    assert built == [] and hashed == []  # nothing re-encoded, nothing even re-hashed
    after = {p: p.stat().st_mtime_ns for p in images}
    assert [p.name for p in images if after[p] != before[p]] == []  # nothing rewritten

    fresh = tmp_path / "fresh"  # a clean output folder is filled from the cache
    build_site(fresh, content=content, PHOTOS_WORKERS=1, CACHE_PATH=str(output) + "-cache")
    assert built == []
    assert sorted(p.relative_to(fresh) for p in (fresh / "images").rglob("*") if p.is_file()) == [
        p.relative_to(output) for p in images
    ]

    changed = content / "images" / "2024" / "ngang.jpg"
    phone_jpeg(changed, size=(1000, 700), orientation=3)
    build_site(output, content=content, PHOTOS_WORKERS=1)
    assert built == [str(changed)]
    rewritten = {p for p in images if p.stat().st_mtime_ns != before[p]}
    assert rewritten and all(p.name.startswith("ngang") for p in rewritten)


def test_a_photo_replaced_by_one_of_the_same_size_and_mtime_is_seen(tmp_path):
    """Another photo under the same name, of exactly the same byte size, its mtime set back
    (``cp -p``, ``rsync -a``, an unzipped archive): the ctime still tells, as it does for
    the Markdown files, and the output is that of a cold build."""
    content, _images = photo_site_content(tmp_path)
    output = tmp_path / "output"
    build_site(output, content=content, PHOTOS_WORKERS=1)
    photo = content / "images" / "2024" / "ngang.jpg"
    before = photo.stat()
    other = phone_jpeg(tmp_path / "khac.jpg", size=(600, 900), orientation=1).read_bytes()
    assert len(other) < before.st_size
    photo.write_bytes(other + b"\0" * (before.st_size - len(other)))  # after the JPEG's end
    os.utime(photo, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert photo.stat().st_size == before.st_size
    site = build_site(output, content=content, PHOTOS_WORKERS=1)
    img = site.soup("2024/03/hoi-nghi.html").find("img", src=re.compile("ngang"))
    assert (img["width"], img["height"]) == ("600", "900")
    cold = build_site(tmp_path / "cold", content=content, PHOTOS_WORKERS=1)
    assert file_digests(output) == file_digests(cold.output)


def test_a_deleted_photo_leaves_output_and_output_equals_a_cold_build(tmp_path):
    content, _images = photo_site_content(tmp_path)
    output = tmp_path / "output"
    build_site(output, content=content, PHOTOS_WORKERS=1)
    assert any(p.name.startswith("ngang") for p in (output / "images").rglob("*"))
    # Staff delete a photo (privacy: it showed a private home) and its line in the article.
    (content / "images" / "2024" / "ngang.jpg").unlink()
    source = content / "articles" / "2024" / "hoi-nghi.md"
    text = source.read_text(encoding="utf-8")
    source.write_text(
        text.replace("![](images/2024/ngang.jpg)\n*Đại biểu dự Hội nghị*\n\n", ""),
        encoding="utf-8",
    )
    build_site(output, content=content, PHOTOS_WORKERS=1, PHOTOS_WIDTHS=[300, 700])
    assert not [p for p in (output / "images").rglob("*") if p.name.startswith("ngang")]
    assert not [p for p in (output / "images").rglob("*") if "-480" in p.name]  # old size
    cold = build_site(tmp_path / "cold", content=content, PHOTOS_WORKERS=1,
                      PHOTOS_WIDTHS=[300, 700])  # fmt: skip
    assert file_digests(output) == file_digests(cold.output)


def test_settings_change_the_derivatives(tmp_path):
    content, _images = photo_site_content(tmp_path)
    site = build_site(tmp_path / "output", content=content, PHOTOS_WIDTHS=[300, 700])
    img = site.soup("2024/03/hoi-nghi.html").find("img")
    assert [w for _u, w in srcset_entries(img["srcset"])] == [300, 700]


# --- bad input stops the build, naming the article and the image --------------------------------


def bad_site(tmp_path, image_name, make_image):
    sources = tmp_path / "sources"
    sources.mkdir()
    good = phone_jpeg(sources / "tot.jpg", size=(800, 600))
    images = {"2024/tot.jpg": good}
    if make_image is not None:
        images[f"2024/{image_name}"] = make_image(sources / image_name)
    body = f'![Tốt](images/2024/tot.jpg "Tốt")\n\n![Hỏng](images/2024/{image_name} "Hỏng")'
    return make_content(tmp_path, {"2024/bai-loi.md": article("Bài lỗi", body)}, images=images)


def truncated_jpeg(path):
    data = phone_jpeg(path, size=(800, 600), trailer=False).read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def random_bytes(path):
    path.write_bytes(os.urandom(5000))
    return path


def tiff_image(path):
    Image.new("RGB", (50, 50)).save(path, "TIFF")
    return path


def tiff_named_jpg(path):
    Image.new("RGB", (50, 50)).save(path, "TIFF")
    return path


BAD_INPUTS = [
    ("thieu.jpg", None, {}, "không tìm thấy ảnh images/2024/thieu.jpg (image not found)"),
    ("cat-cut.jpg", truncated_jpeg, {}, "(corrupt or truncated image"),
    ("rac.jpg", random_bytes, {}, "bị hỏng hoặc bị cắt cụt"),
    ("anh.tiff", tiff_image, {}, "(unsupported image format"),
    ("anh-tiff.jpg", tiff_named_jpg, {}, "(unsupported image format"),
    ("bom.jpg", phone_jpeg, {"PHOTOS_MAX_PIXELS": 1_000_000}, "quá lớn"),  # 2.4 Mpx: error
    ("bom-nhe.jpg", phone_jpeg, {"PHOTOS_MAX_PIXELS": 2_000_000}, "quá lớn"),  # 1.2x: warning
]


@pytest.mark.parametrize("name, make_image, settings, words", BAD_INPUTS)
def test_bad_image_stops_the_build_naming_article_and_image(
    tmp_path, name, make_image, settings, words
):
    content = bad_site(tmp_path, name, make_image)
    output = tmp_path / "output"
    # Problems visible from the image header are refused when the article is read
    # (content_check runs audit_images: ContentError); the others when the photo is
    # decoded (PhotoError). Either way the build stops before writing anything.
    with pytest.raises((PhotoError, ContentError)) as caught:
        build_site(output, content=content, **settings)
    message = str(caught.value)
    line = next(line for line in message.splitlines() if f"images/2024/{name}" in line)
    assert re.search(r"articles/2024/bai-loi\.md(:\d+)?: ", line)
    assert words in line
    assert "tot.jpg" not in message  # the good photo is not blamed
    # Nothing half-written: no page, no photo, no temporary file in output/ or the cache.
    written = [p for p in output.rglob("*") if p.is_file()] if output.exists() else []
    assert not [p for p in written if p.suffix in {".html", ".jpg", ".webp", ".tmp"}]
    cache = Path(str(output) + "-cache")
    assert not [p for p in cache.rglob("*") if p.name.startswith(".tmp")]


def test_a_higher_limit_lets_a_big_photo_through(tmp_path):
    content = bad_site(tmp_path, "lon.jpg", phone_jpeg)
    site = build_site(tmp_path / "output", content=content, PHOTOS_MAX_PIXELS=3_000_000)
    assert site.exists("images/2024/lon-960w.webp")


def test_pelican_command_exits_non_zero(tmp_path):
    content = bad_site(tmp_path, "cat-cut.jpg", truncated_jpeg)
    result = run_tool(
        [sys.executable, "-m", "pelican", str(content), "-o", str(tmp_path / "output"),
         "-s", str(ROOT / "pelicanconf.py"), "--fatal", "errors"],
        env={"COLUMNS": "400"},
    )  # fmt: skip
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "bai-loi.md" in output and "images/2024/cat-cut.jpg" in output


def test_pelican_main_exits_non_zero(tmp_path, monkeypatch):
    import logging

    import pelican
    import pelican.log

    content = bad_site(tmp_path, "thieu.jpg", None)
    monkeypatch.chdir(ROOT)
    # pelican.main sets process-wide logging (fatal level, handlers): restore it after.
    monkeypatch.setattr(pelican.log.FatalLogger, "fatal_lvl", pelican.log.FatalLogger.fatal_lvl)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    with pytest.raises(SystemExit) as caught:
        pelican.main(
            [str(content), "-o", str(tmp_path / "output"), "-s", str(ROOT / "pelicanconf.py"),
             "--fatal", "errors"]
        )  # fmt: skip
    assert caught.value.code not in (0, None)


def test_unsupported_file_in_images_folder_stops_the_build(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    heic = sources / "x.heic"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic" + HOME)
    content = make_content(tmp_path, {"2024/a.md": article("A", "Chữ.")}, images={"x.heic": heic})
    with pytest.raises(PhotoError, match=r"images/x\.heic .*\(unsupported image format"):
        build_site(tmp_path / "output", content=content)


# --- the sample site --------------------------------------------------------------------------


def test_sample_site_photos_are_responsive_and_private(site):
    pictures = 0
    for page in site.files(".html"):
        soup = site.soup(page.relative_to(site.output))
        for img in soup.select(".article__body img"):
            assert img.find_parent("picture") is not None
            assert img.get("width") and img.get("height") and img.get("alt")
            pictures += 1
    assert pictures >= 10
    for path in site.files():
        if path.suffix in {".jpg", ".webp", ".png"} and "/images/" in str(path):
            with Image.open(path) as image:
                assert not image.getexif() and "exif" not in image.info, path


def test_webp_derivatives_are_smaller_than_the_jpeg_fallback(site):
    webp = sorted(site.output.glob("images/*/*-960w.webp"))
    assert webp
    for path in webp:
        assert path.stat().st_size < path.with_suffix(".jpg").stat().st_size


def test_derivative_bytes_are_reproducible(tmp_path):
    source = phone_jpeg(tmp_path / "a.jpg", size=(1000, 700), orientation=6)
    info = imaging.inspect_photo(str(source), 10**9)
    entries = []
    for name in ("one", "two"):
        imaging.build_into_cache(str(source), info, DEFAULT_OPTIONS, str(tmp_path / name))
        entries.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    assert entries[0] == entries[1]
    assert sorted(entries[0]) == sorted(
        ["original", "og.jpg", "thumb.webp", "thumb.jpg"]
        + ["w480.webp", "w480.jpg", "w700.webp", "w700.jpg"]  # upright 700 wide: no 960
    )
    with Image.open(io.BytesIO(entries[0]["original"])) as image:
        assert image.size == (700, 1000)


@pytest.mark.parametrize(
    "size, orientation",
    [((1600, 1067), 1), ((1001, 667), 1), ((333, 777), 1), ((2000, 1199), 6), ((700, 300), 8)],
)
def test_every_derivative_has_its_planned_size(tmp_path, size, orientation):
    source = phone_jpeg(tmp_path / "a.jpg", size=size, orientation=orientation)
    info = imaging.inspect_photo(str(source), 10**9)
    assert imaging.build_into_cache(str(source), info, DEFAULT_OPTIONS, str(tmp_path / "e")) is None
    for name, (fmt, width, height) in imaging.derivative_names(info, DEFAULT_OPTIONS).items():
        with Image.open(tmp_path / "e" / name) as image:
            assert image.size == (width, height), name
            assert image.format == fmt.upper()


def test_a_broken_photo_no_article_shows_still_stops_the_build(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    broken = truncated_jpeg(sources / "le.jpg")
    content = make_content(tmp_path, {"2024/a.md": article("A", "Chữ.")}, images={"le.jpg": broken})
    with pytest.raises(PhotoError) as caught:
        build_site(tmp_path / "output", content=content)
    assert re.search(r"content/images/le\.jpg: ảnh images/le\.jpg bị hỏng", str(caught.value))


def test_cache_entries_no_build_used_for_the_keep_period_are_deleted(tmp_path):
    sources = tmp_path / "sources"
    images = {"2024/a.jpg": phone_jpeg(sources / "a.jpg", size=(800, 600))}
    body = '![Ảnh A](images/2024/a.jpg "Ảnh A")'
    content = make_content(tmp_path, {"2024/a.md": article("Bài A", body)}, images=images)
    output = tmp_path / "output"
    build_site(output, content=content, PHOTOS_WORKERS=1)
    entries = Path(str(output) + "-cache") / "photos" / "entries"
    (used,) = [p for p in entries.glob("*/*")]
    month_ago = time.time() - 40 * 86400
    old = entries / "zz" / "old-entry"  # a replaced photo, not used for 40 days
    recent = entries / "zz" / "recent-entry"  # e.g. a draft's photo, previewed yesterday
    for folder, when in ((old, month_ago), (recent, time.time() - 86400), (used, month_ago)):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "original").write_bytes(b"x")
        os.utime(folder, (when, when))

    (content / "articles" / "2024" / "b.md").write_text(article("Bài B", "Chữ."), "utf-8")
    site = build_site(output, content=content, PHOTOS_WORKERS=1, PHOTOS_CACHE_DAYS=30)
    assert not old.exists()
    assert recent.exists()
    assert used.exists() and used.stat().st_mtime > time.time() - 600  # marked as used now
    assert site.exists("images/2024/a-480w.webp")  # published from the entry kept
