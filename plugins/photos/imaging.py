"""photos.imaging: the Pillow side of the photos plugin.

Pure functions of (source file, options): inspect a photo, plan the sizes of its
derivatives, strip metadata, encode the derivatives into a folder. No Pelican import,
so the worker processes of a first build start fast.

Every published file is free of EXIF, GPS, XMP, IPTC, comments and trailing data
(phones append preview images or maker data after the JPEG end marker). The ICC colour
profile is kept: it is colour data, not personal data, and dropping it shifts colours.
"""

import contextlib
import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass

import PIL
from PIL import Image

# Formats re-encoded into derivatives; their published original is stripped.
PROCESSED_FORMATS = {"JPEG", "PNG", "WEBP"}
PROCESSED_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
# Published untouched, as the issue asks (animated GIFs, vector drawings).
PASSTHROUGH_SUFFIXES = {".gif", ".svg"}
# Camera and editor formats we refuse rather than publish with their metadata.
UNSUPPORTED_SUFFIXES = {
    ".heic", ".heif", ".avif", ".jxl", ".tif", ".tiff", ".bmp", ".dng", ".raw",
    ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".psd", ".jp2",
}  # fmt: skip

# Output formats: file suffix and MIME type.
SUFFIX = {"webp": "webp", "jpeg": "jpg", "avif": "avif", "png": "png"}
MIME = {"webp": "image/webp", "jpeg": "image/jpeg", "avif": "image/avif", "png": "image/png"}

# EXIF orientation → the transpose that makes the pixels upright.
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
ORIENTATION_TAG = 0x0112

# Problems, as (Vietnamese, English); {image} is the path the staff member wrote.
MESSAGES = {
    "missing": ("không tìm thấy ảnh {image}", "image not found"),
    "unsupported": (
        "ảnh {image} có định dạng không được hỗ trợ, hãy lưu lại thành JPEG, PNG hoặc WebP",
        "unsupported image format",
    ),
    "corrupt": (
        "ảnh {image} bị hỏng hoặc bị cắt cụt, không đọc được",
        "corrupt or truncated image",
    ),
    "too_large": (
        "ảnh {image} quá lớn, vượt giới hạn {limit} triệu điểm ảnh (PHOTOS_MAX_PIXELS)",
        "image exceeds the decompression bomb limit",
    ),
    "failed": ("không xử lý được ảnh {image}", "could not process the image"),
    "name_clash": (
        "ảnh {image} trùng tên với {other} sau khi tạo các cỡ ảnh, hãy đổi tên một ảnh",
        "two images map to the same derivative files",
    ),
    "no_alt": (
        "ảnh {image} không có mô tả (alt) và không có chú thích",
        "image has neither alt text nor caption",
    ),
}


class ImageProblem(Exception):
    """A photo that cannot be published. ``kind`` is a key of MESSAGES."""

    def __init__(self, kind, detail="", **fields):
        super().__init__(kind, detail, fields)
        self.kind = kind
        self.detail = detail
        self.fields = fields

    def __reduce__(self):  # workers send problems back pickled
        return (_problem, (self.kind, self.detail, self.fields))

    def describe(self, image):
        """The message for staff, naming ``image``: Vietnamese (English: detail)."""
        vietnamese, english = MESSAGES[self.kind]
        text = vietnamese.format(image=image, **self.fields)
        return f"{text} ({english}: {self.detail})" if self.detail else f"{text} ({english})"


def _problem(kind, detail, fields):
    return ImageProblem(kind, detail, **fields)


@dataclass(frozen=True)
class PhotoInfo:
    """What the HTML needs to know about a source image, read from its header."""

    sha256: str
    format: str  # Pillow's name: JPEG, PNG, WEBP, GIF; SVG for vector files
    width: int  # upright, after the EXIF orientation
    height: int
    orientation: int

    @property
    def processed(self):
        return self.format in PROCESSED_FORMATS


@dataclass(frozen=True)
class Options:
    """Processing settings, part of the cache key: made from the PHOTOS_* settings by
    ``photos.options_from_settings``, whose defaults are ``photos.DEFAULTS`` (none here)."""

    widths: tuple
    formats: tuple  # the last one is the <img> fallback
    quality: tuple  # ((format, quality), ...)
    webp_method: int
    original_quality: int
    thumb_size: tuple
    og_size: tuple
    max_pixels: int

    def quality_of(self, fmt):
        return dict(self.quality).get(fmt, 80)

    def fingerprint(self):
        """Everything that changes the bytes of a derivative."""
        data = asdict(self)
        del data["max_pixels"]  # a limit, not an encoding setting
        data["pillow"] = PIL.__version__
        # Bumped by hand when this module changes the bytes it writes: a digest of the code
        # would re-encode every photo after any edit here (minutes on a large archive).
        data["version"] = 1
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# --- planning: pure arithmetic shared by the HTML and the encoder --------------------------


def plan_widths(width, height, widths):
    """The (w, h) of each responsive derivative: the configured widths smaller than the
    photo, plus the photo's own width when it is not larger than the largest one.
    Never upscaled."""
    sizes = sorted({w for w in widths if w < width})
    if not widths or max(widths) >= width:
        sizes.append(width)
    return [(w, max(1, round(height * w / width))) for w in sizes]


def plan_crop(width, height, target):
    """The centred crop box (left, top, right, bottom) with the aspect of ``target``, and
    the output size: ``target``, or the crop itself when the photo is smaller."""
    tw, th = target
    if width * th > height * tw:  # wider than the target: cut the sides
        crop_w, crop_h = max(1, round(height * tw / th)), height
    else:
        crop_w, crop_h = width, max(1, round(width * th / tw))
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    out = (tw, th) if crop_w >= tw else (crop_w, crop_h)
    return (left, top, left + crop_w, top + crop_h), out


def derivative_names(info, options):
    """name in the cache folder → (format, width, height), for every derivative."""
    names = {}
    for w, h in plan_widths(info.width, info.height, options.widths):
        for fmt in options.formats:
            names[f"w{w}.{SUFFIX[fmt]}"] = (fmt, w, h)
    _, (w, h) = plan_crop(info.width, info.height, options.thumb_size)
    for fmt in options.formats:
        names[f"thumb.{SUFFIX[fmt]}"] = (fmt, w, h)
    _, (w, h) = plan_crop(info.width, info.height, options.og_size)
    names["og.jpg"] = ("jpeg", w, h)
    return names


# --- reading -------------------------------------------------------------------------------


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def pixel_limit(max_pixels):
    """Pillow's decompression-bomb guard at ``max_pixels``, its warning an error too."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def open_image(source, max_pixels):
    """Image.open with our limit; problems become ImageProblem."""
    try:
        image = Image.open(source)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ImageProblem("too_large", str(error), limit=max_pixels // 1_000_000) from None
    except FileNotFoundError:
        raise ImageProblem("missing") from None
    except Image.UnidentifiedImageError:
        raise ImageProblem("corrupt", "not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageProblem("corrupt", str(error)) from None
    if image.width * image.height > max_pixels:
        image.close()
        raise ImageProblem(
            "too_large",
            f"{image.width}x{image.height} pixels",
            limit=max_pixels // 1_000_000,
        )
    return image


def read_orientation(image):
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block is not a reason to refuse the photo
        return 1
    return value if value in TRANSPOSE else 1


def inspect_photo(path, max_pixels, with_hash=True):
    """PhotoInfo from the file's header (no pixel decoding). Raises ImageProblem.
    ``with_hash=False`` (for checks) skips hashing the whole file; sha is then None."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix in UNSUPPORTED_SUFFIXES:
        raise ImageProblem("unsupported", suffix)
    if not os.path.isfile(path):
        raise ImageProblem("missing")
    sha = file_sha256(path) if with_hash else None
    if suffix == ".svg":
        return PhotoInfo(sha, "SVG", 0, 0, 1)
    with pixel_limit(max_pixels):
        image = open_image(path, max_pixels)
        with image:
            if image.format not in PROCESSED_FORMATS | {"GIF"}:
                raise ImageProblem("unsupported", image.format or suffix)
            orientation = read_orientation(image) if image.format != "GIF" else 1
            width, height = image.size
    if orientation >= 5:
        width, height = height, width
    return PhotoInfo(sha, image.format, width, height, orientation)


# --- lossless metadata stripping -------------------------------------------------------------

_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def strip_jpeg(data):
    """The JPEG without EXIF/XMP/IPTC/comments/JFIF thumbnail/trailing data; the
    compressed image data is copied byte for byte."""
    if data[:2] != b"\xff\xd8":
        raise ImageProblem("corrupt", "no JPEG start marker")
    out = [b"\xff\xd8"]
    pos = 2
    size = len(data)
    while True:
        if pos >= size or data[pos] != 0xFF:
            raise ImageProblem("corrupt", "JPEG structure broken or truncated")
        while pos < size and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= size:
            raise ImageProblem("corrupt", "JPEG truncated")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # end of image: anything after it is dropped
            out.append(b"\xff\xd9")
            return b"".join(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(bytes((0xFF, marker)))
            continue
        if pos + 2 > size:
            raise ImageProblem("corrupt", "JPEG truncated")
        length = int.from_bytes(data[pos : pos + 2], "big")
        end = pos + length
        if length < 2 or end > size:
            raise ImageProblem("corrupt", "JPEG truncated")
        payload = data[pos + 2 : end]
        if marker == 0xE0:
            if payload.startswith(b"JFIF\x00") and len(payload) >= 14:
                # keep version and density, drop the embedded thumbnail
                out.append(b"\xff\xe0\x00\x10" + payload[:12] + b"\x00\x00")
        elif marker == 0xE2:
            if payload.startswith(b"ICC_PROFILE\x00"):
                out.append(data[pos - 2 : end])
        elif marker == 0xEE:
            if payload.startswith(b"Adobe"):  # colour transform flag, needed to decode
                out.append(data[pos - 2 : end])
        elif 0xE1 <= marker <= 0xEF or marker == 0xFE:
            pass  # EXIF/GPS, XMP, IPTC, maker data, C2PA, comments
        else:
            out.append(data[pos - 2 : end])
        pos = end
        if marker == 0xDA:  # start of scan: copy the entropy-coded data
            match = _JPEG_MARKER.search(data, pos)
            if match is None:
                raise ImageProblem("corrupt", "JPEG truncated (no end marker)")
            out.append(data[pos : match.start()])
            pos = match.start()


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
    b"sBIT", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT", b"cICP",
}  # fmt: skip


def strip_png(data):
    """The PNG with only image and colour chunks (no text, XMP, eXIf, time)."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ImageProblem("corrupt", "no PNG signature")
    out = [_PNG_SIGNATURE]
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            break
        if kind in _PNG_KEEP:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            return b"".join(out)
    raise ImageProblem("corrupt", "PNG truncated (no IEND chunk)")


def strip_webp(data):
    """The WebP without its EXIF and XMP chunks (and their flags in VP8X)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ImageProblem("corrupt", "no WebP header")
    chunks = []
    pos = 12
    riff_end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while pos + 8 <= riff_end:
        kind = data[pos : pos + 4]
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        end = pos + 8 + length + (length & 1)
        if pos + 8 + length > len(data):
            raise ImageProblem("corrupt", "WebP truncated")
        chunk = data[pos : min(end, len(data))]
        if kind == b"VP8X":
            flags = chunk[8] & ~(0x08 | 0x04)  # clear the EXIF and XMP flags
            chunk = chunk[:8] + bytes((flags,)) + chunk[9:]
        if kind not in (b"EXIF", b"XMP "):
            chunks.append(chunk)
        pos = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


STRIP = {"JPEG": strip_jpeg, "PNG": strip_png, "WEBP": strip_webp}


# --- encoding ----------------------------------------------------------------------------


def _flatten(image, fmt):
    """A mode the format can store: RGB, or RGBA where transparency is kept."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha and fmt in ("webp", "png", "avif"):
        return image if image.mode == "RGBA" else image.convert("RGBA")
    if has_alpha:  # JPEG: on the page's white
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def encode(image, fmt, quality, icc_profile, path, webp_method=4, light=False):
    """Save ``image`` as ``fmt`` with no metadata but the ICC profile. JPEGs for readers
    are progressive (a first view early on a slow line); ``light`` skips that work."""
    image = _flatten(image, fmt)
    image.info = {}
    params = {"icc_profile": icc_profile} if icc_profile else {}
    if fmt == "jpeg":
        params.update(quality=quality, optimize=not light, progressive=not light)
    elif fmt == "webp":
        params.update(quality=quality, method=webp_method)
    elif fmt == "avif":
        params.update(quality=quality)
    elif fmt == "png":
        params.update(optimize=False)
    image.save(path, format=fmt.upper(), **params)


def _decode(data, info, scale, max_pixels):
    """The upright pixels at (at least) ``scale`` of the full size, decoded with JPEG
    DCT scaling when that is enough."""
    with pixel_limit(max_pixels):
        image = open_image(io.BytesIO(data), max_pixels)
        try:
            if image.format == "JPEG" and scale < 1:
                stored_w, stored_h = image.size
                image.draft(None, (math.ceil(stored_w * scale), math.ceil(stored_h * scale)))
            image.load()
        except ImageProblem:
            raise
        except Exception as error:  # truncated data, broken Huffman tables, …
            raise ImageProblem("corrupt", str(error)) from None
    icc = image.info.get("icc_profile") if image.mode != "CMYK" else None
    if info.orientation in TRANSPOSE:
        image = image.transpose(TRANSPOSE[info.orientation])
    return image, icc


def write_original(data, info, options, path):
    """The published original: metadata stripped without re-encoding, or, when the
    EXIF orientation must be applied, re-encoded upright. Returns the upright pixels
    when it had to decode them (the derivatives reuse them), else None."""
    if info.orientation == 1:
        with open(path, "wb") as handle:
            handle.write(STRIP[info.format](data))
        return None
    image, icc = _decode(data, info, 1, options.max_pixels)
    fmt = info.format.lower()
    # Plain baseline JPEG: a 24-megapixel progressive, optimised encode costs 3x the time
    # for a file that only a few people download.
    encode(image, fmt, options.original_quality, icc, path, options.webp_method, light=True)
    return image, icc


def write_derivatives(data, info, options, folder, decoded=None):
    """Every derivative of ``derivative_names`` into ``folder``. Each one is resized from
    the smallest image already at hand that still has the resolution it needs: the
    decode (at a JPEG DCT scale when enough), then the largest derivative."""
    names = derivative_names(info, options)
    boxes = {"w": (0, 0, info.width, info.height)}
    boxes["thumb"], _ = plan_crop(info.width, info.height, options.thumb_size)
    boxes["og"], _ = plan_crop(info.width, info.height, options.og_size)

    def box_of(name):
        return boxes["w" if name.startswith("w") else name.split(".")[0]]

    def scale_needed(name):
        _fmt, w, _h = names[name]
        left, _top, right, _bottom = box_of(name)
        return w / (right - left)

    needed = max(scale_needed(name) for name in names)
    if decoded is None:
        decoded = _decode(data, info, min(1.0, needed), options.max_pixels)
    image, icc = decoded
    # (image, its pixels per upright source pixel), largest first
    sources = [(image, image.width / info.width)]
    done = {}
    for name in sorted(names, key=scale_needed, reverse=True):
        fmt, w, h = names[name]
        key = (box_of(name), w, h)
        if key not in done:
            scale = scale_needed(name)
            source, factor = min((s for s in sources if s[1] >= scale * 0.999), key=lambda s: s[1])
            left, top, right, bottom = (v * factor for v in box_of(name))
            # rounded derivative sizes can fall a fraction of a pixel short of the box
            box = (left, top, min(right, source.width), min(bottom, source.height))
            done[key] = source.resize((w, h), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
            if name.startswith("w"):
                sources.append((done[key], w / info.width))
        encode(
            done[key],
            fmt,
            options.quality_of(fmt),
            icc,
            os.path.join(folder, name),
            options.webp_method,
        )


def build_entry(source, info, options, folder):
    """Fill ``folder`` with the stripped original and every derivative of ``source``.
    Returns None, or the ImageProblem (workers hand problems back as values)."""
    try:
        with open(source, "rb") as handle:
            data = handle.read()
        if file_sha256_bytes(data) != info.sha256:
            raise ImageProblem("corrupt", "the file changed during the build")
        decoded = write_original(data, info, options, os.path.join(folder, "original"))
        write_derivatives(data, info, options, folder, decoded)
    except ImageProblem as problem:
        return problem
    except FileNotFoundError:
        return ImageProblem("missing")
    except Exception as error:  # an encoder failure must still name the image
        return ImageProblem("failed", f"{type(error).__name__}: {error}")
    return None


def file_sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def build_into_cache(source, info, options, cache_dir):
    """Build the entry of ``source`` in a temporary folder next to ``cache_dir``, then
    rename it into place: a cache entry is complete or absent, never half-written.
    Runs in worker processes. Returns None or the ImageProblem."""
    parent = os.path.dirname(cache_dir)
    os.makedirs(parent, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
    try:
        problem = build_entry(source, info, options, folder)
        if problem is None:
            try:
                os.rename(folder, cache_dir)
            except OSError:  # built meanwhile by another build: keep that one
                if not os.path.isdir(cache_dir):
                    raise
        return problem
    finally:
        shutil.rmtree(folder, ignore_errors=True)
