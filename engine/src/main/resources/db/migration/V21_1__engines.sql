-- i18: several engines on one database. Each running engine holds a lease on its row here,
-- renewed by its heartbeat; a live job belongs to the engine named in jobs.engine_id (NULL: none
-- yet: a store moved in from H2, or a single engine on H2, which never fills it). An engine's id
-- is new at every start and is the fencing token: a takeover deletes the row of an engine whose
-- lease ran out, and every write of that engine checks its row first, so it can no longer act.
-- Lease times are the database's own clock in epoch milliseconds (no time zones, no engine clocks).
CREATE TABLE engines (
  id             VARCHAR(40)   NOT NULL PRIMARY KEY,
  host           VARCHAR(255)  NOT NULL,
  home           VARCHAR(1000) NOT NULL,
  lease_until_ms BIGINT        NOT NULL,
  started_ms     BIGINT        NOT NULL
);
ALTER TABLE jobs ADD COLUMN engine_id VARCHAR(40);
CREATE INDEX jobs_engine ON jobs (engine_id, state);

-- Commands (kill, pause, resume) for a job another engine owns: the owner carries them out within
-- a heartbeat; they outlive the owner (whoever takes its jobs over takes its commands too).
CREATE TABLE commands (
  id          VARCHAR(40)  NOT NULL PRIMARY KEY,
  job_id      VARCHAR(40)  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  action      VARCHAR(16)  NOT NULL,
  created_at  TIMESTAMP    NOT NULL
);
CREATE INDEX commands_job ON commands (job_id);

-- Job sequence numbers and outbox ids are handed out in blocks when several engines share the
-- store, so that two engines never pick the same one.
CREATE TABLE counters (
  name   VARCHAR(32) NOT NULL PRIMARY KEY,
  handed_out BIGINT    NOT NULL
);
INSERT INTO counters (name, handed_out) VALUES ('job_seq', 0);
INSERT INTO counters (name, handed_out) VALUES ('outbox_id', 0);
