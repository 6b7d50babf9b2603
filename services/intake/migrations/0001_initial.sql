-- Intake: territories, keys, consultations, contributions.

-- include: plumbing

CREATE TABLE territories (
    id text PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    country char(2) NOT NULL,
    languages text[] NOT NULL,
    timezone text NOT NULL,
    charter_version text,
    charter_accepted_at timestamptz,
    moderation_mode text NOT NULL DEFAULT 'automatic',
    auto_reject_grounds text[] NOT NULL DEFAULT '{}',
    licence text NOT NULL DEFAULT 'Licence Ouverte 2.0',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE api_keys (
    id bigserial PRIMARY KEY,
    key_hash text NOT NULL UNIQUE,
    territory text NOT NULL REFERENCES territories(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE TABLE consultations (
    id text PRIMARY KEY,
    territory text NOT NULL REFERENCES territories(id),
    title text NOT NULL,
    framework jsonb NOT NULL,
    opens_at timestamptz,
    closes_at timestamptz,
    closed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consultations_open ON consultations (territory) WHERE closed_at IS NULL;
CREATE TABLE contributions (
    id uuid PRIMARY KEY,
    territory text NOT NULL,
    external_id text NOT NULL,
    consultation text NOT NULL,
    axis text,
    kind text,
    author_role text,
    channel text,
    language text NOT NULL,
    title text,
    body text NOT NULL,
    submitted_at timestamptz NOT NULL,
    author_ref text,
    received_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'submitted',
    decision jsonb,
    decided_at timestamptz,
    published_title text,
    published_text text,
    UNIQUE (territory, external_id)
);
