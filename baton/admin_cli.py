"""``baton status``, ``baton plans``, ``baton policy`` and ``baton requeue-failed``: the operator's twins of
``/baton status|plans|policy``, printing the same facts through the same queries and renderers.

The terminal is trusted (whoever runs it can reach the database anyway), so there is no admin check, but a
policy change is audited with actor ``cli``. With one workspace in the database it is the default; with
several, ``--team`` says which.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from baton.backends import migrate_database, resolve_backends
from baton.config import CommandError, build_settings
from baton.slack_names import slack_view
from bot.deps import utc_now
from core import defaults
from core.policy_command import PolicyCommandError, parse_policy_command
from memory.admin_sql import known_teams, pending_plans
from memory.db import Conn, connect
from memory.policies import WORKSPACE, change_policy, load_overrides
from slackui import replies
from slackui.admin_views import PLAIN, PLANS_LIMIT, render_plans, render_policy, render_status

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]

POLICY_EPILOG = """examples:
  baton policy                                    the workspace's policy
  baton policy --channel C0123 set approvers high U0456 U0789
  baton policy --channel C0123 set approver_groups medium S0ABC
  baton policy --workspace set self_approval low
  baton policy --workspace set auto_run_low_risk off
  baton policy --workspace set expiry_hours 48
  baton policy set allowed_channels C0123,C0456    (workspace-wide; or: all)
  baton policy set admins U0456                    (workspace-wide; or: none)
  baton policy --channel C0123 reset"""


def add_admin_parsers(subparsers: Any, add: Add) -> None:
    """Register ``status``, ``plans``, ``policy`` and ``requeue-failed`` through the CLI's ``add`` helper."""
    del subparsers  # ``add`` already adds to them; taken so the call reads like the CLI's other wiring
    status = add("status", cmd_status,
                 "Queue depths, failed jobs, approvals waiting, stuck requests and today's model spend.")
    status.add_argument("--team", help="workspace id T… (default: the only one in the database)")
    status.add_argument("--channel", help="also show this channel's spend today")

    plans = add("plans", cmd_plans, "List the plans waiting for approval, with links to their cards.")
    plans.add_argument("--team", help="workspace id T… (default: the only one in the database)")
    plans.add_argument("--channel", help="only this channel's plans (default: the whole workspace)")

    policy = add("policy", cmd_policy,
                 "Show or change the approval policy of the workspace or a channel (changes are audited).")
    policy.formatter_class = argparse.RawDescriptionHelpFormatter
    policy.epilog = POLICY_EPILOG
    policy.add_argument("--team", help="workspace id T… (default: the only one in the database)")
    where = policy.add_mutually_exclusive_group()
    where.add_argument("--channel", help="the channel's policy (id C…)")
    where.add_argument("--workspace", action="store_true", help="the workspace row (the default for showing)")
    policy.add_argument("words", nargs="*", metavar="set KEY VALUE... | reset",
                        help="what to change; nothing shows the policy")

    requeue = add("requeue-failed", cmd_requeue_failed,
                  "Put every failed job back on its queue after fixing the cause (jobs are idempotent).")
    requeue.add_argument("--queue", choices=defaults.QUEUES, help="only this queue (default: all)")
    requeue.add_argument("--dry-run", action="store_true", help="list what would be requeued, change nothing")


def _database(args: argparse.Namespace) -> tuple[Any, Any]:
    """(settings with backends resolved, an open connection) for one command."""

    settings, _services = resolve_backends(build_settings(args))
    assert settings.database_url is not None
    migrate_database(settings.database_url)
    return settings, connect(settings.database_url)


def _team(conn: Conn, given: str | None, *, required: bool = True) -> str:
    if given:
        return given
    teams = known_teams(conn)
    if len(teams) == 1:
        return teams[0]
    if not teams:
        if not required:
            return ""
        raise CommandError("no workspace has used Baton yet, so there is nothing to show (or pass --team T…)")
    raise CommandError(f"this database serves several workspaces ({', '.join(teams)}): pass --team")


def cmd_status(args: argparse.Namespace) -> int:
    """``baton status``: what ``/baton status`` shows."""
    from workers.admin_status import gather_status  # deferred: start-up cost (rq) only for `status`

    settings, conn = _database(args)
    with conn:
        team = _team(conn, args.team, required=False)
        facts = gather_status(conn, team_id=team, channel_id=args.channel, now=utc_now(),
                              redis_url=settings.redis_url,
                              chat_model=settings.chat_model if settings.llm_configured else None)
    slack = slack_view(settings)
    named = f"{slack.team_name} ({team})" if team and slack.team_name else team
    print(f"workspace {named or '(none yet)'}")
    print(render_status(facts, style=slack.style))
    return 0


def cmd_plans(args: argparse.Namespace) -> int:
    """``baton plans``: what ``/baton plans`` (or ``plans all``) shows, links built like Slack's."""

    settings, conn = _database(args)
    now = utc_now()
    with conn:
        team = _team(conn, args.team)
        plans, total = pending_plans(conn, team_id=team, now=now, channel_id=args.channel, limit=PLANS_LIMIT)
    slack = slack_view(settings)
    print(render_plans(plans, total, channel_id=args.channel, now=now, link=slack.link, style=slack.style))
    return 0


def cmd_policy(args: argparse.Namespace) -> int:
    """``baton policy``: show, ``set`` or ``reset`` a policy row; a change is audited with actor ``cli``."""

    try:
        parsed = parse_policy_command(" ".join(args.words))
    except PolicyCommandError as err:
        raise CommandError(f"{err.problem} (see `baton policy --help`)") from err
    if parsed.action == "help":
        print(POLICY_EPILOG)
        return 0
    if parsed.workspace or args.workspace:
        target = WORKSPACE
    elif args.channel:
        target = args.channel
    elif parsed.action == "show":
        target = WORKSPACE
    else:
        raise CommandError(f"say which policy to {parsed.action}: --channel C… or --workspace")
    settings, conn = _database(args)
    with conn:
        team = _team(conn, args.team)
        if parsed.action != "show":
            before, after = change_policy(conn, parsed, team_id=team, channel_id=target, actor="cli")
            scope = "the workspace" if target == WORKSPACE else f"channel {target}"
            key = parsed.key if parsed.action == "set" else None
            print(replies.policy_changed(scope, key, changed=before != after))
        workspace, channel = load_overrides(conn, team_id=team, channel_id=target)
    print(render_policy(workspace, channel, channel_id=target, settings_admins=settings.admins,
                        admin_group=settings.admin_group, style=PLAIN))
    return 0


def cmd_requeue_failed(args: argparse.Namespace) -> int:
    """``baton requeue-failed``: every failed job back on its queue (or, with ``--dry-run``, listed)."""
    import redis

    from workers.queue_admin import requeue_failed  # deferred: start-up cost (rq) only for `requeue-failed`
    from workers.redis_client import connect_redis  # deferred: start-up cost (redis)

    settings, _services = resolve_backends(build_settings(args))
    assert settings.redis_url is not None
    connection = connect_redis(settings.redis_url, quick=True)
    try:
        found = requeue_failed(connection, queues=[args.queue] if args.queue else defaults.QUEUES,
                               dry_run=args.dry_run)
    except redis.RedisError as err:
        raise CommandError(f"Redis is unreachable ({err}); nothing was requeued") from err
    finally:
        connection.close()
    for job in found:
        verb = "requeued" if job.requeued else ("would requeue" if args.dry_run and not job.problem else "skipped")
        print(f"{verb:<14} {job.job_id}  {job.func}  (queue {job.queue})" + (f": {job.problem}" if job.problem
                                                                               else ""))
    done = sum(1 for job in found if job.requeued)
    if args.dry_run:
        would = sum(1 for job in found if not job.problem)
        print(f"dry run: {would} failed job{'' if would == 1 else 's'} would be requeued; nothing changed")
    else:
        print(f"requeued {done} failed job{'' if done == 1 else 's'}")
    return 0
