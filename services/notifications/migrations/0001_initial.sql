-- Notifications: partners, subscriptions, public feed items, deliveries and their attempts.

-- include: plumbing

CREATE TABLE partners (
    id text PRIMARY KEY,
    name text NOT NULL,
    email text,
    key_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE subscriptions (
    id uuid PRIMARY KEY,
    partner text NOT NULL REFERENCES partners(id),
    url text NOT NULL,
    secret text NOT NULL,
    previous_secret text,
    previous_secret_until timestamptz,
    territories text[] NOT NULL DEFAULT '{}',
    countries text[] NOT NULL DEFAULT '{}',
    axes text[] NOT NULL DEFAULT '{}',
    event_types text[] NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'active',
    disabled_reason text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE feed_items (
    event_id text PRIMARY KEY,
    event_type text NOT NULL,
    contribution_id uuid,
    territory text,
    country char(2),
    axis text,
    title text,
    text text,
    payload jsonb NOT NULL,
    occurred_at timestamptz NOT NULL,
    seq bigserial UNIQUE
);
CREATE INDEX feed_items_territory ON feed_items (territory, seq DESC);
CREATE INDEX feed_items_country ON feed_items (country, seq DESC);
CREATE TABLE deliveries (
    id uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES subscriptions(id),
    event_id text NOT NULL,
    event_type text NOT NULL,
    payload bytea NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status integer,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE TABLE delivery_attempts (
    id bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES deliveries(id),
    attempted_at timestamptz NOT NULL DEFAULT now(),
    status_code integer,
    latency_ms integer,
    error text
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id);
