-- Who wrote which text lately (a fingerprint of it), so that "the same text from many
-- accounts" holds across worker processes and restarts. Rows older than the spam
-- window are deleted as new ones come in.
CREATE TABLE text_repeats (
    fingerprint TEXT NOT NULL,
    author      TEXT NOT NULL,  -- "source:handle", handle as compared
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (fingerprint, author)
) WITHOUT ROWID;
CREATE INDEX text_repeats_seen ON text_repeats (seen_at);
