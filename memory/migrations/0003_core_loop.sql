-- The core loop: stored Slack messages, requests, plans and steps, the effects ledger, the audit
-- trail, LLM calls, Baton's own tasks, per-channel policy and simple remembered facts.

-- Every message Baton can see, so thread context comes from Postgres, not conversations.replies.
CREATE TABLE channel_messages (
    team_id    text        NOT NULL,
    channel_id text        NOT NULL,
    ts         text        NOT NULL,
    thread_ts  text,
    user_id    text,
    bot_id     text,
    text       text        NOT NULL DEFAULT '',
    subtype    text,
    edited_at  timestamptz,
    stored_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, channel_id, ts)
);
CREATE INDEX channel_messages_thread ON channel_messages (team_id, channel_id, (coalesce(thread_ts, ts)), ts);

-- One row per request, whatever surface it came from. dedupe_key makes a redelivery under another
-- event_id (Slack sends app_mention and message.* for one message) one request.
CREATE TABLE requests (
    id          bigserial   PRIMARY KEY,
    team_id     text        NOT NULL,
    dedupe_key  text        NOT NULL,
    source      text        NOT NULL CHECK (source IN ('mention', 'dm', 'command', 'shortcut')),
    channel_id  text        NOT NULL,
    channel_type text       NOT NULL DEFAULT 'channel',
    user_id     text        NOT NULL,
    message_ts  text,
    thread_ts   text,
    text        text        NOT NULL,
    context     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status      text        NOT NULL DEFAULT 'received'
                CHECK (status IN ('received', 'planning', 'planned', 'answered', 'refused', 'failed')),
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, dedupe_key)
);
CREATE INDEX requests_unfinished ON requests (created_at) WHERE status IN ('received', 'planning');

CREATE TABLE plans (
    id              bigserial   PRIMARY KEY,
    request_id      bigint      NOT NULL REFERENCES requests (id),
    team_id         text        NOT NULL,
    channel_id      text        NOT NULL,
    channel_type    text        NOT NULL DEFAULT 'channel',
    thread_ts       text,
    requester_id    text        NOT NULL,
    title           text        NOT NULL,
    rationale       text        NOT NULL,
    planner         text        NOT NULL CHECK (planner IN ('llm', 'rules')),
    risk            text        NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'running', 'succeeded', 'failed', 'compensated',
                                      'rejected', 'expired')),
    card_channel    text,
    card_ts         text,
    expires_at      timestamptz NOT NULL,
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text,
    auto_approved   boolean     NOT NULL DEFAULT false,
    tokens_in       integer     NOT NULL DEFAULT 0,
    tokens_out      integer     NOT NULL DEFAULT 0,
    cost_usd        numeric(12, 6) NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (request_id)
);
CREATE INDEX plans_pending ON plans (expires_at) WHERE status = 'pending';

CREATE TABLE plan_steps (
    plan_id      bigint      NOT NULL REFERENCES plans (id),
    idx          integer     NOT NULL,
    action       text        NOT NULL,
    args         jsonb       NOT NULL,
    description  text        NOT NULL,
    depends_on   integer[]   NOT NULL DEFAULT '{}',
    preview      text        NOT NULL,
    risk         text        NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    read_only    boolean     NOT NULL DEFAULT false,
    compensable  boolean     NOT NULL DEFAULT false,
    selected     boolean     NOT NULL DEFAULT true,
    status       text        NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'compensating',
                                   'compensated', 'compensation_failed')),
    attempts     integer     NOT NULL DEFAULT 0,
    lease_until  timestamptz,
    result       jsonb,
    error        text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, idx)
);
CREATE INDEX plan_steps_leased ON plan_steps (lease_until) WHERE status IN ('running', 'compensating');

-- The effects ledger: claimed before a side effect, completed after. Key = plan id + step.
CREATE TABLE effects (
    key         text        PRIMARY KEY,
    plan_id     bigint      NOT NULL REFERENCES plans (id),
    step_idx    integer     NOT NULL,
    action      text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('claimed', 'done', 'compensated')),
    result      jsonb,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);

-- Append-only audit trail: every transition, LLM call, approval and step outcome.
CREATE TABLE audit_log (
    id          bigserial   PRIMARY KEY,
    team_id     text        NOT NULL,
    request_id  bigint,
    plan_id     bigint,
    kind        text        NOT NULL,
    actor       text,
    detail      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_plan ON audit_log (plan_id, id);
CREATE INDEX audit_log_request ON audit_log (request_id, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

CREATE TABLE llm_calls (
    id             bigserial   PRIMARY KEY,
    team_id        text        NOT NULL,
    request_id     bigint,
    plan_id        bigint,
    purpose        text        NOT NULL,
    model          text        NOT NULL,
    template       text,
    template_hash  text,
    input_tokens   integer     NOT NULL DEFAULT 0,
    output_tokens  integer     NOT NULL DEFAULT 0,
    cached_tokens  integer     NOT NULL DEFAULT 0,
    latency_ms     integer     NOT NULL DEFAULT 0,
    cost_usd       numeric(12, 6) NOT NULL DEFAULT 0,
    ok             boolean     NOT NULL,
    error          text,
    at             timestamptz NOT NULL DEFAULT now()
);

-- Baton's own task table (tasks.create / tasks.complete).
CREATE TABLE tasks (
    id              bigserial   PRIMARY KEY,
    team_id         text        NOT NULL,
    title           text        NOT NULL,
    owner_id        text,
    due_date        date,
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    source_link     text,
    idempotency_key text        NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz
);
CREATE INDEX tasks_open_by_owner ON tasks (team_id, owner_id) WHERE status = 'open';

-- Approval policy overrides: channel_id '' is the workspace-wide row.
CREATE TABLE policies (
    team_id    text        NOT NULL,
    channel_id text        NOT NULL DEFAULT '',
    policy     jsonb       NOT NULL,
    updated_by text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, channel_id)
);

-- Facts Baton was asked to remember (memory.remember). Long-term memory with embeddings extends this.
CREATE TABLE remembered_facts (
    id              bigserial   PRIMARY KEY,
    team_id         text        NOT NULL,
    scope           text        NOT NULL CHECK (scope IN ('workspace', 'channel', 'user')),
    channel_id      text,
    user_id         text,
    text            text        NOT NULL,
    source          text,
    author_id       text,
    idempotency_key text        NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
