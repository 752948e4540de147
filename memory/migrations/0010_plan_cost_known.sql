-- False when some of a plan's model calls were answered by a model without a known price: its cost_usd then
-- counts only the priced part, and the card says the cost is unknown instead of showing $0.
ALTER TABLE plans ADD COLUMN cost_known boolean NOT NULL DEFAULT true;
