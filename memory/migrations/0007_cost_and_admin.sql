-- Cost control: every model call is attributed to what it served (channel, user, meeting, digest) so
-- spend can be summed per plan, meeting, digest, channel, user and day and checked against budgets
-- before the next call; a price the table did not know is recorded as unknown rather than as free.

ALTER TABLE llm_calls
    ADD COLUMN channel_id    text,
    ADD COLUMN user_id       text,
    ADD COLUMN meeting_id    bigint,
    ADD COLUMN digest_run_id bigint,
    ADD COLUMN cost_known    boolean NOT NULL DEFAULT true,
    ADD COLUMN cache_hit     boolean NOT NULL DEFAULT false,
    ADD COLUMN fallback_from text;

CREATE INDEX llm_calls_team_day ON llm_calls (team_id, at);
CREATE INDEX llm_calls_channel_day ON llm_calls (team_id, channel_id, at);
CREATE INDEX llm_calls_request ON llm_calls (request_id);
