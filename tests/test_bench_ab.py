"""bench/bench_ab.py: two versions of the code timed alternating, their outputs compared."""

from bench import bench_ab
from tests.conftest import ROOT


def test_the_same_code_twice_makes_the_same_site_and_is_timed_each_round(tmp_path):
    base = tmp_path / "base"
    commit = bench_ab.export("HEAD", base)
    assert len(commit) == 40 and (base / "pelicanconf.py").is_file()
    times, cpu, differ = bench_ab.compare(40, base, ROOT, rounds=2, kinds=["recent"],
                                          search=False, work=tmp_path / "ab")  # fmt: skip
    assert differ == []
    for measured in (times, cpu):
        assert len(measured["recent"]["base"]) == len(measured["recent"]["target"]) == 2
        assert all(s > 0 for s in measured["recent"]["base"] + measured["recent"]["target"])


def test_a_target_that_makes_another_site_is_reported(tmp_path):
    base, target = tmp_path / "base", tmp_path / "target"
    bench_ab.export("HEAD", base)
    bench_ab.export("HEAD", target)
    footer = target / "theme" / "templates" / "partials" / "footer.html"
    footer.write_text(footer.read_text(encoding="utf-8") + "<!-- khác -->\n", encoding="utf-8")
    _, _, differ = bench_ab.compare(40, base, target, rounds=1, kinds=["new"], search=False,
                                    work=tmp_path / "ab")  # fmt: skip
    assert "index.html" in differ and "sitemap.xml" not in differ


def test_a_setting_change_reaches_both_builds_each_round(tmp_path):
    base = tmp_path / "base"
    bench_ab.export("HEAD", base)
    times, _, differ = bench_ab.compare(40, base, ROOT, rounds=2, kinds=["setting"],
                                        search=False, work=tmp_path / "ab")  # fmt: skip
    assert differ == [] and len(times["setting"]["target"]) == 2
    for name in ("base", "target"):
        footer = (tmp_path / "ab" / name / "output" / "index.html").read_text(encoding="utf-8")
        assert bench_ab.PHONE.format(1) in footer and bench_ab.PHONE.format(0) not in footer
