-- Synthesis: when the last recompute finished and how long it took, so that every replica rests after
-- it in proportion (`PALABRE_SYNTHESIS_RECOMPUTE_SHARE`).

CREATE TABLE last_recompute (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),
    finished_at timestamptz NOT NULL,
    seconds double precision NOT NULL,
    scopes integer NOT NULL,
    contributions integer NOT NULL
);
