-- Notifications: a partner's key can be revoked (no key), and every change of a key is audited.

ALTER TABLE partners ALTER COLUMN key_hash DROP NOT NULL;
CREATE TABLE credential_events (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    subject text NOT NULL,
    action text NOT NULL
);
CREATE INDEX credential_events_subject ON credential_events (subject, at);
