-- A person settles an at-most-once step whose outcome is unknown: "It happened" (succeeded), "Run it again"
-- (pending again, under a fresh attempt key) or "Skip" (skipped). The plan waits for them in 'running'.
--   rerun       how many times a person asked for the step to run again: its idempotency key's round
--   asked_ts    the thread message that asks (set once posted: the recovery pass leaves an asked plan alone)
--   settled_by  who decided, settled_as what they decided (the last decision, for the card and the report)
-- at_most_once: the step's connector is called at most once (the card's badge; an MCP tool with no key and no
-- idempotent hint).
ALTER TABLE plan_steps ADD COLUMN at_most_once boolean NOT NULL DEFAULT false;
ALTER TABLE plan_steps ADD COLUMN rerun integer NOT NULL DEFAULT 0;
ALTER TABLE plan_steps ADD COLUMN asked_ts text;
ALTER TABLE plan_steps ADD COLUMN settled_by text;
ALTER TABLE plan_steps ADD COLUMN settled_as text CHECK (settled_as IN ('happened', 'rerun', 'skipped'));

-- The MCP tools as last listed, one row per configured server: at worker start, on `baton tools refresh`, and
-- when a call found a tool changed. `/baton tools` shows them, and a worker whose own listing is older than the
-- newest version takes these (so a re-plan plans with the tools as they are now). `tools` holds each tool's
-- definition and pin ([{name, description, inputSchema, annotations, pin}]); `problem` why it was not listed.
CREATE SEQUENCE mcp_listing_versions;
CREATE TABLE mcp_listings (
    server     text        PRIMARY KEY,
    tools      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    problem    text,
    listed_at  timestamptz NOT NULL,
    version    bigint      NOT NULL DEFAULT nextval('mcp_listing_versions')
);
