-- Moderation: the question a contribution answers, kept so that a decision taken later passes it on.

ALTER TABLE contributions ADD COLUMN question text;
