-- The store's first schema (docs/schema/store.md): evidence sources,
-- per-day aggregated connection facts, coverage, fingerprints, raw flows,
-- scan runs and results. Times are Unix nanoseconds (UTC), days are days
-- since 1970-01-01 (UTC).

-- +goose Up
CREATE TABLE sources (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    content     TEXT,
    size        INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL,
    settings    TEXT    NOT NULL DEFAULT '',
    tool        TEXT    NOT NULL DEFAULT '',
    host        TEXT    NOT NULL DEFAULT '',
    pid         INTEGER NOT NULL DEFAULT 0,
    owner       TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0,
    first_seen  INTEGER NOT NULL DEFAULT 0,
    last_seen   INTEGER NOT NULL DEFAULT 0,
    records     INTEGER NOT NULL DEFAULT 0,
    stats       TEXT    NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX sources_content ON sources (content) WHERE content IS NOT NULL AND kind IN ('capture', 'log');

CREATE TABLE evidence (
    day         INTEGER NOT NULL,
    key         BLOB    NOT NULL,
    kind        TEXT    NOT NULL,
    client      TEXT    NOT NULL,
    via         TEXT    NOT NULL,
    server      TEXT    NOT NULL,
    protocol    TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    cipher      INTEGER NOT NULL,
    offered     TEXT    NOT NULL,
    sni         TEXT    NOT NULL,
    ja3         TEXT    NOT NULL,
    ja4         TEXT    NOT NULL,
    legacy      INTEGER NOT NULL,
    connections INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (day, key)
);
-- The report's two reads of the legacy rows of a window, each from an
-- index alone: the trend (by day), and the rows folded over the days in
-- the order of its GROUP BY (no sort).
CREATE INDEX evidence_legacy_day ON evidence (day, server, connections) WHERE legacy <> 0;
CREATE INDEX evidence_legacy_pair ON evidence (server, client, kind, via, protocol, version, cipher, offered, sni, ja3, ja4, legacy,
    day, connections, first_seen, last_seen) WHERE legacy <> 0;

CREATE TABLE coverage (
    source_id  INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    server     TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    tls        INTEGER NOT NULL,
    legacy     INTEGER NOT NULL,
    unread     INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (source_id, day, server)
);
-- The report's read of a window's coverage, from the index alone, in the
-- order of its GROUP BY.
CREATE INDEX coverage_server ON coverage (server, kind, day, source_id, tls, legacy, unread, first_seen, last_seen);

CREATE TABLE fingerprints (
    ja3              TEXT    NOT NULL,
    ja4              TEXT    NOT NULL,
    label            TEXT    NOT NULL,
    offered_versions TEXT    NOT NULL,
    offered_ciphers  TEXT    NOT NULL,
    first_seen       INTEGER NOT NULL,
    PRIMARY KEY (ja3, ja4)
);

CREATE TABLE flows (
    source_id  INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    client     TEXT    NOT NULL,
    server     TEXT    NOT NULL,
    legacy     INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    record     TEXT    NOT NULL,
    PRIMARY KEY (source_id, seq)
);
CREATE INDEX flows_day ON flows (day, server);

CREATE TABLE scan_runs (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    shard       TEXT    NOT NULL DEFAULT '',
    tool        TEXT    NOT NULL DEFAULT '',
    host        TEXT    NOT NULL DEFAULT '',
    pid         INTEGER NOT NULL DEFAULT 0,
    args        TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0,
    endpoints   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX scan_runs_name ON scan_runs (name);

CREATE TABLE scan_results (
    run_id     INTEGER NOT NULL,
    endpoint   TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    address    TEXT    NOT NULL,
    host       TEXT    NOT NULL,
    port       INTEGER NOT NULL,
    protocol   TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    versions   TEXT    NOT NULL,
    scanned_at INTEGER NOT NULL,
    record     TEXT    NOT NULL,
    PRIMARY KEY (run_id, target)
);
CREATE INDEX scan_results_endpoint ON scan_results (endpoint, scanned_at);

-- +goose Down
DROP TABLE scan_results;
DROP TABLE scan_runs;
DROP TABLE flows;
DROP TABLE fingerprints;
DROP TABLE coverage;
DROP TABLE evidence;
DROP TABLE sources;
