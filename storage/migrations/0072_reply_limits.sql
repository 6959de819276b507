-- "Platform X, through source K, asked us to wait until T": shared by every process and kept
-- across restarts, so no process earns a 429 of its own after another was told to wait.
CREATE TABLE reply_limits (
    platform   TEXT NOT NULL,
    source_key TEXT NOT NULL,
    until      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, source_key)
);
