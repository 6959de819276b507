-- Source health and leases (the scheduler lease, per-source run leases).
CREATE TABLE source_health (
    source_key TEXT PRIMARY KEY,
    health     TEXT NOT NULL
);
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at REAL NOT NULL
);
