-- Meetings: a transcript becomes notes, action items and (after one approval) follow-ups:
-- tasks, a DM per owner, a reminder the working day before each due date and check-ins in the
-- meeting thread until every item is done.

-- File uploads in a thread Baton is in (no mention needed) are requests too.
ALTER TABLE requests DROP CONSTRAINT requests_source_check;
ALTER TABLE requests ADD CONSTRAINT requests_source_check
    CHECK (source IN ('mention', 'dm', 'command', 'shortcut', 'upload'));

-- A meeting's follow-ups are a plan like any other (same policy, decision and execution), with
-- the meeting card as its card.
ALTER TABLE plans ADD COLUMN kind text NOT NULL DEFAULT 'request' CHECK (kind IN ('request', 'meeting'));

CREATE TABLE meetings (
    id              bigserial   PRIMARY KEY,
    team_id         text        NOT NULL,
    request_id      bigint      NOT NULL UNIQUE REFERENCES requests (id),
    channel_id      text        NOT NULL,
    thread_ts       text,
    uploader_id     text        NOT NULL,
    file_id         text,
    file_name       text,
    -- The same transcript twice (a re-upload, another channel) gets one summary.
    content_sha256  text        NOT NULL,
    status          text        NOT NULL DEFAULT 'summarizing'
                    CHECK (status IN ('summarizing', 'summarized', 'failed')),
    meeting_date    date        NOT NULL,
    tz              text        NOT NULL DEFAULT 'UTC',
    transcript_format text,
    turns           integer     NOT NULL DEFAULT 0,
    words           integer     NOT NULL DEFAULT 0,
    speakers        text[]      NOT NULL DEFAULT '{}',
    notes           jsonb,      -- summary bullets, decisions, open questions (items live below)
    mode            text        CHECK (mode IN ('llm', 'extractive')),
    degraded_reason text,
    chunks          integer     NOT NULL DEFAULT 0,
    llm_calls       integer     NOT NULL DEFAULT 0,
    input_tokens    integer     NOT NULL DEFAULT 0,
    output_tokens   integer     NOT NULL DEFAULT 0,
    cost_usd        numeric(12, 6) NOT NULL DEFAULT 0,
    card_channel    text,
    card_ts         text,
    plan_id         bigint      REFERENCES plans (id),
    all_done_at     timestamptz,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, content_sha256)
);

CREATE TABLE meeting_items (
    meeting_id      bigint      NOT NULL REFERENCES meetings (id),
    idx             integer     NOT NULL,
    task            text        NOT NULL,
    owner_name      text,
    owner_id        text,
    due_date        date,
    due_text        text,
    evidence_quote  text,
    evidence_turn   integer,
    evidence_at     double precision,
    selected        boolean     NOT NULL DEFAULT true,
    task_id         bigint      REFERENCES tasks (id),
    PRIMARY KEY (meeting_id, idx)
);

-- Timed follow-up work: reminders (DM to one owner) and check-ins (in the meeting thread).
-- A row is claimed by one dispatcher (status + lease), sent once (the Slack post is keyed), and
-- the next check-in is a new row, so nothing is ever sent twice for one (meeting, kind, owner, day).
CREATE TABLE followups (
    id              bigserial   PRIMARY KEY,
    team_id         text        NOT NULL,
    meeting_id      bigint      NOT NULL REFERENCES meetings (id),
    kind            text        NOT NULL CHECK (kind IN ('reminder', 'checkin')),
    owner_id        text        NOT NULL DEFAULT '',   -- '' for check-ins (the whole meeting)
    due_on          date        NOT NULL,
    run_at          timestamptz NOT NULL,
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'claimed', 'sent', 'skipped', 'cancelled')),
    lease_until     timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    channel_id      text,
    message_ts      text,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, kind, owner_id, due_on)
);
CREATE INDEX followups_due ON followups (run_at) WHERE status IN ('pending', 'claimed');

-- Every Slack message that shows a meeting's items (the card, owner DMs, reminders, check-ins),
-- so marking an item done anywhere re-renders all of them.
CREATE TABLE meeting_messages (
    meeting_id      bigint      NOT NULL REFERENCES meetings (id),
    channel_id      text        NOT NULL,
    ts              text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('card', 'owner_dm', 'reminder', 'checkin')),
    owner_id        text        NOT NULL DEFAULT '',
    due_on          date,
    PRIMARY KEY (channel_id, ts)
);
CREATE INDEX meeting_messages_meeting ON meeting_messages (meeting_id);
