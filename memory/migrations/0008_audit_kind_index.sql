-- The report and the metrics collector count audit entries by kind (retries, recoveries, decisions).
CREATE INDEX audit_log_kind ON audit_log (kind, at);
