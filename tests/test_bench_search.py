"""bench/bench_search.py: it reads the manifest of its build as the incremental build does."""

from pathlib import Path

import pytest

from bench.bench_search import build_outputs_of


def test_the_benchmark_finds_what_its_build_wrote(site):
    outputs = build_outputs_of(Path(site.settings["CACHE_PATH"]), site.output)
    pages = {p.relative_to(site.output).as_posix() for p in site.output.rglob("*.html")}
    assert "index.html" in outputs and pages <= set(outputs)
    assert all(len(entry) == 3 for entry in outputs.values())  # fingerprint, size, mtime


def test_no_manifest_is_a_clear_stop(tmp_path):
    with pytest.raises(SystemExit, match="no manifest"):
        build_outputs_of(tmp_path / "cache", tmp_path / "output")
