-- Synthesis: the question a contribution answers (the classifier reads it), and each contribution's axis
-- history: every move after arrival (a recompute's, with the classifier that made it, or a person's).

ALTER TABLE contributions ADD COLUMN question text;
CREATE TABLE axis_history (
    contribution_id uuid NOT NULL REFERENCES contributions (id) ON DELETE CASCADE,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    previous_axis text,
    axis text,
    axis_source text NOT NULL,
    classifier_version text,
    confidence float4,
    changed_by text
);
CREATE INDEX axis_history_contribution ON axis_history (contribution_id, changed_at);
