"""`tether`: migrate, roll back, show status, play the demo, check queries, draw the schema,
plan its distribution, see and prune the tutor's job queue.

Every command reaches the database named by `--database` (before or after the
command's name), else `$DATABASE_URL`, else the embedded server (started on demand,
data under `.tether/`). Arguments mean one thing in every command: DOMAIN names are
positional (default: every domain), and `common` and those domains are what the
command works on; `migrate` and `status` also take `common` itself, alone or with
others. A mistake shows that command's usage, and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tether import domains as registry
from tether import embedded, migrations
from tether.database import configured_url, redact
from tether.embedded import EmbeddedError
from tether.errors import TetherError
from tether.translate import DRIVER_ERRORS, target, translate

# Where --write-docs writes: the docs folder of the current directory (the repository's).
DOCS = Path("docs")


def _url(args: argparse.Namespace) -> str:
    url: str | None = args.database or configured_url()
    return url or embedded.start()


def _server(args: argparse.Namespace) -> str:
    """The server a command works on, for an error message (never a password)."""
    url: str | None = args.database or configured_url()
    return f"connect to {target(url)}" if url else "the embedded server"


def _say(text: str) -> None:
    print(text, flush=True)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _chosen(names: Sequence[str]) -> str:
    own = [name for name in names if name != registry.COMMON]
    if names and not own:
        return registry.COMMON
    return ", ".join([registry.COMMON, *own]) if own else "every domain"


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
    if args.live is not None:
        return _check_live(args)
    from tether.check import command

    return asyncio.run(
        command(_url(args), out=_say, note=_note, domains=args.domains, verbose=args.verbose)
    )


def _check_live(args: argparse.Namespace) -> int:
    """`--live [URL]`: a URL (with `://` or `=`) names the live database; anything
    else is the first DOMAIN, and the live database is the one `--database` names."""
    from tether.check.drift import command

    url = args.live
    if url and "://" not in url and "=" not in url:
        url, args.domains = "", [url, *args.domains]
        if (wrong := _unknown_domains(args)) is not None:
            args.parser.error(wrong)
    return asyncio.run(command(_url(args), url or _url(args), _say, _note, args.domains))


def cmd_queue(args: argparse.Namespace) -> int:
    from tether.tutor import queue_cli

    if args.action == "stats":
        return asyncio.run(queue_cli.stats(_url(args), _say))
    if args.older_than is None:
        args.parser.error("prune needs --older-than DAYS")
    return asyncio.run(queue_cli.prune(_url(args), args.older_than, args.batch, _say))


def cmd_erd(args: argparse.Namespace) -> int:
    from tether.erd import command

    docs = DOCS if args.write_docs else None
    return command(_url(args), args.domains, docs, out=_say, note=_note)


def cmd_distribution(args: argparse.Namespace) -> int:
    from tether.distribution import command

    page = DOCS / "scale-out.md" if args.write_docs else None
    return command(_url(args), args.domains, page, out=_say, note=_note)


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: its DOMAIN names may come before, after or between its
    options (`tether erd chat --write-docs planner`)."""

    _intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing:  # argparse's intermixed parsing calls back here, twice
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def _database(parser: argparse.ArgumentParser, default: str | None) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        default=default,
        help="postgresql:// URL (default: $DATABASE_URL, else the embedded server)",
    )


def _command(
    commands: Any, name: str, run: Callable[[argparse.Namespace], int], help: str
) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help)
    # Also after the command's name; SUPPRESS keeps a value given before it.
    _database(command, argparse.SUPPRESS)
    command.set_defaults(run=run, parser=command, takes_common=False)
    return command


def _domains(command: argparse.ArgumentParser, what: str, *, common: bool = False) -> None:
    choices = [registry.COMMON, *registry.names()] if common else registry.names()
    command.add_argument(
        "domains",
        nargs="*",
        metavar="DOMAIN",
        help=f"{what} (default: every domain; one of {', '.join(choices)})",
    )
    command.set_defaults(takes_common=common)


def _write_docs(command: argparse.ArgumentParser, where: str) -> None:
    command.add_argument("--write-docs", action="store_true", help=f"rewrite {where}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="tether", description=__doc__)
    _database(top, None)
    commands = top.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser
    )
    migrate = _command(commands, "migrate", cmd_migrate, "apply the pending migrations")
    _domains(migrate, "apply common and these domains", common=True)
    back = _command(commands, "rollback", cmd_rollback, "roll back the last migration(s)")
    back.add_argument(
        "domain",
        nargs="?",
        metavar="DOMAIN",
        help="only this domain's migrations, leaving common and the others "
        f"(default: the last migrations of all; one of {', '.join(registry.names())})",
    )
    count = back.add_mutually_exclusive_group()
    count.add_argument("--count", type=int, default=1, help="how many (default 1)")
    count.add_argument("--all", action="store_true", help="every one of them")
    status = _command(commands, "status", cmd_status, "list migrations, applied or not")
    _domains(status, "common and these domains", common=True)
    demo = _command(
        commands,
        "demo",
        cmd_demo,
        "play each domain's story, each in a fresh database tether_demo_<domain>",
    )
    _domains(demo, "the stories to play")
    check = _command(
        commands,
        "check",
        cmd_check,
        "check the queries and the schema against a scratch database, one line per finding",
    )
    _domains(check, "check common and these domains")
    check.add_argument(
        "--live",
        nargs="?",
        const="",
        metavar="URL",
        help="compare the catalog of the database at URL (default: --database's) with what "
        "the migrations build, one line per difference; reads the catalog only",
    )
    check.add_argument(
        "--verbose", action="store_true", help="also list the columns whose NULL is unknown"
    )
    erd = _command(
        commands,
        "erd",
        cmd_erd,
        "Mermaid ER diagrams of the domain schemas, from a scratch database",
    )
    _domains(erd, "the schemas to draw")
    _write_docs(
        erd,
        "the diagram in each domain's page docs/<domain>.md, between <!-- erd:<domain> --> "
        "and <!-- /erd:<domain> --> (a page without them is refused)",
    )
    distribution = _command(
        commands,
        "distribution",
        cmd_distribution,
        "how each domain would shard by tenant (Citus): tables, keys and queries, "
        "from a scratch database",
    )
    _domains(distribution, "the domains to plan")
    _write_docs(
        distribution,
        "each domain's plan in docs/scale-out.md, between <!-- distribution:<domain> --> "
        "and <!-- /distribution:<domain> --> (a domain without them is refused)",
    )
    queue = _command(
        commands,
        "queue",
        cmd_queue,
        "the tutor's job queue: `stats` (one line per kind and status: jobs, scheduled, "
        "oldest due wait, attempts), `prune` (delete finished jobs, in batches)",
    )
    queue.add_argument("action", choices=["stats", "prune"], help="what to do")
    queue.add_argument(
        "--older-than",
        type=float,
        metavar="DAYS",
        help="prune: the finished jobs last written more than DAYS days ago",
    )
    queue.add_argument(
        "--batch", type=int, default=10_000, help="prune: jobs deleted per statement (10,000)"
    )
    return top


def _unknown_domains(args: argparse.Namespace) -> str | None:
    """What is wrong with the DOMAIN arguments, if anything."""
    named = [*getattr(args, "domains", ()), *filter(None, [getattr(args, "domain", None)])]
    known = [registry.COMMON, *registry.names()] if args.takes_common else registry.names()
    unknown = [name for name in named if name not in known]
    if not unknown:
        return None
    listed = ", ".join(repr(name) for name in unknown)
    return f"no domain {listed}: DOMAIN is one of {', '.join(known)}"


def main(argv: Sequence[str] | None = None) -> int:
    args, extra = parser().parse_known_args(argv)
    # Mistakes after the command's name are that command's: its usage, not the top's.
    if extra:
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if (wrong := _unknown_domains(args)) is not None:
        args.parser.error(wrong)
    try:
        code: int = args.run(args)
    except (TetherError, EmbeddedError) as error:
        # A database that cannot be reached or refuses: one line, not a traceback.
        _note(f"tether {args.command}: {error}")
        return 1
    except DRIVER_ERRORS as error:  # from a command that talks to asyncpg itself
        _note(f"tether {args.command}: {translate(error, _server(args))}")
        return 1
    except BrokenPipeError:
        # The reader went away (`tether erd | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


if __name__ == "__main__":
    sys.exit(main())
