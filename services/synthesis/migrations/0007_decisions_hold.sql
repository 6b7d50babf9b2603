-- Synthesis: the decision applied last to each contribution, so that decisions arriving in any order (a
-- rejection before the publication it overturns) end in the same state.

CREATE TABLE contribution_decisions (
    contribution_id uuid PRIMARY KEY,
    decision_id text NOT NULL,
    decided_at timestamptz NOT NULL,
    public boolean NOT NULL,
    erased boolean NOT NULL DEFAULT false,
    withdrawn_at timestamptz
);
INSERT INTO contribution_decisions (contribution_id, decision_id, decided_at, public)
SELECT id, '', published_at, true FROM contributions;
