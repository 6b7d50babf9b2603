-- Moderators' UI: who reviewed a contribution (the 'reported' queue holds the flagged ones nobody has),
-- and the indexes the queues and sessions use.

ALTER TABLE contributions ADD COLUMN reviewed_by text, ADD COLUMN reviewed_at timestamptz;
CREATE INDEX contributions_by_status ON contributions (status, received_at);
CREATE INDEX contributions_reported ON contributions (territory, received_at)
    WHERE reviewed_at IS NULL AND status IN ('published', 'published-redacted') AND flags <> '[]'::jsonb;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX appeals_open ON appeals (contribution_id) WHERE resolved_at IS NULL;
