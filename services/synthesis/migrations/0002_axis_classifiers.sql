-- Synthesis: the fitted axis classifier of each framework, shared by every replica and kept across
-- restarts (fitting one from the corpus costs about 6 ms of CPU per text).

CREATE TABLE axis_classifiers (
    framework_key text PRIMARY KEY,
    fitted_at timestamptz NOT NULL,
    corpus_size integer NOT NULL,
    model bytea NOT NULL
);
