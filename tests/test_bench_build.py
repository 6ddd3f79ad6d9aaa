"""bench/bench_build.py: the helpers that pick what a row of the table shows."""

import pytest

from bench import bench_build


@pytest.mark.parametrize(("walls", "shown"), [
    ([3.1], 3.1),
    ([2.9, 3.4, 2.7], 2.9),
    ([3.4, 2.7, 2.9], 2.9),
    ([2.5, 2.6, 2.8, 3.9], 2.8),  # an even number: the upper middle run
    ([3.0, 3.0, 2.0], 3.0),
])  # fmt: skip
def test_median_run_shows_the_run_of_median_wall_time_and_every_wall_time(walls, shown):
    runs = [{"wall": wall, "cpu": wall * 2, "rss_mb": number} for number, wall in enumerate(walls)]
    row = bench_build.median_run(runs)
    assert row["wall"] == shown
    assert row["walls"] == walls
    # The other figures are those of that same run, not mixed from several.
    chosen = next(run for run in runs if run["wall"] == shown)
    assert (row["cpu"], row["rss_mb"]) == (chosen["cpu"], chosen["rss_mb"])


def test_median_run_of_no_run_is_an_error():
    with pytest.raises(ValueError):
        bench_build.median_run([])


def test_repeated_makes_the_change_before_each_build():
    events = []

    def change():
        events.append("change")

    def build():
        events.append("build")
        return {"wall": float(len(events))}

    row = bench_build.repeated(3, change, build)
    assert events == ["change", "build"] * 3
    assert row["walls"] == [2.0, 4.0, 6.0] and row["wall"] == 4.0


def test_run_reports_the_memory_of_the_process_and_all_it_started():
    # A script that starts a child holding 160 MB of its own: the script's own peak stays
    # below that, the sum over both shows the child's 160 MB.
    script = (
        "import resource, subprocess, sys, time\n"
        "started = time.perf_counter()\n"
        "subprocess.run([sys.executable, '-c', "
        "'import time; data = b\"x\" * (160 * 2**20); time.sleep(0.6)'])\n"
    )
    figures = bench_build.run(script, {})
    assert figures["rss_mb"] < 160 <= figures["worker_rss_mb"]
    assert figures["tree_pss_mb"] > 160 and figures["tree_rss_mb"] >= figures["tree_pss_mb"]
    assert figures["wall"] > 0.5 and figures["sampler_cpu"] >= 0
