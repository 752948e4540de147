-- Why the rules planner stood in for the model (no model, not answering in time, unreadable replies),
-- shown on the plan card; NULL for plans the model made.
ALTER TABLE plans ADD COLUMN degraded_reason text;
