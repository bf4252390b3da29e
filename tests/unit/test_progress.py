"""The run's progress display: the whole run's bar and time left, counted as this run's own work."""

from __future__ import annotations

import io
import time

from rich.console import Console

from vlmbench.progress import RichRunProgress, RunTally


def test_the_tally_counts_what_is_left_and_done_in_this_run_only():
    tally = RunTally({"a": 100, "b": 50})
    assert (tally.total, tally.completed) == (150, 0)
    tally.start("a", 100)
    tally.advance_to("a", 40)  # a resumed job: 40 answered by an earlier run
    assert (tally.total, tally.completed) == (110, 0)
    tally.advance_to("a", 70)
    assert (tally.total, tally.completed) == (110, 30)
    tally.start("b", 50)
    tally.advance_to("b", 0)
    tally.advance_to("b", 10)
    assert (tally.total, tally.completed) == (110, 40)


def _display(planned: dict[str, int]) -> tuple[RichRunProgress, io.StringIO]:
    out = io.StringIO()
    return RichRunProgress(Console(file=out, width=120, force_terminal=False), planned), out


def test_two_planned_jobs_show_the_whole_runs_bar_with_time_left():
    progress, out = _display({"a": 20, "b": 20})
    with progress:
        progress.start("a", "job a", 20)
        progress.advance_to("a", 0)
        for done in (5, 10):  # rich's rate needs two steps some time apart
            time.sleep(0.1)
            progress.advance_to("a", done)
        overall = progress.progress.tasks[0]
        assert overall.fields["label"] == "all jobs (2)" and (overall.completed, overall.total) == (10, 40)
        assert overall.time_remaining is not None and overall.time_remaining > 0  # the overall ETA
        progress.advance_to("a", 20)
        progress.finish("a", "done")
        progress.start("b", "job b", 20)
        progress.advance_to("b", 0)  # an executor's first look, before its worker answered anything
        progress.advance_to("b", 5)
        progress.finish("b", "failed")  # its unanswered samples are no longer work left
    overall = progress.progress.tasks[0]
    assert (overall.completed, overall.total, overall.fields["state"]) == (25, 25, "done")
    assert "all jobs (2)" in out.getvalue()


def test_one_job_has_no_separate_overall_bar():
    progress, out = _display({"a": 5})
    with progress:
        progress.start("a", "job a", 5)
        progress.advance_to("a", 5)
        progress.finish("a", "done")
    assert [task.fields["label"] for task in progress.progress.tasks] == ["job a"]
    assert "all jobs" not in out.getvalue()
