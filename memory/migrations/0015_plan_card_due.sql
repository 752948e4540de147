-- When a plan's card waits for its channel's turn (the per-channel post pace), the moment it is due: the
-- recovery pass leaves such a plan alone until then (its own job posts it), and starts no approved plan
-- before its card is up.
ALTER TABLE plans ADD COLUMN card_due_at timestamptz;
