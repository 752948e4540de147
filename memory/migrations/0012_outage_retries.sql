-- Steps (and plan reports) parked after a retryable outage outlasted the in-job retries: they wait for
-- retry_at instead of failing the plan. The horizon (BATON_STEP_RETRY_HORIZON) counts from since. idx -1 is the
-- plan's final report, which is retried until it is posted; a row for it is deleted once it is.
CREATE TABLE parked_steps (
    plan_id   bigint      NOT NULL REFERENCES plans (id),
    idx       integer     NOT NULL,
    since     timestamptz NOT NULL,
    retry_at  timestamptz NOT NULL,
    parks     integer     NOT NULL DEFAULT 1,
    reason    text        NOT NULL,
    PRIMARY KEY (plan_id, idx)
);
CREATE INDEX parked_steps_due ON parked_steps (retry_at);

-- The RQ job that moved a request to 'planning': the same job, retried after a database outage cut its run
-- short (workers/outage_retry.py), may take the request up again instead of waiting for the stuck-planning reset.
ALTER TABLE requests ADD COLUMN planning_job text;
