-- Embedded store, schema version 3: legacy password digests, and lookups by JID
-- for removing an account's MUC and shared-group records.

-- Unsalted hex digests of a password (md5, sha, ...), kept beside the SCRAM keys only
-- for the methods listed in gateway.password_digests, so check_password_hash works.
-- Rewritten with every password change: a method no longer configured disappears then.
CREATE TABLE password_digests (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    method TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (host, username, method),
    FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
);

-- Unregistering an account removes its affiliations and nicknames on every service.
CREATE INDEX muc_affiliations_jid ON muc_affiliations (jid);
CREATE INDEX muc_nicks_jid ON muc_nicks (jid);
