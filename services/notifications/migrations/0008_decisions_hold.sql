-- Notifications: the decision applied last to each contribution (decisions may arrive in any order), and
-- the contribution each public event is about (a withdrawal deletes the events that carry its text and tells
-- every subscription that received one).

-- include: decision_order
INSERT INTO contribution_decisions (contribution_id, decision_id, decided_at, public)
SELECT DISTINCT ON (contribution_id) contribution_id, payload->'data'->'decision'->>'id',
       (payload->'data'->'decision'->>'decided_at')::timestamptz, true
FROM feed_items WHERE contribution_id IS NOT NULL ORDER BY contribution_id, seq DESC;

ALTER TABLE public_events ADD COLUMN contribution_id uuid;
UPDATE public_events SET contribution_id = (convert_from(payload, 'UTF8')::jsonb->'data'->>'contribution_id')::uuid
WHERE event_type IN ('contribution.published', 'decision.taken');
CREATE INDEX public_events_contribution ON public_events (contribution_id) WHERE contribution_id IS NOT NULL;
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX feed_items_contribution ON feed_items (contribution_id);
