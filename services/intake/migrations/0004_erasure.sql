-- Intake: a contribution erased at its author's request (GDPR Art. 17) keeps its decision trail and who
-- erased it when, never its text.

ALTER TABLE contributions ADD COLUMN erasure_id uuid, ADD COLUMN erased_at timestamptz,
    ADD COLUMN erased_by text;
