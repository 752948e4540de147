-- Every inbound Slack event Baton acts on, recorded before the HTTP ack.
-- (team_id, event_id) is unique so a redelivery (X-Slack-Retry-Num) is recognised and not acted on twice.
CREATE TABLE slack_events (
    id          bigserial PRIMARY KEY,
    team_id     text        NOT NULL,
    event_id    text        NOT NULL,
    event_type  text        NOT NULL,
    channel_id  text,
    user_id     text,
    message_ts  text,
    thread_ts   text,
    retry_num   integer     NOT NULL DEFAULT 0,
    payload     jsonb       NOT NULL,
    status      text        NOT NULL DEFAULT 'received'
                CHECK (status IN ('received', 'handling', 'done', 'failed', 'ignored')),
    error       text,
    received_at timestamptz NOT NULL DEFAULT now(),
    handled_at  timestamptz,
    UNIQUE (team_id, event_id)
);

-- The reconciler looks for work that was recorded but never handled (e.g. Redis was down at ack time).
CREATE INDEX slack_events_unhandled ON slack_events (received_at) WHERE status IN ('received', 'handling');
