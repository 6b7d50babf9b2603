-- Moderation: a moderator can be disabled, and every change of a moderator's credentials is audited.

ALTER TABLE moderators ADD COLUMN disabled_at timestamptz;
CREATE TABLE credential_events (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    subject text NOT NULL,
    action text NOT NULL
);
CREATE INDEX credential_events_subject ON credential_events (subject, at);
