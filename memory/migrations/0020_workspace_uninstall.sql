-- Uninstall hygiene (app_uninstalled / tokens_revoked). A plan of a workspace that removed Baton is `cancelled`
-- (from pending, approved, or running with only parked steps left: nothing of it will run).
ALTER TABLE plans DROP CONSTRAINT plans_status_check;
ALTER TABLE plans ADD CONSTRAINT plans_status_check
    CHECK (status IN ('pending', 'approved', 'running', 'succeeded', 'failed', 'compensated', 'rejected', 'expired',
                      'cancelled'));

-- A workspace whose data is to be deleted once `purge_after` has passed (the reconciler does it); a reinstall
-- before then deletes the row, and so cancels the purge.
CREATE TABLE workspace_purges (
    team_id        text        PRIMARY KEY,
    uninstalled_at timestamptz NOT NULL,
    purge_after    timestamptz NOT NULL
);
