"""`make fix`: convert content files typed in legacy encodings to UTF-8 NFC, in place.

Windows-1258, UTF-16, and Vietnamese typed with the TCVN3 (ABC) or VNI keyboards and
saved as Latin text are detected (plugins/vn_text/legacy.py); each converted file is
first copied to <file>.bak. Files already in UTF-8 are only re-normalised to NFC.
"""

import argparse
import os
import shutil
import sys

from pelican.settings import read_settings

from plugins.content_check.content_check import source_files
from plugins.content_check.rules import ENCODING_NAMES
from plugins.incremental.state import write_atomically
from plugins.photos.photos import display_path
from plugins.vn_text.legacy import decode_bytes


def backup_path(path):
    candidate = path + ".bak"
    number = 1
    while os.path.exists(candidate):
        candidate = f"{path}.bak{number}"
        number += 1
    return candidate


def fix_file(path):
    """Convert one file if needed. Returns (encoding found, backup path or None)."""
    with open(path, "rb") as handle:
        data = handle.read()
    text, encoding = decode_bytes(data)  # NFC
    fixed = text.encode("utf-8")
    if fixed == data or (encoding == "utf-8" and data.startswith(b"\xef\xbb\xbf")
                         and data[3:] == fixed):  # fmt: skip
        return encoding, None
    backup = backup_path(path)
    shutil.copy2(path, backup)
    write_atomically(path, fixed)
    return encoding, backup


def main(argv=None):
    parser = argparse.ArgumentParser(prog="make fix")
    parser.add_argument("files", nargs="*", help="files to fix (default: all content)")
    parser.add_argument("-s", "--settings", default="pelicanconf.py")
    parser.add_argument("--content", help="content folder (default: PATH of the settings)")
    args = parser.parse_args(argv)
    override = {"PATH": os.path.abspath(args.content)} if args.content else {}
    settings = read_settings(args.settings, override=override)
    files = args.files or source_files(settings)
    fixed = 0
    for path in files:
        encoding, backup = fix_file(path)
        if backup is None:
            continue
        fixed += 1
        name = ENCODING_NAMES.get(encoding, "UTF-8 (chưa chuẩn NFC)")
        print(
            f"{display_path(path)}: đã chuyển từ {name} sang UTF-8, bản cũ ở "
            f"{display_path(backup)} (converted from {encoding} to UTF-8 NFC)"
        )
    print(f"Đã sửa {fixed} tệp (fixed {fixed} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
