-- People: authors who are no known customer (yet), with their handles per platform.
-- One handle belongs to one person; a person may hold handles on several platforms
-- (a manager merges two people) and may be attached to a customer.
CREATE TABLE people (
    id          INTEGER PRIMARY KEY,
    name        TEXT,
    customer_id TEXT REFERENCES customers (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX people_customer ON people (customer_id);
CREATE INDEX people_name ON people (name COLLATE NOCASE, id);

CREATE TABLE person_handles (
    platform  TEXT NOT NULL,
    handle    TEXT NOT NULL,  -- as compared: no leading @, lower case
    person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (platform, handle)
) WITHOUT ROWID;
CREATE INDEX person_handles_person ON person_handles (person_id);

-- A person's mentions are found by the handle as compared, so index that expression.
CREATE INDEX mentions_author_lower ON mentions (source, lower(author_handle));

-- Authors already stored who are no customer's handle on that platform become people.
CREATE TEMP TABLE _authors AS
    SELECT m.source AS platform, lower(m.author_handle) AS handle,
           max(m.author_name) AS name, min(m.ingested_at) AS first_seen
    FROM mentions m
    WHERE m.author_handle != '' AND NOT EXISTS (
        SELECT 1 FROM customer_identities ci
        WHERE ci.platform = m.source AND ci.handle = lower(m.author_handle))
    GROUP BY m.source, lower(m.author_handle);
INSERT INTO people (id, name, created_at, updated_at)
    SELECT rowid, name, first_seen, first_seen FROM _authors;
INSERT INTO person_handles (platform, handle, person_id)
    SELECT platform, handle, rowid FROM _authors;
DROP TABLE _authors;
