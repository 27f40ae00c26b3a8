-- Someone who is not signed in acts through an emailed link or a public form
-- (a provider account request, an API key reveal): the audit trail says so
-- instead of pretending the system did it.
ALTER TYPE audit_actor_kind ADD VALUE IF NOT EXISTS 'visitor';
