-- Embedded store, schema version 2: shared roster groups and MUC room records.
-- Applied after v1.sql on fresh stores and on stores created at version 1.

-- Shared roster groups: records administered through the srg_* commands.
CREATE TABLE srg_groups (
    host TEXT NOT NULL,
    group_id TEXT NOT NULL,
    label TEXT NOT NULL,
    description TEXT NOT NULL,
    all_users INTEGER NOT NULL DEFAULT 0,
    online_users INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (host, group_id)
);

-- Groups whose members a group's members see, in the order they were given.
CREATE TABLE srg_displayed (
    host TEXT NOT NULL,
    group_id TEXT NOT NULL,
    displayed TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (host, group_id, displayed),
    FOREIGN KEY (host, group_id) REFERENCES srg_groups (host, group_id) ON DELETE CASCADE
);

-- Explicit members (any JID, local or not).
CREATE TABLE srg_members (
    host TEXT NOT NULL,
    group_id TEXT NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (host, group_id, member),
    FOREIGN KEY (host, group_id) REFERENCES srg_groups (host, group_id) ON DELETE CASCADE
);
CREATE INDEX srg_members_member ON srg_members (member);

-- MUC rooms as administration records (no XMPP service runs them here).
CREATE TABLE muc_rooms (
    service TEXT NOT NULL,
    room TEXT NOT NULL,
    server_host TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (service, room)
);

-- Room options set explicitly, as text; every other option has its default.
CREATE TABLE muc_room_options (
    service TEXT NOT NULL,
    room TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (service, room, name),
    FOREIGN KEY (service, room) REFERENCES muc_rooms (service, room) ON DELETE CASCADE
);

CREATE TABLE muc_affiliations (
    service TEXT NOT NULL,
    room TEXT NOT NULL,
    jid TEXT NOT NULL,
    affiliation TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (service, room, jid),
    FOREIGN KEY (service, room) REFERENCES muc_rooms (service, room) ON DELETE CASCADE
);

-- MUC/Sub subscriptions; nodes space-separated.
CREATE TABLE muc_subscribers (
    service TEXT NOT NULL,
    room TEXT NOT NULL,
    jid TEXT NOT NULL,
    nick TEXT NOT NULL,
    nodes TEXT NOT NULL,
    PRIMARY KEY (service, room, jid),
    FOREIGN KEY (service, room) REFERENCES muc_rooms (service, room) ON DELETE CASCADE
);
CREATE INDEX muc_subscribers_jid ON muc_subscribers (jid);

-- Registered room nicknames, unique per service.
CREATE TABLE muc_nicks (
    service TEXT NOT NULL,
    jid TEXT NOT NULL,
    nick TEXT NOT NULL,
    PRIMARY KEY (service, jid),
    UNIQUE (service, nick)
);
