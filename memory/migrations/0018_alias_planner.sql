-- Plans made by an operator's chat alias or by `/baton run` (core/planning/alias_plans.py): neither the model
-- nor the degraded-mode rules planned them, and the card says so.
ALTER TABLE plans DROP CONSTRAINT plans_planner_check;
ALTER TABLE plans ADD CONSTRAINT plans_planner_check CHECK (planner IN ('llm', 'rules', 'alias'));
