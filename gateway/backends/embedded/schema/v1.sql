-- Embedded store, schema version 1.
-- Portable SQL for SQLite and PostgreSQL: TEXT, INTEGER, BIGINT and DOUBLE PRECISION only,
-- natural primary keys, times as POSIX seconds. One statement per semicolon.

-- Accounts: SCRAM-SHA-256 credentials, never the password itself.
CREATE TABLE accounts (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    scheme TEXT NOT NULL,
    salt TEXT NOT NULL,
    iterations INTEGER NOT NULL,
    stored_key TEXT NOT NULL,
    server_key TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (host, username)
);

-- A banned account keeps its credentials but cannot log in until unbanned.
CREATE TABLE bans (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    reason TEXT NOT NULL,
    banned_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (host, username),
    FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
);

-- Last activity (XEP-0012): when the account was last seen and its status text then.
CREATE TABLE last_activity (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (host, username),
    FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
);

-- OAuth bearer tokens, keyed by the SHA-256 of the token (the token itself is not kept).
CREATE TABLE oauth_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    scopes TEXT NOT NULL,
    issued_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
);
CREATE INDEX oauth_tokens_owner ON oauth_tokens (host, username);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

-- OAuth clients: "password" clients carry a hashed secret, "implicit" ones a redirect URI.
CREATE TABLE oauth_clients (
    client_id TEXT NOT NULL PRIMARY KEY,
    client_name TEXT NOT NULL,
    grant_type TEXT NOT NULL,
    secret_salt TEXT NOT NULL,
    secret_iterations INTEGER NOT NULL,
    secret_key TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);

-- Rosters: one row per contact of a local account, groups in their own table.
CREATE TABLE roster_items (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    contact TEXT NOT NULL,
    nick TEXT NOT NULL,
    subscription TEXT NOT NULL,
    ask TEXT NOT NULL,
    PRIMARY KEY (host, username, contact),
    FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
);

CREATE TABLE roster_groups (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    contact TEXT NOT NULL,
    group_name TEXT NOT NULL,
    PRIMARY KEY (host, username, contact, group_name),
    FOREIGN KEY (host, username, contact)
        REFERENCES roster_items (host, username, contact) ON DELETE CASCADE
);

-- Private XML storage (XEP-0049): one element per account and namespace.
CREATE TABLE private_storage (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    namespace TEXT NOT NULL,
    element TEXT NOT NULL,
    PRIMARY KEY (host, username, namespace),
    FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
);

-- vCards (XEP-0054), kept as the vcard-temp XML text.
CREATE TABLE vcards (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    vcard TEXT NOT NULL,
    PRIMARY KEY (host, username),
    FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
);
