-- Synthesis: each contribution's sub-theme in a narrow table of its own. The first recompute of a large
-- corpus places every contribution in a sub-theme: a million short rows to insert, where updating the
-- column copied a million whole contribution rows, texts included, and their three indexes.
CREATE TABLE contribution_subthemes (
    contribution_id uuid PRIMARY KEY REFERENCES contributions (id) ON DELETE CASCADE,
    subtheme text NOT NULL
);
INSERT INTO contribution_subthemes (contribution_id, subtheme)
SELECT id, subtheme FROM contributions WHERE subtheme IS NOT NULL;
ALTER TABLE contributions DROP COLUMN subtheme;
