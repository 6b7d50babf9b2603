-- Notifications: the public event log (fan-out and replay), territories and syntheses (open data),
-- territory-bound partners, e-mail digests and notices, paused endpoints.

CREATE TABLE public_events (
    event_id text PRIMARY KEY,
    event_type text NOT NULL,
    territory text,
    country char(2),
    axis text,
    payload bytea NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX public_events_occurred ON public_events (occurred_at);

ALTER TABLE deliveries ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN replays integer NOT NULL DEFAULT 0;
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, created_at DESC);

ALTER TABLE subscriptions ADD COLUMN paused_until timestamptz;
ALTER TABLE subscriptions ADD COLUMN disabled_at timestamptz;

ALTER TABLE partners ADD COLUMN territory text;
ALTER TABLE partners ADD COLUMN digest text NOT NULL DEFAULT 'none'
    CHECK (digest IN ('none', 'daily', 'weekly'));
ALTER TABLE partners ADD COLUMN digest_territories text[] NOT NULL DEFAULT '{}';
ALTER TABLE partners ADD COLUMN digest_countries text[] NOT NULL DEFAULT '{}';
ALTER TABLE partners ADD COLUMN digest_axes text[] NOT NULL DEFAULT '{}';
ALTER TABLE partners ADD COLUMN last_digest_at timestamptz;
ALTER TABLE partners ADD COLUMN last_digest_seq bigint NOT NULL DEFAULT 0;

CREATE TABLE digests (
    id bigserial PRIMARY KEY,
    partner text NOT NULL REFERENCES partners(id),
    from_seq bigint NOT NULL,
    to_seq bigint NOT NULL,
    items integer NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE partner_notices (
    id bigserial PRIMARY KEY,
    partner text NOT NULL REFERENCES partners(id),
    subject text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX partner_notices_unsent ON partner_notices (id) WHERE sent_at IS NULL;

CREATE INDEX feed_items_axis ON feed_items (axis, seq DESC);
CREATE TABLE territories (
    id text PRIMARY KEY,
    name text NOT NULL,
    country char(2) NOT NULL,
    kind text,
    licence text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE syntheses (
    scope text NOT NULL,
    key text NOT NULL,
    country char(2),
    version integer NOT NULL,
    contributions_count integer NOT NULL,
    computed_at timestamptz NOT NULL,
    event_id text NOT NULL,
    PRIMARY KEY (scope, key, version)
);
