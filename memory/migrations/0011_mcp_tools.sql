-- MCP tools as actions. A step records the pin (SHA-256 of the tool's definition) it was planned and approved
-- with; the executor refuses to run it if the server now describes the tool differently. An at-most-once call
-- that was interrupted (timeout, disconnect, a worker killed mid-call) ends its step as 'outcome_unknown':
-- nothing repeats it by itself.
ALTER TABLE plan_steps ADD COLUMN pin text;
ALTER TABLE plan_steps DROP CONSTRAINT plan_steps_status_check;
ALTER TABLE plan_steps ADD CONSTRAINT plan_steps_status_check
    CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'compensating', 'compensated',
                      'compensation_failed', 'outcome_unknown'));
