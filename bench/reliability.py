"""`make reliability` (part of issue #5's evidence): 1,000 jobs against moto with 30% of ECS calls
failing transiently (throttling both ways, capacity failures[], 5xx, no connection, lost RunTask
answers). Prints submitted / launched / duplicates / lost / time, and what was injected.

    python bench/reliability.py [--jobs 1000] [--failure-rate 0.3] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from test.reliability_scenario import run_scenario  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--failure-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the injected failures are expected: keep the report readable
    report = run_scenario(args.jobs, args.failure_rate, seed=args.seed)
    print("| submitted | launched | duplicates | lost | unfinished | time | ECS calls | injected faults |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {report['submitted']} | {report['launched']} | {report['duplicates']} | {report['lost']} | "
          f"{report['unfinished']} | {report['seconds']} s | {report['ecs_calls']} | "
          f"{sum(report['injected'].values())} |")
    print(json.dumps(report, indent=2))
    ok = (report["lost"] == 0 and report["duplicates"] == 0 and report["unfinished"] == 0
          and report["launched"] == report["submitted"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
