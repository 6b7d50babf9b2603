-- Synthesis: territories, frameworks, published contributions, live counts, computed syntheses.

-- include: plumbing

CREATE TABLE territories (
    id text PRIMARY KEY,
    name text NOT NULL,
    country char(2) NOT NULL
);
CREATE TABLE consultations (
    id text PRIMARY KEY,
    territory text NOT NULL,
    framework jsonb NOT NULL
);
CREATE TABLE contributions (
    id uuid PRIMARY KEY,
    territory text NOT NULL,
    country char(2) NOT NULL,
    consultation text NOT NULL,
    kind text,
    author_role text,
    channel text,
    language text NOT NULL,
    title text,
    text text NOT NULL,
    submitted_at timestamptz NOT NULL,
    published_at timestamptz NOT NULL,
    source_axis text,
    axis text,
    axis_source text NOT NULL DEFAULT 'none',
    axis_confidence real,
    subtheme text
);
CREATE INDEX contributions_territory ON contributions (territory);
CREATE INDEX contributions_country ON contributions (country);
CREATE TABLE counts (
    territory text NOT NULL,
    country char(2) NOT NULL,
    axis text NOT NULL,
    kind text NOT NULL,
    author_role text NOT NULL,
    channel text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (territory, axis, kind, author_role, channel)
);
CREATE TABLE axis_corrections (
    contribution_id uuid PRIMARY KEY,
    axis text NOT NULL,
    corrected_by text NOT NULL,
    corrected_at timestamptz NOT NULL
);
CREATE TABLE syntheses (
    scope text NOT NULL,
    key text NOT NULL,
    version integer NOT NULL,
    contributions_count bigint NOT NULL,
    document jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key, version)
);
CREATE TABLE recompute_requests (
    scope text NOT NULL,
    key text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
