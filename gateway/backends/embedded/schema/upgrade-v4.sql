-- Embedded store, schema version 4: the component link's durable outbound queue.
-- Before v4 the link created these tables itself on first use, so a store may have
-- them already: IF NOT EXISTS keeps those tables and the stanzas waiting in them.

-- Stanzas accepted for the XMPP server, in id order, until the server has taken them.
-- created is DOUBLE PRECISION, not REAL: PostgreSQL's REAL is 4 bytes and rounds
-- POSIX timestamps to minutes.
CREATE TABLE IF NOT EXISTS xmpp_outbound (
    id BIGINT NOT NULL PRIMARY KEY,
    stanza TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL
);

-- The last id handed out: ids keep increasing after the queue runs empty,
-- which MAX(id) + 1 would not do.
CREATE TABLE IF NOT EXISTS xmpp_outbound_seq (
    name VARCHAR(32) NOT NULL PRIMARY KEY,
    last_id BIGINT NOT NULL
);

-- Seeded from the queue, so a queue table older than its counter keeps its order.
INSERT INTO xmpp_outbound_seq (name, last_id)
SELECT 'outbound', m FROM (SELECT COALESCE(MAX(id), 0) AS m FROM xmpp_outbound) AS t
WHERE NOT EXISTS (SELECT 1 FROM xmpp_outbound_seq WHERE name = 'outbound');
