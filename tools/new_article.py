"""`make new TITLE="…" [CATEGORY="…"]`: start a new article from a complete template.

Creates content/articles/<year>/<slug>.md with every metadata line filled in (Date is now
in Asia/Ho_Chi_Minh, Status: draft) and prints its path. Never overwrites a file.
"""

import argparse
import os
import sys

from pelican.settings import read_settings

from plugins.vn_text import nfc, now_in_vietnam, slugify

TEMPLATE = """Title: {title}
Date: {date}
Category: {category}
Tags:
Author: {author}
Summary:
Status: draft

Viết đoạn mở đầu ở đây: ai, làm gì, khi nào, ở đâu.

Ảnh: chép ảnh vào thư mục content/images/{year}/ rồi viết một dòng riêng dạng
dấu chấm than, chú thích trong ngoặc vuông, đường dẫn images/{year}/ten-anh.jpg trong ngoặc đơn
(xem README). Khi bài đã xong, xóa dòng "Status: draft" để đăng bài.
"""


def new_article(title, category, settings, now=None):
    """Write the new article and return its path; raise ValueError with a message."""
    title = nfc(" ".join((title or "").split()))
    if not title:
        raise ValueError(
            'cần có tiêu đề: make new TITLE="Tiêu đề bài viết" (a TITLE is required)'
        )
    categories = [nfc(c) for c in settings.get("SITE_CATEGORIES", [])]
    category = nfc(category.strip()) if category else settings.get("DEFAULT_CATEGORY", "")
    if categories and category not in categories:
        raise ValueError(
            f'chuyên mục "{category}" không có; chọn một trong: {", ".join(categories)} '
            f'(unknown category "{category}")'
        )
    now = now or now_in_vietnam()
    folder = os.path.join(settings["PATH"], settings.get("ARTICLE_PATHS", ["articles"])[0],
                          f"{now:%Y}")  # fmt: skip
    path = os.path.join(folder, f"{slugify(title)}.md")
    if os.path.exists(path):
        raise ValueError(f"{os.path.relpath(path)} đã có, không ghi đè (file already exists)")
    os.makedirs(folder, exist_ok=True)
    text = TEMPLATE.format(
        title=title,
        date=f"{now:%Y-%m-%d %H:%M}",
        category=category,
        author=settings.get("OFFICE_SHORT_NAME") or settings.get("AUTHOR", ""),
        year=f"{now:%Y}",
    )
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(text)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="make new")
    parser.add_argument("--title", default=os.environ.get("TITLE", ""))
    parser.add_argument("--category", default=os.environ.get("CATEGORY", ""))
    parser.add_argument("-s", "--settings", default="pelicanconf.py")
    parser.add_argument("--content", help="content folder (default: PATH of the settings)")
    args = parser.parse_args(argv)
    override = {"PATH": os.path.abspath(args.content)} if args.content else {}
    settings = read_settings(args.settings, override=override)
    try:
        path = new_article(args.title, args.category, settings)
    except ValueError as error:
        print(f"lỗi: {error}", file=sys.stderr)
        return 1
    print(os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
