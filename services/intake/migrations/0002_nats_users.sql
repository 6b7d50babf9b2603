-- Intake: each territory's NATS user for bus intake (bcrypt hash only).

CREATE TABLE nats_users (
    territory text PRIMARY KEY REFERENCES territories(id),
    username text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
