-- The decision applied last to each contribution, read by shared/decision_order.py: decisions arriving
-- in any order end in the same state.
CREATE TABLE contribution_decisions (
    contribution_id uuid PRIMARY KEY,
    decision_id text NOT NULL,
    decided_at timestamptz NOT NULL,
    public boolean NOT NULL,
    erased boolean NOT NULL DEFAULT false,
    withdrawn_at timestamptz
);
