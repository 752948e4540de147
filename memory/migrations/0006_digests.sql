-- Daily digests: one setting per channel (target = channel id) or person (target = user id, sent by
-- DM), and one run per (target, local date): the scheduler's claim, so two schedulers, a restart or a
-- catch-up after downtime never send a scheduled digest twice.

CREATE TABLE digest_settings (
    team_id         text        NOT NULL,
    target          text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('channel', 'personal')),
    schedule        text        NOT NULL CHECK (schedule IN ('daily', 'weekdays')),
    local_time      time        NOT NULL,
    tz              text        NOT NULL,
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_reason text,
    configured_by   text,
    last_sent_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, target)
);
CREATE INDEX digest_settings_enabled ON digest_settings (team_id) WHERE enabled;

CREATE TABLE digest_runs (
    id              bigserial   PRIMARY KEY,
    team_id         text        NOT NULL,
    target          text        NOT NULL,
    trigger         text        NOT NULL CHECK (trigger IN ('scheduled', 'now')),
    local_date      date        NOT NULL,
    due_at          timestamptz NOT NULL,
    -- claimed: a sender owns it (lease); sent / empty (nothing to say) / skipped (missed the grace,
    -- channel archived) / failed (gave up after retries).
    status          text        NOT NULL DEFAULT 'claimed'
                    CHECK (status IN ('claimed', 'sent', 'empty', 'skipped', 'failed')),
    lease_until     timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    -- /baton digest now: the command's trigger id, so a retried command sends one digest.
    request_key     text        UNIQUE,
    channel_id      text,
    message_ts      text,
    since           timestamptz,
    detail          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX digest_runs_once_a_day ON digest_runs (team_id, target, local_date) WHERE trigger = 'scheduled';
CREATE INDEX digest_runs_leased ON digest_runs (lease_until) WHERE status = 'claimed';
