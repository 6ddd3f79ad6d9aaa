"""`make check`: lint every content file without building.

    python -m plugins.content_check [-s pelicanconf.py]

Prints each problem as ``path:line: lỗi|cảnh báo: message (English)`` and exits 1 when
there is at least one error (warnings alone exit 0).
"""

import argparse
import os
import sys

from pelican.settings import read_settings

from plugins.content_check.content_check import check_tree
from plugins.content_check.rules import ERROR


def main(argv=None):
    parser = argparse.ArgumentParser(prog="make check", description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--settings", default="pelicanconf.py")
    parser.add_argument("--content", help="content folder (default: PATH of the settings)")
    parser.add_argument("--cache", help="cache folder (default: CACHE_PATH of the settings)")
    args = parser.parse_args(argv)
    override = {"PATH": os.path.abspath(args.content)} if args.content else {}
    if args.cache:
        override["CACHE_PATH"] = os.path.abspath(args.cache)
    settings = read_settings(args.settings, override=override)
    reports, problems = check_tree(settings)
    for problem in problems:
        print(problem.format())
    errors = sum(1 for p in problems if p.level == ERROR)
    warnings = len(problems) - errors
    print(
        f"Đã kiểm tra {len(reports)} tệp: {errors} lỗi, {warnings} cảnh báo "
        f"(checked {len(reports)} files: {errors} errors, {warnings} warnings)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
