-- Moderation: territories' policies, contributions under moderation, decisions (audit log), appeals,
-- moderators and their sessions.

-- include: plumbing

CREATE TABLE territories (
    id text PRIMARY KEY,
    name text NOT NULL,
    country char(2) NOT NULL,
    moderation_mode text NOT NULL DEFAULT 'automatic',
    auto_reject_grounds text[] NOT NULL DEFAULT '{}',
    languages text[] NOT NULL DEFAULT '{fr}'
);
CREATE TABLE consultations (
    id text PRIMARY KEY,
    territory text NOT NULL,
    framework jsonb NOT NULL
);
CREATE TABLE contributions (
    id uuid PRIMARY KEY,
    external_id text NOT NULL,
    territory text NOT NULL,
    country char(2) NOT NULL,
    consultation text NOT NULL,
    axis text,
    kind text,
    author_role text,
    channel text,
    language text NOT NULL,
    title text,
    body text NOT NULL,
    submitted_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    flags jsonb NOT NULL DEFAULT '[]',
    redacted_title text,
    redacted_body text,
    redacted_spans jsonb NOT NULL DEFAULT '[]',
    signature bigint,
    status text NOT NULL,
    decided_at timestamptz
);
CREATE INDEX contributions_queue ON contributions (territory, status, received_at);
CREATE INDEX contributions_signatures ON contributions (territory, received_at DESC)
    WHERE signature IS NOT NULL;
CREATE TABLE decisions (
    id uuid PRIMARY KEY,
    contribution_id uuid NOT NULL REFERENCES contributions(id),
    outcome text NOT NULL,
    grounds jsonb NOT NULL,
    automated boolean NOT NULL,
    decided_by text NOT NULL,
    decided_at timestamptz NOT NULL,
    decision jsonb NOT NULL
);
CREATE INDEX decisions_by_contribution ON decisions (contribution_id, decided_at);
CREATE INDEX decisions_by_time ON decisions (decided_at);
CREATE TABLE appeals (
    id uuid PRIMARY KEY,
    contribution_id uuid NOT NULL REFERENCES contributions(id),
    reason text NOT NULL,
    filed_by text NOT NULL,
    filed_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by text,
    resolution text
);
CREATE TABLE moderators (
    login text PRIMARY KEY,
    password_hash text NOT NULL,
    territory text,
    role text NOT NULL CHECK (role IN ('territory', 'network')),
    language text NOT NULL DEFAULT 'fr',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    login text NOT NULL REFERENCES moderators(login),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
