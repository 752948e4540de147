"""The ``baton`` command: serve, worker, migrate, config, doctor, demo, embedded.

Each command builds the one settings object from its arguments and the environment, prints a
single line naming the variable when one is missing or malformed, and never shows a traceback
for a configuration or start-up problem.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from baton.admin_cli import add_admin_parsers
from baton.backends import migrate_database, resolve_backends, supervise
from baton.config import CommandError, build_settings
from baton.logs import configure_logging, plan_logging, secrets_of
from baton.memory_cli import add_memory_parser
from baton.report_cli import add_report_parser
from baton.slack_names import slack_view
from baton.tools_cli import add_tools_parser
from baton.workspace_cli import add_workspace_parser
from core import defaults
from core.settings import ENV_VARS, SettingsError
from memory import plans
from memory.audit import timeline
from memory.db import connect
from memory.embedded import EmbeddedServerError, EmbeddedServices
from memory.migrate import MigrationError
from slackui.audit_views import render_timeline


# -- commands ----------------------------------------------------------------------------------
def cmd_config(args: argparse.Namespace) -> int:
    settings = build_settings(args)
    for name, value in settings.masked().items():
        print(f"{ENV_VARS[name]:<22} {value}")
    print(f"{'(mode)':<22} {'LLM configured' if settings.llm_configured else 'degraded: no LLM configured'}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings, _services = resolve_backends(build_settings(args))
    assert settings.database_url is not None
    ran = migrate_database(settings.database_url)
    print(f"applied {len(ran)} migration(s)" + (": " + ", ".join(ran) if ran else "; schema is current"))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from baton.web_server import WebServer  # deferred: start-up cost (bolt, aiohttp) only for `serve`

    settings = build_settings(args)
    settings.require_slack()
    settings, services = resolve_backends(settings)
    assert settings.database_url is not None
    migrate_database(settings.database_url)
    _exit_cleanly_on_sigterm()
    supervise(services)
    WebServer(settings, host=args.host).serve_forever()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from baton.worker_process import run_worker  # deferred: start-up cost (rq, embeddings) only for `worker`

    settings = build_settings(args)
    if not settings.slack_bot_token and not settings.oauth_enabled:
        raise SettingsError(
            "SLACK_BOT_TOKEN", "is not set", "workers post to Slack; export SLACK_BOT_TOKEN=xoxb-..."
        )
    settings, services = resolve_backends(settings)
    assert settings.database_url is not None
    migrate_database(settings.database_url)
    supervise(services)
    queues = [name.strip() for name in args.queues.split(",") if name.strip()]
    run_worker(settings, queues=queues, with_scheduler=args.with_scheduler, burst=args.burst)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from baton.worker_process import run_scheduler  # deferred: start-up cost (rq, embeddings)

    settings, services = resolve_backends(build_settings(args))
    assert settings.database_url is not None
    migrate_database(settings.database_url)
    _exit_cleanly_on_sigterm()
    supervise(services)
    run_scheduler(settings, interval=args.interval)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    settings, _services = resolve_backends(build_settings(args))
    assert settings.database_url is not None
    with connect(settings.database_url) as conn:
        team_id = plans.team_of(conn, args.plan_id)
        if team_id is None:
            raise CommandError(f"no plan #{args.plan_id}")
        entries = timeline(conn, team_id=team_id, plan_id=args.plan_id)
    names = slack_view(settings).style.names
    print(render_timeline(args.plan_id, entries, slack=False, user_name=lambda user_id: names("user", user_id)))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from baton.doctor import exit_code, run_checks, summary  # deferred: start-up cost (openai, slack_sdk)

    settings = build_settings(args)
    try:
        settings, _services = resolve_backends(settings)
    except EmbeddedServerError as err:
        print(f"FAIL  embedded   {err}")
        return 1
    checks = run_checks(settings)
    for check in checks:
        print(check.line())
    print(summary(checks))
    return exit_code(checks)


def cmd_demo(args: argparse.Namespace) -> int:
    from baton.demo import run_demo  # deferred: start-up cost (the local workspace) only for `demo`

    if args.web and args.script is not None:
        raise CommandError("--web and --script do not go together: a script plays in the terminal")
    return run_demo(build_settings(args), script=args.script, channel=args.channel, user=args.user,
                    in_browser=args.web)


def cmd_embedded(args: argparse.Namespace) -> int:
    services = EmbeddedServices(build_settings(args).baton_home)
    if args.action == "stop":
        services.stop_all()
        print("embedded servers stopped")
        return 0
    for name, info in services.status().items():
        state = f"running (pid {info['pid']}) at {info['url']}" if info["pid"] else "not running"
        print(f"{name:<9} {state}; used by {info['users'] or 'no process'}")
    return 0


# -- parser ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton", description="Baton: an AI operations crew that lives in Slack."
    )
    parser.add_argument("--home", help="state folder (env BATON_HOME)")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR (env BATON_LOG_LEVEL); commands other "
                        "than serve, worker and scheduler log only warnings unless asked, the demo to a file")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more: -v is --log-level INFO, -vv DEBUG")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(func=func)
        return command

    serve = add("serve", cmd_serve, "Run the Slack app: on /slack/events or over Socket Mode; /healthz, /readyz, "
                "/metrics on PORT.")
    serve.add_argument("--port", type=int, help=f"port to listen on (env PORT, default {defaults.PORT})")
    serve.add_argument("--host", default="0.0.0.0", help="interface to bind (default 0.0.0.0)")
    serve.add_argument("--socket-mode", action="store_true",
                       help="receive Slack traffic over a websocket Baton opens (needs SLACK_APP_TOKEN=xapp-...; "
                       "on by default when it is set, env BATON_SOCKET_MODE)")

    worker = add("worker", cmd_worker, "Run an RQ worker that executes Baton's jobs.")
    worker.add_argument(
        "--queues",
        default=",".join(defaults.QUEUES),
        help=f"comma-separated queues, most urgent first (default {','.join(defaults.QUEUES)})",
    )
    worker.add_argument(
        "--no-scheduler",
        dest="with_scheduler",
        action="store_false",
        help="do not run RQ's scheduler for jobs enqueued for later (plan cards waiting for their channel's turn): "
        "at least one worker must run it. It is RQ's, not `baton scheduler` (digests and reminders need that)",
    )
    # Accepted for Procfiles written when the scheduler was off by default.
    worker.add_argument("--with-scheduler", dest="with_scheduler", action="store_true", help=argparse.SUPPRESS)
    worker.set_defaults(with_scheduler=True)
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")

    scheduler = add("scheduler", cmd_scheduler, "Enqueue due work (digests, reminders, check-ins, the reconciler).")
    scheduler.add_argument("--interval", type=float, default=defaults.RECONCILE_INTERVAL_SECONDS,
                           help=f"seconds between runs (default {defaults.RECONCILE_INTERVAL_SECONDS})")

    audit = add("audit", cmd_audit, "Print the audit timeline of a plan.")
    audit.add_argument("plan_id", type=int, help="the plan number shown on its card")

    add("migrate", cmd_migrate, "Apply pending database migrations (safe to run concurrently).")
    add("config", cmd_config, "Print the effective settings, secrets masked.")
    add("doctor", cmd_doctor, "Check Postgres, pgvector, Redis, Slack and the LLM: one PASS, FAIL or SKIP (not "
        "configured) line each; exits 1 only when something configured is broken.")

    demo = add(
        "demo", cmd_demo, "Try Baton locally: a local Slack workspace in your terminal (or --web: in your "
        "browser), no accounts needed."
    )
    demo.add_argument("--web", action="store_true", help="serve the local workspace as a web page (a small Slack) "
                      "and print its address, instead of the terminal")
    demo.add_argument("--script", type=Path, help="play user turns from FILE instead of reading the terminal")
    demo.add_argument("--channel", default="general", help="channel to talk in (default general)")
    demo.add_argument("--user", default="alice", help="who you are in the local workspace (default alice)")

    add_memory_parser(sub, add)
    add_report_parser(sub, add)
    add_admin_parsers(sub, add)
    add_tools_parser(sub, add)
    add_workspace_parser(sub, add)

    embedded = add("embedded", cmd_embedded, "Show or stop the embedded PostgreSQL and Redis servers.")
    embedded.add_argument("action", choices=["status", "stop"], nargs="?", default="status")
    return parser


def _exit_cleanly_on_sigterm() -> None:
    # SIGTERM (from a process manager) becomes SystemExit, so atexit hooks release embedded servers.
    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose and not args.log_level:
        args.log_level = "INFO" if args.verbose == 1 else "DEBUG"
    try:
        settings = build_settings(args)
        plan = plan_logging(
            args.command,
            settings,
            level_asked=bool(args.log_level or os.environ.get("BATON_LOG_LEVEL")),
            format_asked=bool(os.environ.get("BATON_LOG_FORMAT")),
        )
        configure_logging(plan.level, fmt=plan.fmt, secrets=secrets_of(settings), path=plan.path)
        return int(args.func(args))
    except (SettingsError, EmbeddedServerError, MigrationError, CommandError) as err:
        print(f"baton: error: {err}", file=sys.stderr)
        return 2 if isinstance(err, SettingsError) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
