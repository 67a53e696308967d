"""`tether`: migrate, roll back, show status, play the demo, check queries, draw the schema,
plan its distribution.

Every command reaches the database named by `--database`, else `$DATABASE_URL`,
else the embedded server (started on demand, data under `.tether/`). Commands
that take DOMAIN names work on `common` and those domains only (default: all).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tether import domains as registry
from tether import embedded, migrations
from tether.database import configured_url, redact


def _url(args: argparse.Namespace) -> str:
    url: str | None = args.database or configured_url()
    return url or embedded.start()


def _say(text: str) -> None:
    print(text, flush=True)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _chosen(names: Sequence[str]) -> str:
    return ", ".join(["common", *names]) if names else "every domain"


def cmd_migrate(args: argparse.Namespace) -> int:
    url = _url(args)
    _say(f"migrating {redact(url)} ({_chosen(args.domains)})")
    applied = migrations.migrate(url, progress=_say, domains=args.domains)
    _say(f"{len(applied)} migration(s) applied" if applied else "already up to date")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    url = _url(args)
    _say(f"rolling back {redact(url)} ({args.domain or 'every domain and common'})")
    undone = migrations.rollback(
        url, count=None if args.all else args.count, progress=_say, domain=args.domain
    )
    _say(f"{len(undone)} migration(s) rolled back" if undone else "nothing to roll back")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    url = _url(args)
    _say(f"migrations of {redact(url)} ({_chosen(args.domains)})")
    for migration_id, applied in migrations.status(url, domains=args.domains):
        _say(f"  [{'x' if applied else ' '}] {migration_id}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tether.stories import run

    asyncio.run(run(_url(args), args.domains, out=_say))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from tether.check import command

    return asyncio.run(command(_url(args), out=_say, note=_note, domains=args.domains))


def cmd_erd(args: argparse.Namespace) -> int:
    from tether.erd import command

    return command(_url(args), args.domains, args.write_docs, out=_say, note=_note)


def cmd_distribution(args: argparse.Namespace) -> int:
    from tether.distribution import command

    return command(_url(args), args.domains, args.write_docs, out=_say, note=_note)


def _domains(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "domains",
        nargs="*",
        metavar="DOMAIN",
        help=f"{what} (default: every domain; one of {', '.join(registry.names())})",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="tether", description=__doc__)
    top.add_argument(
        "--database",
        metavar="URL",
        help="postgresql:// URL (default: $DATABASE_URL, else the embedded server)",
    )
    commands = top.add_subparsers(dest="command", required=True)
    migrate = commands.add_parser("migrate", help="apply the pending migrations")
    _domains(migrate, "apply common and these domains")
    migrate.set_defaults(run=cmd_migrate)
    back = commands.add_parser("rollback", help="roll back the last migration(s)")
    back.add_argument(
        "domain",
        nargs="?",
        metavar="DOMAIN",
        help="only this domain's migrations, leaving common and the others "
        "(default: the last migrations of all)",
    )
    count = back.add_mutually_exclusive_group()
    count.add_argument("--count", type=int, default=1, help="how many (default 1)")
    count.add_argument("--all", action="store_true", help="every one of them")
    back.set_defaults(run=cmd_rollback)
    status = commands.add_parser("status", help="list migrations, applied or not")
    _domains(status, "common and these domains")
    status.set_defaults(run=cmd_status)
    demo = commands.add_parser(
        "demo", help="play each domain's story, each in a fresh database tether_demo_<domain>"
    )
    _domains(demo, "the stories to play")
    demo.set_defaults(run=cmd_demo)
    check = commands.add_parser(
        "check",
        help="check the queries and the schema against a scratch database, one line per finding",
    )
    _domains(check, "check common and these domains")
    check.set_defaults(run=cmd_check)
    erd = commands.add_parser(
        "erd", help="Mermaid ER diagrams of the domain schemas, from a scratch database"
    )
    _domains(erd, "the schemas to draw")
    erd.add_argument(
        "--write-docs",
        nargs="?",
        type=Path,
        const=Path("docs"),
        metavar="FOLDER",
        help="rewrite the diagram in each domain's page FOLDER/<domain>.md, between "
        "<!-- erd:<domain> --> markers (default docs)",
    )
    erd.set_defaults(run=cmd_erd)
    distribution = commands.add_parser(
        "distribution",
        help="how each domain would shard by tenant (Citus): tables, keys and queries, "
        "from a scratch database",
    )
    _domains(distribution, "the domains to plan")
    distribution.add_argument(
        "--write-docs",
        nargs="?",
        type=Path,
        const=Path("docs/scale-out.md"),
        metavar="PAGE",
        help="rewrite each domain's plan in PAGE, between <!-- distribution:<domain> --> "
        "markers, adding those missing (default docs/scale-out.md)",
    )
    distribution.set_defaults(run=cmd_distribution)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    named = [*getattr(args, "domains", ()), *filter(None, [getattr(args, "domain", None)])]
    try:
        registry.select(named)
    except ValueError as error:
        top.error(str(error))
    try:
        code: int = args.run(args)
    except BrokenPipeError:
        # The reader went away (`tether erd | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


if __name__ == "__main__":
    sys.exit(main())
