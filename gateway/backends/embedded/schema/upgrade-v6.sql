-- Embedded store, schema version 6: OAuth tokens for accounts kept elsewhere.
-- With gateway.auth: upstream or xmpp the accounts live in the upstream ejabberd or the
-- XMPP server, yet the gateway's /oauth issues their tokens: a token's owner no longer
-- has to be a row of accounts. Deleting an account here deletes its tokens in the same
-- transaction (accounts.py), as the dropped ON DELETE CASCADE did.
CREATE TABLE oauth_tokens_v6 (
    token_hash TEXT NOT NULL PRIMARY KEY,
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    scopes TEXT NOT NULL,
    issued_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
INSERT INTO oauth_tokens_v6 (token_hash, host, username, scopes, issued_at, expires_at)
    SELECT token_hash, host, username, scopes, issued_at, expires_at FROM oauth_tokens;
DROP TABLE oauth_tokens;
ALTER TABLE oauth_tokens_v6 RENAME TO oauth_tokens;
CREATE INDEX oauth_tokens_owner ON oauth_tokens (host, username);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);
