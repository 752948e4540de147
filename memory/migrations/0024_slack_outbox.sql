-- Slack posts that wait for their channel's turn (the per-channel pace) in Postgres instead of in a sleeping
-- worker: a job carries the row's id and posts it at the turn, keyed (message metadata) so a rerun finds it.
-- Rows of one thread are posted in id order; the recovery pass re-drives a thread whose due row was not posted.
CREATE TABLE slack_outbox (
    id          bigserial   PRIMARY KEY,
    team_id     text        NOT NULL,
    channel_id  text        NOT NULL,
    thread_ts   text,
    idem_key    text        NOT NULL UNIQUE,
    text        text        NOT NULL,
    blocks      jsonb,
    state       text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'posted', 'failed')),
    due_at      timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    posted_ts   text,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);
CREATE INDEX slack_outbox_pending ON slack_outbox (channel_id, (COALESCE(thread_ts, '')), id)
    WHERE state = 'pending';
