-- Synthesis: a recompute a person asked for (`POST /v1/syntheses/recompute`) is due at once, even while
-- the pipeline is busy and recomputes from changes wait.

ALTER TABLE recompute_requests ADD COLUMN asked boolean NOT NULL DEFAULT false;
