-- Outbox rows handed over to their writer (`OutboxRelay.transaction`) wake no relay: the trigger
-- notifies `<schema>_outbox` only for an insert that holds other rows.

ALTER TABLE outbox ADD COLUMN handed_over boolean NOT NULL DEFAULT false;
DROP TRIGGER outbox_inserted ON outbox;
CREATE OR REPLACE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted WHERE NOT handed_over) THEN
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
