-- Notifications: where synthesis placed each published contribution (its framework and axis, from
-- `synthesis.axes-placed`), and each consultation's framework (from `consultation.opened`), so that feeds by
-- framework and axis follow the synthesis, not the axis a source gave.

CREATE TABLE axis_placements (
    contribution_id uuid PRIMARY KEY,
    framework text NOT NULL,
    axis text,
    axis_source text NOT NULL,
    placed_at timestamptz NOT NULL
);
CREATE INDEX axis_placements_framework_axis ON axis_placements (framework, axis);

CREATE TABLE consultation_frameworks (
    consultation text PRIMARY KEY,
    framework text NOT NULL,
    axes text[] NOT NULL
);
