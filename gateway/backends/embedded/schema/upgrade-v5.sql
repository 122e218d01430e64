-- Embedded store, schema version 5: credential generations for accounts kept elsewhere.
-- With gateway.auth: upstream the passwords live in the upstream ejabberd, so nothing
-- here changes when one does. The gateway bumps an account's row whenever it forwards
-- a change to that account's password or existence; the row with empty host and user
-- is bumped for changes to every account at once. A verified password is trusted from
-- the credential cache only while the sum of both rows is what it was when checked.
-- An account with no row has generation 0. IF NOT EXISTS: re-running the upgrade on a
-- store whose recorded version was rolled back keeps the counters.
CREATE TABLE IF NOT EXISTS upstream_credential_generations (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    generation BIGINT NOT NULL,
    PRIMARY KEY (host, username)
);
