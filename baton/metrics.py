"""Prometheus metrics: Postgres and Redis facts read at scrape time, plus the few in-process measurements.

Everything that is already a fact in Postgres or Redis (events received, plans, decisions, LLM calls, step
retries, reconciler recoveries, digests, follow-ups, RQ queues) is read by :class:`FactsCollector` when
``/metrics`` is scraped, so every process on every machine is counted and RQ's forked work horses need no
shared metric files. Its answer is cached for a couple of seconds and its queries have a short
``statement_timeout``: a scrape stays cheap and never hangs; when Postgres or Redis cannot be read,
``baton_metrics_source_up{source}`` says 0 and the rest of the scrape still answers.

Only what exists nowhere else is measured in-process: the Slack ack latency (web process,
:class:`AckMetrics`), its Socket Mode connection (:class:`SocketMetrics`) and the scheduler's ticks
(:class:`SchedulerMetrics`). ``baton serve`` answers
``GET /metrics``; ``baton worker`` and ``baton scheduler`` serve theirs on ``BATON_METRICS_PORT``
(:func:`serve_metrics`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIServer

import redis
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from rq import Queue, Worker

from core import defaults
from memory import metrics_sql
from memory.embedded.supervisor import RestartLog
from workers.api import spooled_count

log = logging.getLogger(__name__)

#: Seconds a scrape's answer is reused, and the per-statement limit of its queries.
CACHE_SECONDS = 2.0
QUERY_TIMEOUT_MS = 2_000
#: Upper bounds (seconds): model call latency, a person's approval wait, Slack's ack (it retries after 3 s).
LLM_LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
APPROVAL_WAIT_BUCKETS = (10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 8 * 3600.0, 24 * 3600.0)
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
#: RQ registries reported per queue (``queued`` is the queue itself: its depth).
RQ_STATES = ("started", "finished", "failed", "deferred", "scheduled", "canceled")

Connect = Callable[[], AbstractContextManager[Any]]


class FactsCollector(Collector):
    """A Prometheus collector reading Postgres (through ``connect``) and Redis (RQ) at scrape time."""

    def __init__(
        self,
        *,
        connect: Connect,
        redis_conn: redis.Redis | None,
        cache_seconds: float = CACHE_SECONDS,
        timeout_ms: int = QUERY_TIMEOUT_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect, self._redis = connect, redis_conn
        #: Seconds an answer is reused (0: read the sources on every scrape).
        self.cache_seconds = cache_seconds
        self._timeout_ms, self._clock = timeout_ms, clock
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> Iterable[Metric]:
        """Nothing up front: registering must not query the database."""
        return []

    def collect(self) -> Iterable[Metric]:
        """The families, from the cache when it is fresh; one scrape at a time reads the sources."""
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached[0] >= self.cache_seconds:
                self._cached = (now, self._read())
            return list(self._cached[1])

    def _read(self) -> list[Metric]:
        up = GaugeMetricFamily("baton_metrics_source_up", "1 if the last scrape could read the source",
                               labels=["source"])
        families: list[Metric] = [up]
        try:
            with self._connect() as conn:
                snap = metrics_sql.snapshot(
                    conn, timeout_ms=self._timeout_ms, latency_buckets=LLM_LATENCY_BUCKETS,
                    wait_buckets=APPROVAL_WAIT_BUCKETS,
                )
            families += postgres_families(snap)
            up.add_metric(["postgres"], 1)
        except Exception as err:  # a scrape must answer even when Postgres does not
            log.warning("metrics: could not read Postgres: %s", err)
            up.add_metric(["postgres"], 0)
        if self._redis is not None:
            try:
                families += rq_families(self._redis)
                up.add_metric(["redis"], 1)
            except Exception as err:
                log.warning("metrics: could not read Redis: %s", err)
                up.add_metric(["redis"], 0)
        return families


def postgres_families(snap: metrics_sql.Snapshot) -> list[Metric]:
    """The metric families of one Postgres snapshot."""
    events = CounterMetricFamily("baton_slack_events", "Events API deliveries recorded, by event type",
                                 labels=["type"])
    for row in snap.events:
        events.add_metric([row["event_type"]], row["n"])
    requests = GaugeMetricFamily("baton_requests", "Requests by source and status", labels=["source", "status"])
    for row in snap.requests:
        requests.add_metric([row["source"], row["status"]], row["n"])
    plans = GaugeMetricFamily("baton_plans", "Plans by kind and status (outcome)", labels=["kind", "status"])
    for row in snap.plans:
        plans.add_metric([row["kind"], row["status"]], row["n"])
    decisions = CounterMetricFamily(
        "baton_plan_decisions",
        "Plans decided by a person: approved as proposed, edited (approved with steps left out) or rejected",
        labels=["decision"],
    )
    by_decision = {row["decision"]: int(row["n"]) for row in snap.decisions}
    for decision in ("approved", "edited", "rejected"):
        decisions.add_metric([decision], by_decision.get(decision, 0))
    decided = sum(by_decision.values())
    override = GaugeMetricFamily(
        "baton_human_override_ratio", "(rejected + edited) / plans decided by a person; 0 before any decision",
        value=(by_decision.get("rejected", 0) + by_decision.get("edited", 0)) / decided if decided else 0.0,
    )
    wait = _histogram("baton_approval_wait_seconds", "Time from plan proposed to a person's decision",
                      ["decision"], snap.approval_wait, APPROVAL_WAIT_BUCKETS)
    return [events, requests, plans, decisions, override, wait, *llm_families(snap), *step_families(snap),
            *timed_families(snap)]


def llm_families(snap: metrics_sql.Snapshot) -> list[Metric]:
    """Model calls, tokens, cost (and calls whose price was unknown) by model and purpose; latency."""
    labels = ["model", "purpose"]
    calls = CounterMetricFamily("baton_llm_calls", "Model calls by outcome and response-cache use",
                                labels=[*labels, "outcome", "cache"])
    tokens = CounterMetricFamily("baton_llm_tokens", "Model tokens by direction (cached: input served from "
                                 "the provider's prompt cache)", labels=[*labels, "direction"])
    cost = CounterMetricFamily("baton_llm_cost_usd", "Model cost in US dollars (known prices only)", labels=labels)
    unpriced = CounterMetricFamily("baton_llm_unpriced_calls", "Model calls whose price was unknown",
                                   labels=labels)
    sums: dict[tuple[str, str], dict[str, float]] = {}
    for row in snap.llm:
        key: tuple[str, str] = (row["model"], row["purpose"])
        calls.add_metric([*key, "ok" if row["ok"] else "error", "hit" if row["cache_hit"] else "miss"], row["n"])
        bucket = sums.setdefault(key, {"input": 0, "output": 0, "cached": 0, "cost": 0.0, "unpriced": 0})
        bucket["input"] += row["input_tokens"]
        bucket["output"] += row["output_tokens"]
        bucket["cached"] += row["cached_tokens"]
        bucket["cost"] += float(row["cost_usd"])
        bucket["unpriced"] += 0 if row["cost_known"] else row["n"]
    for key, total in sums.items():
        for direction in ("input", "output", "cached"):
            tokens.add_metric([*key, direction], total[direction])
        cost.add_metric(list(key), total["cost"])
        unpriced.add_metric(list(key), total["unpriced"])
    latency = _histogram("baton_llm_latency_seconds", "Model call latency (calls answered from the cache "
                         "excluded)", labels, snap.llm_latency, LLM_LATENCY_BUCKETS)
    return [calls, tokens, cost, unpriced, latency]


def step_families(snap: metrics_sql.Snapshot) -> list[Metric]:
    """Step retries, compensations and reconciler recoveries."""
    audit = {(row["kind"], row["what"]): int(row["n"]) for row in snap.audit}
    retries = CounterMetricFamily(
        "baton_step_retries", "Step retries: transient errors retried in a run, steps parked for a later try by "
        "an outage, and steps resumed after a lost worker (attempts - 1)", labels=["reason"])
    retries.add_metric(["transient"], sum(n for (kind, _), n in audit.items() if kind == "step.retry"))
    retries.add_metric(["parked"], sum(n for (kind, _), n in audit.items() if kind == "step.parked"))
    retries.add_metric(["resumed"], int(snap.steps.get("resumed") or 0))
    compensations = CounterMetricFamily("baton_step_compensations", "Completed steps undone after a failure",
                                        labels=["outcome"])
    compensations.add_metric(["compensated"], int(snap.steps.get("compensated") or 0))
    compensations.add_metric(["failed"], int(snap.steps.get("compensation_failed") or 0))
    recoveries = CounterMetricFamily("baton_reconciler_recoveries", "Work the reconciler found lost and enqueued "
                                     "again", labels=["what"])
    for (kind, what), n in sorted(audit.items()):
        if kind == "reconcile.recovered":
            recoveries.add_metric([what or "unknown"], n)
    return [retries, compensations, recoveries]


def timed_families(snap: metrics_sql.Snapshot) -> list[Metric]:
    """Digest runs (sends) and meeting follow-ups by status."""
    digests = GaugeMetricFamily("baton_digest_runs", "Digest runs by trigger and status (sent: posted)",
                                labels=["trigger", "status"])
    for row in snap.digests:
        digests.add_metric([row["trigger"], row["status"]], row["n"])
    followups = GaugeMetricFamily("baton_followups", "Meeting reminders and check-ins by status",
                                  labels=["kind", "status"])
    for row in snap.followups:
        followups.add_metric([row["kind"], row["status"]], row["n"])
    return [digests, followups]


def rq_families(connection: redis.Redis) -> list[Metric]:
    """Queue depth and jobs per RQ registry (started, finished, failed, ...) for each of Baton's queues."""
    depth = GaugeMetricFamily("baton_queue_depth", "Jobs waiting in the queue", labels=["queue"])
    jobs = GaugeMetricFamily("baton_rq_jobs", "Jobs by queue and state (finished and failed expire after RQ's "
                             "result and failure TTLs)", labels=["queue", "state"])
    for name in defaults.QUEUES:
        queue = Queue(name, connection=connection)
        count = queue.count
        depth.add_metric([name], count)
        jobs.add_metric([name, "queued"], count)
        for state in RQ_STATES:
            registry = getattr(queue, f"{state}_job_registry")
            jobs.add_metric([name, state], registry.get_job_count(cleanup=False))  # a scrape never mutates RQ
    workers = GaugeMetricFamily("baton_rq_workers", "RQ workers registered in Redis",
                                value=Worker.count(connection=connection))
    spooled = GaugeMetricFamily("baton_spooled_events", "Slack events kept in Redis while Postgres was unavailable, "
                                "waiting to be replayed", value=spooled_count(connection))
    return [depth, jobs, workers, spooled]


def _histogram(name: str, documentation: str, labels: list[str], rows: Sequence[metrics_sql.HistogramRow],
               bounds: Sequence[float]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=labels)
    for row in rows:
        buckets = [(_le(bound), count) for bound, count in zip(bounds, row.cumulative, strict=True)]
        family.add_metric(list(row.labels), [*buckets, ("+Inf", row.count)], row.total)
    return family


def _le(bound: float) -> str:
    return str(float(bound))


# -- in-process metrics -------------------------------------------------------------------------------
class AckMetrics:
    """The web process's own measurement: time from a Slack request arriving to its HTTP response."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram("baton_slack_ack_seconds", "Time from a Slack request received to the response "
                                 "(the ack)", ["kind"], buckets=ACK_BUCKETS, registry=registry)
        self.responses = Counter("baton_slack_responses", "Slack requests answered, by kind and HTTP status",
                                 ["kind", "status"], registry=registry)

    def observe(self, kind: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        self.latency.labels(kind).observe(seconds)
        self.responses.labels(kind, str(status)).inc()


class SocketMetrics:
    """The web process's Socket Mode connection: whether it is open, and how often it was replaced."""

    def __init__(self, registry: CollectorRegistry, *, is_open: Callable[[], bool]) -> None:
        self.reconnects = Counter("baton_slack_socket_reconnects", "Socket Mode connections opened after the "
                                  "first one (Slack's disconnect requests, dropped connections)", registry=registry)
        self.connected = Gauge("baton_slack_socket_connected", "1 while the Socket Mode connection is open",
                               registry=registry)
        self.connected.set_function(lambda: 1.0 if is_open() else 0.0)

    def on_hello(self, reconnect: bool) -> None:
        """A connection was opened (Slack said hello on it)."""
        if reconnect:
            self.reconnects.inc()


class SchedulerMetrics:
    """The scheduler's own measurement: ticks by outcome."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.ticks = Counter("baton_scheduler_ticks", "Scheduler ticks by outcome", ["outcome"], registry=registry)


def slack_kind(body: bytes, content_type: str) -> str:
    """``event`` (Events API), ``command`` (slash command), ``action`` (any interactivity payload) or ``other``."""
    try:
        if "json" in content_type:
            return "event" if isinstance(json.loads(body or b"{}"), dict) else "other"
        form = parse_qs(body.decode("utf-8", "replace"))
    except ValueError:
        return "other"
    if "command" in form:
        return "command"
    return "action" if "payload" in form else "other"


class EmbeddedRestartsCollector(Collector):
    """``baton_embedded_restarts_total{server}``: restarts of the embedded servers of one ``BATON_HOME`` by their
    supervisors (``memory.embedded.supervisor``), whichever process made them."""

    def __init__(self, restarts: RestartLog, servers: Sequence[str]) -> None:
        self.restarts = restarts
        self.servers = tuple(servers)

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily("baton_embedded_restarts", "Restarts of a dead embedded server by Baton",
                                     labels=["server"])
        counts = self.restarts.counts()
        for server in self.servers:
            family.add_metric([server], counts.get(server, 0))
        yield family


def process_registry(collector: Collector | None) -> CollectorRegistry:
    """A registry with the facts collector and this process's CPU, memory and GC metrics."""
    from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    if collector is not None:
        registry.register(collector)
    return registry


def serve_metrics(port: int, registry: CollectorRegistry, *, addr: str = "0.0.0.0") -> WSGIServer | None:
    """Serve ``registry`` on ``addr:port`` in a daemon thread (port 0 picks one: ``server.server_port``).

    A port already in use is logged and skipped: a worker without metrics still does its work.
    """
    try:
        server, _thread = start_http_server(port, addr=addr, registry=registry)
    except OSError as err:
        log.warning("metrics: cannot listen on port %s (%s); this process serves no /metrics", port, err)
        return None
    log.info("metrics on http://%s:%s/metrics", addr, server.server_port)
    return server
