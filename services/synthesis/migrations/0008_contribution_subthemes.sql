-- Synthesis: each contribution's sub-theme in a narrow table of its own. The first recompute of a large
-- corpus places every contribution in a sub-theme: a million short rows to insert, where updating the
-- column copied a million whole contribution rows, texts included, and their three indexes. No foreign
-- key: checking one locks the contribution's row, which costs as much as the update did; a withdrawal
-- deletes the row's sub-theme with it (`store.remove_published`).
CREATE TABLE contribution_subthemes (
    contribution_id uuid PRIMARY KEY,
    subtheme text NOT NULL
);
INSERT INTO contribution_subthemes (contribution_id, subtheme)
SELECT id, subtheme FROM contributions WHERE subtheme IS NOT NULL;
ALTER TABLE contributions DROP COLUMN subtheme;
