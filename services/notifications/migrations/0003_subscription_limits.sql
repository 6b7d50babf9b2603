-- Notifications: each subscription may ask for its own request rate and requests in flight (NULL: the
-- service's defaults).

ALTER TABLE subscriptions ADD COLUMN max_in_flight integer CHECK (max_in_flight >= 1);
ALTER TABLE subscriptions ADD COLUMN max_rate_per_s double precision CHECK (max_rate_per_s > 0);
