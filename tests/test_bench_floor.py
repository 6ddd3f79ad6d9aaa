"""bench/bench_floor.py: the floor against the budget, and a failed step stops it."""

import pytest

from bench import bench_floor


@pytest.mark.parametrize(("stock", "parts", "cores", "budget", "floor"), [
    ([24.0], [[6.0], [15.0]], 2, 24.0, 21.0),
    ([24.0, 26.0], [[6.5, 6.0], [18.0, 15.5]], 2, 26.0, 21.5),  # largest budget, least floor
    ([24.0], [[6.0], [15.0]], 4, 48.0, 21.0),  # more cores, more CPU in the same half
    ([10.0], [[6.0], [15.0], [3.0, 3.2]], 2, 10.0, 24.0),  # nothing left: negative
])  # fmt: skip
def test_verdict_pairs_the_largest_budget_with_the_least_floor(stock, parts, cores, budget, floor):
    result = bench_floor.verdict(stock, parts, cores)
    assert result["budget"] == pytest.approx(budget)
    assert result["floor"] == pytest.approx(floor)
    assert result["left"] == pytest.approx(budget - floor)


def test_a_step_counts_only_the_cpu_from_its_start():
    # 0.5 s of CPU spent before START (set-up) is left out; what comes after is counted.
    spend = "t = time.process_time()\nwhile time.process_time() - t < {}: pass\n"
    script = ("import resource, time\n" + spend.format(0.5) + bench_floor.START
              + spend.format(0.2) + bench_floor.REPORT)  # fmt: skip
    figures = bench_floor.fresh(script)
    assert 0.2 <= figures["cpu"] < 0.45 and 0.2 <= figures["wall"]


def test_fresh_stops_with_the_output_of_a_failed_step():
    with pytest.raises(SystemExit, match="(?s)a step failed.*ZeroDivisionError"):
        bench_floor.fresh("1 / 0")


def test_the_smallest_pages_hold_each_article_title_and_body(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "bai-mot.md").write_text(
        "Title: Bài một & hai\nDate: 2024-01-02\n\nĐoạn *một*.\n", encoding="utf-8")
    site = tmp_path / "pages"
    bench_floor.fresh(bench_floor.MARKDOWN.format(articles=str(articles), site=str(site)))
    page = (site / "bai-mot.html").read_text(encoding="utf-8")
    assert "<title>Bài một &amp; hai</title>" in page
    assert "<main data-pagefind-body><h1>Bài một &amp; hai</h1><p>Đoạn <em>một</em>.</p>" in page


def test_the_related_lists_step_runs_on_the_generated_articles():
    figures = bench_floor.fresh(bench_floor.RELATED.format(root=str(bench_floor.ROOT), size=30))
    assert figures["cpu"] > 0
