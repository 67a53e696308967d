"""python -m benchmarks [DOMAIN ...] [--quick] [--rounds N] [--output PATH] [--show] [--profile]
                       [--replicas] [--scoped]

Compares tether with bare asyncpg and the SQLAlchemy 2 async ORM on the same
tables (and, where a domain names them, with dedicated tools), prints Markdown
tables and writes results.json. See docs/benchmarks.md for what is measured and
how to read it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from attrs import evolve

from .report import markdown
from .run import MODES, profile_tether, run

RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "domains", nargs="*", metavar="DOMAIN", help="the domains to measure (default: all)"
    )
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument(
        "--quick",
        action="store_const",
        dest="mode",
        const="quick",
        help="fewer rounds and operations: about two minutes on 2 cores",
    )
    modes.add_argument(
        "--smoke",
        action="store_const",
        dest="mode",
        const="smoke",
        help="every scenario once on tiny data (the test suite's; no real numbers)",
    )
    parser.add_argument("--rounds", type=int, help="override the mode's number of rounds")
    parser.add_argument(
        "--database",
        default="tether_bench",
        help="database to (re)create on the server (default tether_bench)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help=f"where to write the results (default {RESULTS.name} beside this file)",
    )
    parser.add_argument(
        "--show",
        action="store_true",
        help="print the table of an earlier run's results (--output) and stop",
    )
    parser.add_argument(
        "--replicas",
        action="store_true",
        help="also measure reads on a hot standby (benchmarks/replicas.py: a private "
        "primary and standby, about a minute more in full mode)",
    )
    parser.add_argument(
        "--scoped",
        action="store_true",
        help="also run each scenario that names its tenant inside an open transaction, "
        "unscoped and scoped by db.tenant() (row-level security), and measure what "
        "scoping a request costs",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of measuring: cProfile tether's operations, print the top",
    )
    args = parser.parse_args()

    if args.show:
        print(markdown(json.loads(args.output.read_text())))
        return
    mode = MODES[args.mode or "full"]
    if args.rounds:
        mode = evolve(mode, rounds=args.rounds)

    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:4.0f} s] {message}", file=sys.stderr, flush=True)

    if args.profile:
        profile = profile_tether(
            mode, database=args.database, operations=1000, top=40, domains=args.domains
        )
        print(asyncio.run(profile))
        return
    results = asyncio.run(
        run(
            mode,
            database=args.database,
            progress=progress,
            domains=args.domains,
            replicas=args.replicas,
            scoped=args.scoped,
        )
    )
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
