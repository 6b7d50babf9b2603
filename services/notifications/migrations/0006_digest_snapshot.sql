-- Notifications: a digest covers the feed items its partner's previous digest could not see (a snapshot of
-- transaction ids, not a sequence number, so rows committed out of order by two replicas are not skipped);
-- notices and digests are claimed before they are sent, so a crash does not send them twice.

ALTER TABLE feed_items ADD COLUMN inserted_xid xid8;
ALTER TABLE feed_items ALTER COLUMN inserted_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX feed_items_inserted_xid ON feed_items (inserted_xid) WHERE event_type = 'contribution.published';
ALTER TABLE partners ADD COLUMN digest_snapshot pg_snapshot;
ALTER TABLE digests ADD COLUMN status text NOT NULL DEFAULT 'sent' CHECK (status IN ('sending', 'sent', 'failed'));
ALTER TABLE partner_notices ADD COLUMN claimed_at timestamptz;
