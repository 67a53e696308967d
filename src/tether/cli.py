"""`tether`: migrate, roll back, show status, play the demo, check queries, draw the schema.

Every command reaches the database named by `--database`, else `$DATABASE_URL`,
else the embedded server (started on demand, data under `.tether/`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tether import embedded, migrations
from tether.database import configured_url, redact


def _url(args: argparse.Namespace) -> str:
    url: str | None = args.database or configured_url()
    return url or embedded.start()


def _say(text: str) -> None:
    print(text, flush=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    url = _url(args)
    _say(f"migrating {redact(url)}")
    applied = migrations.migrate(url, progress=_say)
    _say(f"{len(applied)} migration(s) applied" if applied else "already up to date")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    url = _url(args)
    _say(f"rolling back {redact(url)}")
    undone = migrations.rollback(url, count=None if args.all else args.count, progress=_say)
    _say(f"{len(undone)} migration(s) rolled back" if undone else "nothing to roll back")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    url = _url(args)
    _say(f"migrations of {redact(url)}")
    for migration_id, applied in migrations.status(url):
        _say(f"  [{'x' if applied else ' '}] {migration_id}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tether.demo import run

    asyncio.run(run(_url(args), out=_say))
    return 0


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cmd_check(args: argparse.Namespace) -> int:
    from tether.check import command

    return asyncio.run(command(_url(args), out=_say, note=_note))


def cmd_erd(args: argparse.Namespace) -> int:
    from tether.erd import command

    return command(_url(args), args.domain, args.write_readme, out=_say, note=_note)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="tether", description=__doc__)
    top.add_argument(
        "--database",
        metavar="URL",
        help="postgresql:// URL (default: $DATABASE_URL, else the embedded server)",
    )
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply every pending migration").set_defaults(
        run=cmd_migrate
    )
    back = commands.add_parser("rollback", help="roll back the last migration(s)")
    back.add_argument("--count", type=int, default=1, help="how many (default 1)")
    back.add_argument("--all", action="store_true", help="roll back every migration")
    back.set_defaults(run=cmd_rollback)
    commands.add_parser("status", help="list migrations, applied or not").set_defaults(
        run=cmd_status
    )
    commands.add_parser(
        "demo", help="play the planner story (seed 001) in a fresh database `tether_demo`"
    ).set_defaults(run=cmd_demo)
    commands.add_parser(
        "check",
        help="check every query in sql/ and the schema against a scratch database, "
        "one line per finding",
    ).set_defaults(run=cmd_check)
    erd = commands.add_parser(
        "erd", help="Mermaid ER diagrams of the domain schemas, from a scratch database"
    )
    erd.add_argument("domain", nargs="?", help="one schema (default: every domain schema)")
    erd.add_argument(
        "--write-readme",
        nargs="?",
        type=Path,
        const=Path("README.md"),
        metavar="PATH",
        help="rewrite the diagrams between <!-- erd:<schema> --> markers (default README.md)",
    )
    erd.set_defaults(run=cmd_erd)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except BrokenPipeError:
        # The reader went away (`tether erd | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


if __name__ == "__main__":
    sys.exit(main())
