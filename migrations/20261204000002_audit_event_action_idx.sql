-- The audit page filters by action and offers the actions recorded so far;
-- without an index both read the whole (append-only, ever growing) table.
CREATE INDEX audit_event_action_idx ON audit_event (action, occurred_at DESC);
