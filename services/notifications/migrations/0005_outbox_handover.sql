-- Notifications: outbox rows its busy paths publish themselves after the commit wake no relay.

-- include: outbox_handover
