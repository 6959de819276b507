"""The ``crmsphere`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.settings import DEMO_DIR, Settings, load_settings
from domain import ImportReport, utcnow
from domain.errors import BadInput, ConfigError, NotConfigured, NotFound
from crm.cli import add_crm_parser, run_crm
import nlp.signals  # noqa: F401  (registers every NLP signal: settings' routing rules name them)

# The runtime, collectors, community and job modules are imported by the commands that
# use them: `crmsphere analyze` needs none of them, and importing them all cost ~0.3 s
# of its start-up.
if TYPE_CHECKING:
    from crmsphere.runtime import Runtime

log = logging.getLogger("crmsphere")

EXIT_REJECTED = 1
EXIT_USAGE = 2
DEMO_MARK = "demo_loaded"


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="crmsphere", description=__doc__)
    parser.add_argument("--config", metavar="FILE", help="TOML file over the built-in defaults")
    parser.add_argument("--store", metavar="URL", help="store URL (overrides store.url)")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API, dashboard and forum")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--role", choices=["all", "api", "scheduler", "worker"], default="all",
                       help="what this process runs: HTTP (api), collectors and timers "
                            "(scheduler), outbox delivery (worker), or all of it (default)")

    imp = sub.add_parser("import", help="bulk-import posts or customers")
    what = imp.add_subparsers(dest="what", required=True)
    posts = what.add_parser("posts", help="posts from a .jsonl file or a folder of them")
    posts.add_argument("path", type=Path)
    customers = what.add_parser("customers", help="customers from a CSV file")
    customers.add_argument("path", type=Path)

    cfg = sub.add_parser("config", help="configuration")
    cfg_sub = cfg.add_subparsers(dest="action", required=True)
    cfg_sub.add_parser("check", help="validate the configuration and print it")

    src = sub.add_parser("sources", help="configured sources")
    src_sub = src.add_subparsers(dest="action", required=True)
    src_sub.add_parser("list", help="every source with its health")
    for action, text in (("run", "run a source now, in this process"),
                         ("pause", "stop polling a source"), ("resume", "poll a source again")):
        src_sub.add_parser(action, help=text).add_argument("name")

    analyze = sub.add_parser("analyze", help="analyse JSON lines from stdin onto stdout")
    analyze.add_argument("--customers", type=Path, metavar="FILE.csv",
                         help="customers CSV to link against instead of the store")
    analyze.add_argument("--topics", type=Path, metavar="FILE.toml", help="topic taxonomy")
    nlp_cmd = sub.add_parser("nlp", help="the NLP stage")
    nlp_sub = nlp_cmd.add_subparsers(dest="action", required=True)
    nlp_eval = nlp_sub.add_parser("eval", help="precision/recall/F1 per task on a labelled file")
    nlp_eval.add_argument("path", type=Path)
    nlp_eval.add_argument("--customers", type=Path, metavar="FILE.csv")
    nlp_eval.add_argument("--topics", type=Path, metavar="FILE.toml")
    nlp_train = nlp_sub.add_parser("train", help="train the topic model from labelled posts (JSONL)")
    nlp_train.add_argument("path", type=Path, metavar="FILE.jsonl", nargs="?",
                           help='lines {"text": "...", "topics": ["taxonomy key", ...]}')
    nlp_train.add_argument("--from-store", action="store_true",
                           help="also train on the topic sets managers gave mentions in the store")
    nlp_train.add_argument("--out", type=Path, metavar="DIR", help="default: [nlp] model_dir")
    nlp_train.add_argument("--epochs", type=int, default=10, choices=range(1, 201), metavar="1..200")
    nlp_train.add_argument("--topics", type=Path, metavar="FILE.toml")

    add_crm_parser(sub)
    mig = sub.add_parser("migrate", help="copy a SQLite store into MongoDB (resumable, verified)")
    mig.add_argument("--from", dest="from_url", required=True, metavar="sqlite:///PATH")
    mig.add_argument("--to", dest="to_url", required=True, metavar="mongodb://...")

    demo = sub.add_parser("demo", help="demo data")
    demo_sub = demo.add_subparsers(dest="action", required=True)
    demo_load = demo_sub.add_parser("load", help="load the demo customers and posts (once)")
    demo_load.add_argument("--refresh", action="store_true",
                           help="date a loaded demo forward so that it ends now")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "store.url": args.store,
        "logging.level": args.log_level,
        "server.host": getattr(args, "host", None),
        "server.port": getattr(args, "port", None),
    }
    return load_settings(args.config, overrides=overrides)


def _print_report(report: ImportReport, what: str) -> int:
    for r in report.rejected:
        print(f"rejected {r.where}: {r.reason}", file=sys.stderr)
    print(f"{what}: {report.accepted} new, {report.duplicates} already stored, "
          f"{len(report.rejected)} rejected")
    return EXIT_REJECTED if report.rejected else 0


async def _import_posts(rt: Runtime, path: Path, key: str | None = None,
                        backfill: bool = True) -> ImportReport:
    """Import posts from ``path``; a backfill unless told otherwise (the demo's posts are
    routed by its rules, to fill the team queues it shows)."""
    from tqdm import tqdm

    from collectors import create_collector
    from crmsphere.ingest import run_collector

    options: dict[str, Any] = {"path": path, "batch_size": rt.settings.imports.batch_size}
    collector = create_collector("jsonl", key or f"jsonl:{path.resolve()}", options)
    with tqdm(total=collector.total_bytes(), unit="B", unit_scale=True, desc="posts",
              disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
        collector.on_progress = bar.update
        return await run_collector(collector, rt.store, rt.analyzer, backfill=backfill)


async def _import_customers(rt: Runtime, path: Path) -> ImportReport:
    from collectors.customers_csv import read_customers_csv
    from community.impact_refresh import refresh_impact
    from crm.alias_hygiene import AliasCheck  # imported here: spaCy and word lists load slowly
    from crmsphere.ingest import import_customers
    from nlp.wordsense import ambiguity_report

    customers, rejected = read_customers_csv(path)
    # Aliases too short to link by are not stored; common-word ones are kept and flagged.
    customers, aliases = AliasCheck(rt.settings.nlp.languages).customers(customers)
    report = await import_customers(rt.store, customers, rejected)
    for alias in aliases:
        print(f"{'refused' if alias.refused else 'flagged'} alias {alias.customer_id} "
              f"{alias.alias!r}: {alias.reason}", file=sys.stderr)
    told = {(a.customer_id, a.alias) for a in aliases}
    # Names that will not link on their own: whoever keeps the registry can add a cue.
    for note in ambiguity_report(customers, rt.settings.nlp.languages):
        if (note.customer_id, note.phrase) not in told:
            print(f"ambiguous {note.customer_id} {note.phrase!r}: {note.reason}", file=sys.stderr)
    # Segment or revenue of customers who already voted may have changed.
    await refresh_impact(rt.store, [c.id for c in customers], rt.settings.forum.impact)
    return report


async def _import_demo_posts(rt: Runtime) -> ImportReport:
    from crmsphere.demo_posts import backfill_spike_alerts, shift_days, write_shifted

    source = DEMO_DIR / "posts.jsonl"
    days = await shift_days(rt.store, source, utcnow())
    # A directory of this load's own: two loads at once (two stores, two users of a machine)
    # must not write or delete each other's file.  The import resumes by the content read so
    # far (collectors/file_position.py), not by the path, so the same shift resumes.
    with tempfile.TemporaryDirectory(prefix="crmsphere-demo-") as private:
        shifted = Path(private) / f"posts-{days}d.jsonl"
        write_shifted(source, shifted, days)
        report = await _import_posts(rt, shifted, key="demo:posts", backfill=False)
    print(f"demo posts dated to end now (moved {days} day(s) forward)")
    alerts = await backfill_spike_alerts(rt.store, rt.settings.dashboard, utcnow())
    print(f"demo spike alerts: {alerts} over the last 30 days")
    return report


async def _refresh_demo(rt: Runtime) -> None:
    from crmsphere.demo_posts import backfill_spike_alerts, days_behind, move_demo_forward

    days = await days_behind(rt.store, utcnow())
    if days:
        await move_demo_forward(rt.store, days)
        await backfill_spike_alerts(rt.store, rt.settings.dashboard, utcnow())
    print(f"demo moved {days} day(s) forward: it ends now")


async def _load_demo(settings: Settings, refresh: bool = False) -> int:
    from crmsphere.demo_cli import start_demo_community
    from crmsphere.runtime import open_runtime

    async with open_runtime(settings, with_nlp=False) as rt:
        posts_loaded = bool(await rt.store.get_meta(DEMO_MARK))
        if refresh and posts_loaded:
            await _refresh_demo(rt)
        community = await start_demo_community(rt)  # None once loaded
        if community is None and posts_loaded:
            if not refresh:
                print("demo data already loaded (`crmsphere demo load --refresh` dates it to end now)")
            return 0
        if not posts_loaded:
            customers = await _import_customers(rt, DEMO_DIR / "customers.csv")
            _print_report(customers, "demo customers")
            await rt.reload_customers()
            posts = await _import_demo_posts(rt)
            _print_report(posts, "demo posts")
            await rt.store.set_meta(DEMO_MARK, "1")
        if community is not None:
            await community.finish()
    return 0


_NO_SOURCES = """no sources configured yet. Add one to a configuration file, e.g. crmsphere.toml:

  [[sources]]
  kind = "hackernews"     # no credentials needed; see docs/sources.md for every kind
  name = "hn"
  interval = 600
  queries = ["your brand"]

then `crmsphere --config crmsphere.toml sources list` shows it, and `serve` polls it.
To load posts once instead: `crmsphere import posts FILE.jsonl`."""


async def _sources(rt: Runtime, args: argparse.Namespace) -> int:
    runner = rt.sources
    if args.action == "list":
        healths = await runner.all_health()
        if not healths:
            print(_NO_SOURCES)
            return 0
        for h in healths:
            problem = runner.problems.get(h.key) or h.error or ""
            print(f"{h.key:24} {h.kind:11} {'paused' if h.paused else h.state:15} "
                  f"items={h.total_items:<7} last_run={h.last_run_at.isoformat() if h.last_run_at else '-'}"
                  f"  {problem}".rstrip())
        return 0
    if args.action == "run":
        health = await runner.run_once(args.name, force=True)
        print(f"{health.key}: {health.state}, {health.last_items} new"
              + (f" ({health.error})" if health.error else ""))
        return 0 if health.state == "ok" else EXIT_REJECTED
    health = await runner.set_paused(args.name, paused=args.action == "pause")
    print(f"{health.key}: {'paused' if health.paused else 'resumed'}")
    return 0


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        from api.server import serve  # the web stack is only needed here

        await serve(settings, role=getattr(args, "role", "all"))
        return 0
    if args.command == "migrate":
        from crmsphere.migrate import migrate_sqlite_to_mongo
        from storage.mongo.db import import_pymongo

        pymongo = import_pymongo()  # a ConfigError saying how to install it, when missing
        try:
            report = await migrate_sqlite_to_mongo(args.from_url, args.to_url)
        except (OSError, pymongo.errors.PyMongoError) as exc:
            print(f"crmsphere: migration stopped ({exc}); run the same command again to "
                  f"continue from the last checkpoint", file=sys.stderr)
            return EXIT_REJECTED
        return 0 if report.ok else EXIT_REJECTED
    if args.command == "analyze":
        from crmsphere.analyze_cli import run_analyze

        return await run_analyze(settings, args.customers, args.topics)
    if args.command == "nlp" and args.action == "eval":
        from crmsphere.analyze_cli import run_eval

        return await run_eval(settings, args.path, args.customers, args.topics)
    if args.command == "nlp" and args.action == "train":
        from crmsphere.nlp_train_cli import run_train

        return await run_train(settings, args.path, args.out, args.epochs, args.topics,
                               from_store=args.from_store)
    if args.command == "crm":
        return await run_crm(settings, args)
    if args.command == "demo":
        return await _load_demo(settings, refresh=getattr(args, "refresh", False))
    from crmsphere.jobs import CLI_ROLE, running_jobs
    from crmsphere.runtime import open_runtime

    if args.command == "sources":
        async with (open_runtime(settings, with_nlp=args.action == "run") as rt,
                    running_jobs(rt, CLI_ROLE)):
            return await _sources(rt, args)
    if args.command == "import" and args.what == "customers":
        async with open_runtime(settings, with_nlp=False) as rt:
            return _print_report(await _import_customers(rt, args.path), "customers")
    if args.command == "import" and args.what == "posts":
        async with open_runtime(settings) as rt, running_jobs(rt, CLI_ROLE):
            return _print_report(await _import_posts(rt, args.path), "posts")
    raise AssertionError(f"unhandled command {args}")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
        if args.command == "config":
            from crm.registry import check_kinds as check_crm_kinds
            from crmsphere.sources import check_kinds

            check_kinds(settings.sources)  # kinds and each collector's options, keys named
            check_crm_kinds(settings.crm)  # a [crm.<kind>] table of a registered connector
    except ConfigError as exc:
        print(f"crmsphere: {exc}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=settings.logging.level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "config":
        print(json.dumps(settings.model_dump(), indent=2))
        print("configuration ok", file=sys.stderr)
        return 0
    try:
        return asyncio.run(_run(args, settings))
    except (ConfigError, BadInput, NotConfigured, NotFound) as exc:
        print(f"crmsphere: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
