-- Axis corrections made by moderators: each one kept (who, when, from which axis to which).

CREATE TABLE axis_corrections (
    id uuid PRIMARY KEY,
    contribution_id uuid NOT NULL REFERENCES contributions(id),
    axis text NOT NULL,
    previous_axis text,
    corrected_by text NOT NULL,
    corrected_at timestamptz NOT NULL
);
CREATE INDEX axis_corrections_of ON axis_corrections (contribution_id, corrected_at);
