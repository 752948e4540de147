-- Slack's assistant threads (the AI app split view): one row per thread, written in the transaction that records
-- its assistant_thread_started / assistant_thread_context_changed event, so a request made in the thread knows
-- which channel its person is looking at. context_* are '' when Slack gave no context (e.g. the thread was opened
-- from the app's own DM). greeted_at is set once the greeting and suggested prompts are up (a redelivered or
-- re-run job greets once).
CREATE TABLE assistant_threads (
    team_id               text        NOT NULL,
    channel_id            text        NOT NULL,
    thread_ts             text        NOT NULL,
    user_id               text        NOT NULL,
    context_channel_id    text        NOT NULL DEFAULT '',
    context_team_id       text        NOT NULL DEFAULT '',
    context_enterprise_id text        NOT NULL DEFAULT '',
    started_at            timestamptz NOT NULL DEFAULT now(),
    context_changed_at    timestamptz,
    greeted_at            timestamptz,
    PRIMARY KEY (team_id, channel_id, thread_ts)
);
