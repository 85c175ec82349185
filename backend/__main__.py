"""The backend's command line: ``python -m backend <command>``.

  serve          start the HTTP server (API + pages)
  migrate        bring the database schema up to date (Alembic), once even if started on several machines
  seed-demo      load the demo college (org chart + matters + demo passwords); refuses next to real people
  import-org     load a college's own org chart from YAML
  import-matters load a college's own service centres and matters from YAML
  export-lookups write the assistant's lookup tables (people, departments, matters)
  import-faq     load the FAQ answer texts from bot/domain/faq.yml (keeps texts already stored)
  export-faq     write what the help desk taught (answered questions, new and edited answers) for training
  notify         deliver the outbox to people through Rasa (worker loop) and queue reminders (催办)
  sync-wecom     import departments and members from the WeCom contacts API [--dry-run]
  check-deploy   say what is misconfigured in a production installation (deploy/)
  set-password   set or reset a person's password (from stdin / a prompt, or --generate); they change it at next login
  audit          list the audit log: logins, password changes, sensitive reads [--user U] [--since …]
  prune-files    remove uploaded attachments not attached to an application [--older-than-days 7]
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import string
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

from sqlalchemy import func, select

from . import deploy_check
from .auth.passwords import hash_password
from .auth.policy import policy_problem
from .catalog.loader import DEMO_DIR, import_catalog, import_org, read_yaml
from .catalog.faq import DATA_DIR, DOMAIN_DIR, FAQ_DOMAIN, export_faq, import_faq
from .catalog.lookups import export_lookups
from .config import DEFAULT_DATABASE_URL, ConfigError, NotifierSettings, Settings, file_settings, load_env_file
from .db import accounts, audit, migrate
from .db.database import Database
from .db.models import User
from .files.store import file_store
from .files.uploads import prune
from .catalog.org_sync import print_report, sync_org_from_env
from .notify.worker import run_worker
from .web.server import serve

DEMO_PASSWORD = "Demo@2026"  # demo-only; documented in the README


def progress(message: str) -> None:
    print(f"  · {message}", flush=True)


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


async def _with_database(work: Callable[[Any], Awaitable[Any]]) -> Any:
    database = Database(_database_url())
    try:
        async with database.write() as session:
            return await work(session)
    finally:
        await database.dispose()


def cmd_serve(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    serve(settings, args.host or settings.host, args.port or settings.port, args.workers, args.quiet)


def cmd_migrate(args: argparse.Namespace) -> None:
    print("Migrating the database schema …", flush=True)
    outcome = migrate.upgrade(_database_url(), on_wait=lambda: print(
        "Waiting for another migration of this database to finish …", flush=True))
    if outcome.migrated:
        print(f"Migrated from {outcome.before or 'an empty database'} to {outcome.head}. Schema is up to date.")
    else:
        print(f"Nothing to do: already at {outcome.head}. Schema is up to date.")


def cmd_seed_demo(args: argparse.Namespace) -> None:
    async def work(session):
        if args.if_empty and await session.scalar(select(func.count(User.id))):
            print("Database already has users; demo data not loaded (drop --if-empty to refresh it).")
            return
        real_people = await _people_not_in_the_demo(session)
        if real_people and not args.force:
            raise ValueError(
                f"this database holds {real_people} people who are not in the demo college (imported with "
                "import-org or sync-wecom): demo accounts with a published password do not belong next to them. "
                "Demo data not loaded; use --force only if this really is a demo database.")
        print("Loading the demo college …", flush=True)
        await import_org(session, read_yaml(DEMO_DIR / "org.yml"), hash_password, args.password, progress)
        await import_catalog(session, read_yaml(DEMO_DIR / "matters.yml"), progress)
        print(f"Demo data loaded. Demo accounts use the password {args.password!r} (demo only).")

    asyncio.run(_with_database(work))


async def _people_not_in_the_demo(session) -> int:
    demo_usernames = {user["username"] for user in read_yaml(DEMO_DIR / "org.yml").get("users") or []}
    usernames = await session.scalars(select(User.username))
    return sum(1 for username in usernames if username not in demo_usernames)


def cmd_import_org(args: argparse.Namespace) -> None:
    data = read_yaml(Path(args.file))
    password = os.environ.get("INITIAL_PASSWORD")
    if not password:
        print("Note: INITIAL_PASSWORD is not set, so new users get no password and cannot log in "
              "with one until an administrator sets it.", flush=True)
    asyncio.run(_with_database(lambda s: import_org(s, data, hash_password, password, progress,
                                                    must_change_password=True)))
    print("Org chart imported." + (" New users must change the initial password at their first login."
                                   if password else ""))


def cmd_import_matters(args: argparse.Namespace) -> None:
    data = read_yaml(Path(args.file))
    asyncio.run(_with_database(lambda s: import_catalog(s, data, progress)))
    print("Matters imported.")


def cmd_export_lookups(args: argparse.Namespace) -> None:
    counts = asyncio.run(_with_database(lambda s: export_lookups(s, Path(args.directory))))
    print("Lookup tables written to " + args.directory + ": "
          + ", ".join(f"{k} {v}" for k, v in counts.items()) + ". Retrain the assistant (make train).")


def cmd_import_faq(args: argparse.Namespace) -> None:
    added, kept = asyncio.run(_with_database(
        lambda s: import_faq(s, Path(args.file), datetime.now(timezone.utc))))
    print(f"FAQ answers: {added} added, {kept} already stored and kept (edits in the console are not overwritten).")


def cmd_export_faq(args: argparse.Namespace) -> None:
    out = asyncio.run(_with_database(lambda s: export_faq(s, Path(args.data), Path(args.domain))))
    examples = sum(len(texts) for texts in out.examples.values())
    print(f"Wrote {Path(args.data) / 'nlu' / 'faq_learned.yml'}: {examples} examples for {len(out.examples)} answers"
          + "".join(f"\n  {key}: " + " / ".join(texts) for key, texts in sorted(out.examples.items())))
    print(f"Wrote {Path(args.domain) / 'faq_learned.yml'}: {len(out.new_answers)} new answers"
          + (f" ({', '.join(out.new_answers)})" if out.new_answers else ""))
    print(f"Rewrote in {Path(args.domain) / FAQ_DOMAIN}: {len(out.edited_answers)} edited answers"
          + (f" ({', '.join(out.edited_answers)})" if out.edited_answers else ""))
    if out.unexampled:
        print(f"Not written (no question answered with them yet): {', '.join(out.unexampled)}")
    if out.skipped:
        print(f"Skipped (already training examples): {' / '.join(out.skipped)}")
    print("Retrain the assistant (make train).")


def cmd_notify(args: argparse.Namespace) -> None:
    asyncio.run(run_worker(_database_url(), NotifierSettings.from_env()))


def cmd_sync_wecom(args: argparse.Namespace) -> None:
    report = asyncio.run(sync_org_from_env(_database_url(), dry_run=args.dry_run))
    print_report(report, args.dry_run)


def cmd_check_deploy(args: argparse.Namespace) -> None:
    problems = deploy_check.check(Path(args.env_dir), Path(args.units_dir),
                                  Path(args.app_dir) if args.app_dir else None, demo_password=DEMO_PASSWORD)
    print(deploy_check.report(problems))
    if problems:
        raise SystemExit(1)


def generated_password(username: str) -> str:
    """16 random letters and digits (at least one of each): meets the policy, easy to read out."""
    alphabet = string.ascii_letters.replace("l", "").replace("O", "").replace("I", "") + "23456789"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        if policy_problem(candidate, username) is None:
            return candidate


def _new_password(args: argparse.Namespace) -> str:
    if args.generate:
        return generated_password(args.username)
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"New password for {args.username}: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ; nothing changed")
    return first


def cmd_set_password(args: argparse.Namespace) -> None:
    password = _new_password(args)
    problem = policy_problem(password, args.username)
    if problem:
        raise ValueError(f"password refused: {problem}; nothing changed")

    async def work(session):
        user = await accounts.user_named(session, args.username)
        if user is None:
            raise ValueError(f"no user named {args.username!r}")
        await accounts.set_password(session, user.id, hash_password(password), must_change=not args.no_force_change)
        return user.id

    database = Database(_database_url())

    async def run() -> None:
        try:
            async with database.write() as session:
                user_id = await work(session)
            await audit.record(database, "password_set", "cli", user_id=user_id, username=args.username,
                               user_agent=f"python -m backend set-password (by {getpass.getuser()})")
        finally:
            await database.dispose()

    asyncio.run(run())
    if args.generate:
        print(f"New password for {args.username} (shown once): {password}")
    forced = "" if args.no_force_change else " They must change it at their next login."
    print(f"Password of {args.username} set; their sessions and tokens have ended.{forced}")


def _since(value: str) -> datetime:
    """An ISO date/time (college-agnostic: UTC unless it says otherwise) or 30m / 12h / 7d."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if value[-1:] in units and value[:-1].isdigit():
        return datetime.now(timezone.utc) - timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: use an ISO time (2026-12-01T08:00) or 30m / 12h / 7d") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def cmd_audit(args: argparse.Namespace) -> None:
    database = Database(_database_url())

    async def run():
        try:
            return await audit.entries(database, username=args.user, since=args.since, event=args.event,
                                       limit=args.limit)
        finally:
            await database.dispose()

    found = asyncio.run(run())
    for entry in found:
        print("\t".join([entry.at.isoformat(timespec="seconds"), entry.event, entry.channel, entry.username or "-",
                         entry.address or "-", entry.target or "-", entry.user_agent or "-"]))
    print(f"{len(found)} entries (newest first).", file=sys.stderr)


def cmd_prune_files(args: argparse.Namespace) -> None:
    if args.older_than_days <= 0:
        raise ValueError("--older-than-days must be greater than 0")

    async def run() -> int:
        database = Database(_database_url())
        try:
            before = datetime.now(timezone.utc) - timedelta(days=args.older_than_days)
            return await prune(database, file_store(file_settings(os.environ)), before)
        finally:
            await database.dispose()

    progress(f"removed {asyncio.run(run())} uploaded files not attached "
             f"(older than {args.older_than_days:g} days)")


def main(argv: list[str] | None = None) -> int:
    load_env_file()
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start the HTTP server")
    serve.add_argument("--host", help="listen address (env BACKEND_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (env BACKEND_PORT, default 8080)")
    serve.add_argument("--quiet", action="store_true", help="no access log")
    serve.add_argument("--workers", type=int, default=int(os.environ.get("BACKEND_WORKERS", "1")),
                       help="processes sharing the port (env BACKEND_WORKERS, default 1)")
    serve.set_defaults(run=cmd_serve)

    commands.add_parser("migrate", help="upgrade the schema to the latest revision").set_defaults(run=cmd_migrate)

    seed = commands.add_parser("seed-demo", help="load the demo college")
    seed.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", DEMO_PASSWORD))
    seed.add_argument("--if-empty", action="store_true", help="only when the database has no users yet")
    seed.add_argument("--force", action="store_true",
                      help="load even though the database holds people who are not demo people")
    seed.set_defaults(run=cmd_seed_demo)

    org = commands.add_parser("import-org", help="import departments and users from a YAML file")
    org.add_argument("file")
    org.set_defaults(run=cmd_import_org)

    matters = commands.add_parser("import-matters", help="import service centres and matters from a YAML file")
    matters.add_argument("file")
    matters.set_defaults(run=cmd_import_matters)

    lookups = commands.add_parser("export-lookups", help="write the assistant's lookup tables (names) to a folder")
    lookups.add_argument("directory", nargs="?", default="data/lookups")
    lookups.set_defaults(run=cmd_export_lookups)

    faq_in = commands.add_parser("import-faq", help="load the FAQ answer texts the assistant serves")
    faq_in.add_argument("file", nargs="?", default=str(DOMAIN_DIR / FAQ_DOMAIN))
    faq_in.set_defaults(run=cmd_import_faq)

    faq_out = commands.add_parser("export-faq", help="write the help desk's questions and answers for training")
    faq_out.add_argument("--data", "--out", default=str(DATA_DIR), help="the NLU data folder (default data/)")
    faq_out.add_argument("--domain", default=str(DOMAIN_DIR), help="the domain folder (default bot/domain/)")
    faq_out.set_defaults(run=cmd_export_faq)

    notify = commands.add_parser("notify", help="deliver notifications (outbox) through Rasa until stopped")
    notify.set_defaults(run=cmd_notify)

    sync = commands.add_parser("sync-wecom", help="import departments and members from WeCom contacts")
    sync.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    sync.set_defaults(run=cmd_sync_wecom)

    check = commands.add_parser("check-deploy", help="say what is misconfigured in a production installation")
    check.add_argument("--env-dir", default=str(deploy_check.ENV_DIR),
                       help=f"the processes' env files (default {deploy_check.ENV_DIR})")
    check.add_argument("--units-dir", default=str(deploy_check.UNITS_DIR),
                       help=f"the installed systemd units (default {deploy_check.UNITS_DIR})")
    check.add_argument("--app-dir", help="where the units' relative paths point (default: their WorkingDirectory)")
    check.set_defaults(run=cmd_check_deploy)

    password = commands.add_parser("set-password", help="set or reset a person's password")
    password.add_argument("username")
    password.add_argument("--generate", action="store_true", help="generate one and print it once")
    password.add_argument("--no-force-change", action="store_true",
                          help="do not make them change it at next login (e.g. an account you run yourself)")
    password.set_defaults(run=cmd_set_password)

    log = commands.add_parser("audit", help="list logins, password changes and sensitive reads (newest first)")
    log.add_argument("--user", help="only this username")
    log.add_argument("--since", type=_since, help="ISO time (UTC unless given) or 30m / 12h / 7d")
    log.add_argument("--event", help="only this event (login_failed, login_succeeded, read …)")
    log.add_argument("--limit", type=int, default=200)
    log.set_defaults(run=cmd_audit)

    prune_files = commands.add_parser("prune-files", help="remove uploaded attachments not attached to an application")
    prune_files.add_argument("--older-than-days", type=float, default=7.0,
                             help="only files uploaded this many days ago or earlier (default 7)")
    prune_files.set_defaults(run=cmd_prune_files)

    args = parser.parse_args(argv)
    try:
        args.run(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
