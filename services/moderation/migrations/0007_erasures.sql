-- Moderation: contributions erased at their author's request (GDPR Art. 17). The text goes, the decisions
-- stay; an erasure that arrives before the submission keeps that submission from being moderated.

CREATE TABLE erasures (
    contribution_id uuid PRIMARY KEY,
    erasure_id text NOT NULL,
    erased_at timestamptz NOT NULL
);
