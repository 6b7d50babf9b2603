-- Synthesis: the decision applied last to each contribution, so that decisions arriving in any order (a
-- rejection before the publication it overturns) end in the same state.

-- include: decision_order
INSERT INTO contribution_decisions (contribution_id, decision_id, decided_at, public)
SELECT id, '', published_at, true FROM contributions;
