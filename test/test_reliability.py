"""With 30% of ECS calls failing, every job still ends, each launched exactly once, none lost."""

from __future__ import annotations

from test.reliability_scenario import run_scenario


def test_jobs_survive_transient_ecs_failures() -> None:
    report = run_scenario(jobs=60, failure_rate=0.3, seed=11, timeout=240)
    assert report["injected"] and report["ecs_calls"] > report["submitted"], report  # the faults happened
    assert report["lost"] == 0 and report["unfinished"] == 0, report
    assert report["launched"] == report["submitted"] and report["duplicates"] == 0, report
    assert report["statuses"] == {"succeeded": report["submitted"]}, report
