-- Enterprise Grid: the org each workspace served by an org-wide install belongs to. Slack's deliveries name both
-- (the envelope's team, the authorization's org), but a job's row keeps only its team_id; a job finds its org's
-- token through this row. Written by the web process on an org-authorized delivery, deleted with the workspace's
-- data (memory.workspace_purge).
CREATE TABLE slack_team_orgs (
    team_id       text        PRIMARY KEY,
    enterprise_id text        NOT NULL,
    seen_at       timestamptz NOT NULL DEFAULT now()
);
