"""Documented constants in one place.

Anything a reader might want to tune or look up lives here with a comment saying why it has
the value it has. Settings (``core.settings``) use these as defaults.
"""

from __future__ import annotations

#: Slack's Web API base URL; ``SLACK_API_URL`` points the bot at another one (the local workspace, a proxy).
SLACK_API_URL = "https://slack.com/api/"

#: Port of the Slack HTTP app (``baton serve``); Heroku-style platforms pass ``PORT``.
PORT = 3000

#: Default models. Routing (cheap vs strong) is refined by the cost-control work; these are safe picks
#: for any OpenAI-compatible API and are always overridable.
CHAT_MODEL = "gpt-4o-mini"
CHEAP_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL = "INFO"

#: Slack rejects requests whose timestamp is more than five minutes away from now (replay window).
SIGNATURE_MAX_AGE_SECONDS = 5 * 60

#: RQ queue names, most urgent first. A worker listens on all of them unless told otherwise.
QUEUES = ("plans", "actions", "default")

#: Name of the Postgres database Baton creates inside the embedded server.
EMBEDDED_DATABASE = "baton"

#: How long a web process waits on Postgres or Redis in a readiness probe before calling it down.
READINESS_TIMEOUT_SECONDS = 2.0

#: Timeouts on by default for every outbound call (Slack, LLM, webhooks).
HTTP_TIMEOUT_SECONDS = 10.0

#: Slack's hard limit on a message's ``text`` (longer text is truncated by Slack).
SLACK_TEXT_LIMIT = 40_000

#: Execution: a step's lease (a worker that dies mid-step is noticed by the recovery pass after this; a live
#: runner renews it every STEP_LEASE_RENEW_SECONDS while its connector runs, see workers/lease_keeper.py),
#: and the retry policy for transient connector errors (capped exponential backoff).
STEP_LEASE_SECONDS = 15
STEP_LEASE_RENEW_SECONDS = 4
STEP_MAX_ATTEMPTS = 4
RETRY_BASE_SECONDS = 0.5
RETRY_CAP_SECONDS = 30.0

#: The reconciler re-enqueues work recorded in Postgres but not picked up within this grace period
#: (e.g. Redis was down at ack time), and requests stuck in planning for longer than the second. A live planner
#: finishes within the planning deadline (20 s by default); one still "planning" 120 s later died with its worker.
#: Were it alive after all, planning again is harmless: one plan per request, and its card is keyed.
RECONCILE_GRACE_SECONDS = 30
PLANNING_STUCK_SECONDS = 120
#: A plan whose card was never posted (its deferred post lost with Redis, or Slack refusing it) is tried again by
#: the recovery pass for this long after it was made; then it is left to expire like any unanswered plan.
CARD_RETRY_HORIZON_SECONDS = 3600
#: A reply waiting in the Slack outbox (its turn, or Slack refusing it for a while) is given up after this long:
#: it would answer something nobody waits for any more, and it would hold up the thread's later posts.
OUTBOX_RETRY_HORIZON_SECONDS = 3600
#: A posted (or given up) outbox row is kept this long, far past any rerun of the job that made it, then deleted.
OUTBOX_KEEP_SECONDS = 24 * 3600
RECONCILE_INTERVAL_SECONDS = 15
#: The recovery pass runs this often, started by whichever worker is between jobs (one per interval across all
#: workers: a Redis key; never two at once: a Postgres lock). With STEP_LEASE_SECONDS, the longest a dead
#: worker's step waits.
RECOVERY_INTERVAL_SECONDS = 5

#: Slack allows about one message per second per channel; posts and card updates are spaced so.
CHANNEL_POST_INTERVAL_SECONDS = 1.0

#: Seconds a person's name and zone, or a channel's name, read from Slack are shared by every job (in Redis):
#: planning a request need not ask Slack again for facts that rarely change; a changed zone shows within this.
SLACK_FACTS_CACHE_SECONDS = 600

#: Thread context given to the planner, newest first, within this many tokens.
THREAD_CONTEXT_TOKENS = 3000

#: People and channels of one request whose names are looked up for the planner (one Slack call each).
MENTIONS_NAMED_MAX = 20

#: Transcript files above this size are refused before download (Slack allows uploads up to 1 GB).
TRANSCRIPT_MAX_BYTES = 10 * 1024 * 1024
#: Token budget of one part of a meeting sent to the model; a 2-hour meeting is a dozen parts.
MEETING_CHUNK_TOKENS = 3000
#: How long a meeting's "Create follow-ups" stays open (people review notes later than plans).
MEETING_APPROVAL_DAYS = 7

#: A scheduled digest missed by up to this many hours (the scheduler was down) is sent late, once;
#: older ones are skipped and logged. RQ's own cron neither back-fills nor holds a leader lock.
DIGEST_GRACE_HOURS = 3

#: A request's planning: after the first many seconds its thread gets one "still working" message (replaced by
#: the card or the answer); the second bounds all its model calls together (attempts, retries, the repair round,
#: the fallback model), so the rules planner's card or an honest refusal follows well within 30 s even when
#: every attempt hangs (three attempts of HTTP_TIMEOUT-sized waits would take minutes).
PLANNING_INTERIM_SECONDS = 10
PLANNING_DEADLINE_SECONDS = 20

#: Seconds one attempt of a model call may take, by purpose (``BATON_LLM_TIMEOUTS`` overrides any; a
#: ``<purpose>_repair`` call takes its purpose's): a plan is wanted in seconds, a meeting part on a local server may
#: take a minute. The work's deadline below (or planning's) still cuts every attempt to the time it has left.
LLM_ATTEMPT_TIMEOUTS = {"plan": 20, "meeting_chunk": 60, "meeting_merge": 90, "meeting_notes": 90, "digest": 20}
#: Seconds an attempt of any other call (``baton doctor``'s) may take.
LLM_DEFAULT_TIMEOUT_SECONDS = 30
#: Seconds all the model calls of one meeting's notes (every part, the merge, repairs, retries, the fallback model)
#: and of one digest's intro may take together; then the pattern-matched notes or the template's intro are used,
#: with the reason. The meeting's is well inside the 15-minute lease of a summarising run.
MEETING_DEADLINE_SECONDS = 300
DIGEST_DEADLINE_SECONDS = 30

#: A failing embeddings API is reported once and then left alone for this long, doubling after each failed try up to
#: the longest, instead of being retried on every memory write and recall (workers/memories/backoff.py).
EMBEDDING_BACKOFF_SECONDS = 30.0
EMBEDDING_BACKOFF_MAX_SECONDS = 600.0

#: How long a replayable model answer stays in the Redis response cache (a day covers retries and re-runs).
LLM_CACHE_TTL_SECONDS = 24 * 3600

#: Output limits of model calls, in tokens, by purpose (a ``<purpose>_repair`` call gets its purpose's limit). Every
#: call carries one, in the parameter the server honours (``max_tokens`` or ``max_completion_tokens``), so a slow
#: local server stops generating instead of running on after Baton's timeout while the retries queue behind it.
#: Sized from the schemas' own caps with room to spare: a plan of up to a dozen steps with their arguments; a
#: meeting part's notes (6 summary lines, 30 items at most) and the final notes (12 lines, 60 items); the digest's
#: intro (600 characters). A reply cut at the limit is an invalid reply and gets the repair round.
PLAN_OUTPUT_TOKENS = 2500
MEETING_PART_OUTPUT_TOKENS = 1500
MEETING_NOTES_OUTPUT_TOKENS = 3000
DIGEST_INTRO_OUTPUT_TOKENS = 300
#: Any other purpose (none today) and ``baton doctor``'s one tiny completion.
DEFAULT_OUTPUT_TOKENS = 1000
DOCTOR_OUTPUT_TOKENS = 16
OUTPUT_TOKENS = {
    "plan": PLAN_OUTPUT_TOKENS,
    "meeting_chunk": MEETING_PART_OUTPUT_TOKENS,
    "meeting_merge": MEETING_NOTES_OUTPUT_TOKENS,
    "meeting_notes": MEETING_NOTES_OUTPUT_TOKENS,
    "digest": DIGEST_INTRO_OUTPUT_TOKENS,
}

#: How long what Baton learned about a model server (structured output form, output-limit parameter) is kept in
#: Redis before it is learned again (a server upgraded to take JSON schemas is noticed within a day).
LLM_CAPABILITIES_TTL_SECONDS = 24 * 3600

#: ``/baton status`` shows the newest model answer and failure of this many past hours.
STATUS_MODEL_WINDOW_HOURS = 24

#: How deeply an inbound Slack body may nest. Slack's own payloads stay under ~12 levels (a rich-text
#: input in a modal's state); the cap keeps a hostile body from exhausting recursion in the parsers,
#: bolt and the JSON encoder that stores it.
SLACK_BODY_MAX_DEPTH = 64

#: Socket Mode: seconds between pings on the websocket (bolt's default; a silent connection is replaced after
#: four missed pongs), and the capped exponential backoff between failed attempts to open a connection.
SOCKET_PING_INTERVAL_SECONDS = 10.0
SOCKET_BACKOFF_FIRST_SECONDS = 1.0
SOCKET_BACKOFF_CAP_SECONDS = 60.0
# -- MCP servers ----------------------------------------------------------------------------------------
#: Seconds a server gets to start and list its tools when a worker starts (per server; a slow one is skipped).
MCP_LIST_TIMEOUT_SECONDS = 20.0
#: Seconds one tool call may take unless mcp.json sets ``timeout`` for the server or tool.
MCP_CALL_TIMEOUT_SECONDS = 30.0
#: How much of a tool's result text is kept in the effects ledger and the audit (redacted), and shown in the report.
MCP_RESULT_MAX_CHARS = 4_000
MCP_RESULT_REPORT_CHARS = 300
#: How long one value of a connector's result may be in the audit trail (an MCP tool's result text is kept whole,
#: as long as :data:`MCP_RESULT_MAX_CHARS`: the report clips it, the audit is where it is read in full).
AUDIT_RESULT_VALUE_CHARS = 200
#: Prompt tokens the planner's catalogue of actions may take, its text and its schema together (estimated at 3
#: characters per token of JSON). A catalogue that fits is offered whole; a larger one (dozens of MCP tools) is
#: cut to the built-ins, the tools the request names and the most relevant others (core/planning/tool_relevance.py).
PLANNER_CATALOGUE_TOKENS = 4_000
#: Seconds between the web process's looks at the event spool (Slack events kept while Postgres was down).
SPOOL_REPLAY_SECONDS = 2.0

#: A job that failed because Postgres was unavailable is requeued after 2, 4, 8, ... (at most 30) seconds, up to
#: 8 times (about three minutes in all); the recovery pass re-drives its work from Postgres after that.
OUTAGE_RETRY_BASE_SECONDS = 2.0
OUTAGE_RETRY_CAP_SECONDS = 30.0
OUTAGE_RETRY_ATTEMPTS = 8

#: A step that Slack (or another service) keeps failing with retryable errors past the in-job retries is parked
#: and tried again after 15, 30, 60, ... (at most 300) seconds, for up to an hour from the first park
#: (``BATON_STEP_RETRY_HORIZON``), before the plan fails; the plan's report is retried the same way until posted.
STEP_RETRY_HORIZON_SECONDS = 3600
PARK_BASE_SECONDS = 15.0
PARK_CAP_SECONDS = 300.0
#: Seconds an OAuth ``state`` issued by /slack/install stays valid (Slack's own examples use ten minutes).
OAUTH_STATE_EXPIRY_SECONDS = 600

#: Bot scopes an OAuth install asks for: the same list as ``oauth_config.scopes.bot`` in slack-app-manifest.yml
#: (tests/unit/test_install_scopes.py keeps the two equal).
SLACK_BOT_SCOPES = (
    "app_mentions:read", "channels:history", "channels:read", "groups:history", "im:history", "im:write",
    "chat:write", "reactions:write", "users:read", "usergroups:read", "files:read", "commands",
    "assistant:write",  # assistant threads: status, suggested prompts (Slack's AI app surfaces)
)

#: Minutes before a rotating bot token expires that a worker refreshes it (bolt's default for the web process).
TOKEN_REFRESH_MINUTES = 120

#: Days a workspace's data is kept after ``app_uninstalled`` / ``tokens_revoked`` before the reconciler deletes
#: it (``BATON_UNINSTALL_RETENTION_DAYS``; 0: at the next pass). A reinstall within them cancels the purge.
UNINSTALL_RETENTION_DAYS = 30

#: Characters of a streamed answer gathered before each ``chat.appendStream`` (slack_sdk's ``ChatStream`` buffer;
#: its default is 256): small enough that the answer visibly grows, large enough to stay far below Slack's rate limits.
ANSWER_STREAM_BUFFER = 120
#: A new assistant thread whose greeting job was lost (Redis) is greeted by the recovery pass up to this many seconds
#: after it opened; later the person has moved on, and the event is left unhandled.
GREETING_RETRY_HORIZON_SECONDS = 600
