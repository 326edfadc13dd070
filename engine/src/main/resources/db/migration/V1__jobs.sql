-- The client table: what users asked for. One row per job, never rewritten by a backend.
CREATE TABLE jobs (
  id            VARCHAR(40)   NOT NULL PRIMARY KEY,
  seq           BIGINT        NOT NULL,
  name          VARCHAR(255)  NOT NULL,
  owner         VARCHAR(128)  NOT NULL,
  session       VARCHAR(255),
  spec          TEXT          NOT NULL,
  desired       VARCHAR(16)   NOT NULL,
  state         VARCHAR(16)   NOT NULL,
  attempt       INT           NOT NULL,
  cluster_index INT           NOT NULL,
  retries_left  INT           NOT NULL,
  exit_code     INT,
  reason        VARCHAR(2000),
  created_at    TIMESTAMP     NOT NULL,
  updated_at    TIMESTAMP     NOT NULL
);
CREATE UNIQUE INDEX jobs_seq ON jobs (seq);
-- start-up loads live jobs; ps filters by owner/session/name
CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_owner_session ON jobs (owner, session);
CREATE INDEX jobs_name ON jobs (name);

-- The backend table: one row per attempt on a cluster, what the batch system knows.
CREATE TABLE attempts (
  job_id        VARCHAR(40)   NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt       INT           NOT NULL,
  cluster       VARCHAR(128)  NOT NULL,
  backend       VARCHAR(64)   NOT NULL,
  native_id     VARCHAR(255),
  native_state  VARCHAR(64),
  state         VARCHAR(16)   NOT NULL,
  exit_code     INT,
  reason        VARCHAR(2000),
  attributes    TEXT,
  lease_owner   VARCHAR(64),
  lease_until   TIMESTAMP,
  created_at    TIMESTAMP     NOT NULL,
  updated_at    TIMESTAMP     NOT NULL,
  PRIMARY KEY (job_id, attempt)
);
CREATE INDEX attempts_cluster_state ON attempts (cluster, state);

-- Side effects that are not transactional (remote cleanup, file deletion), written in the same
-- transaction as the state change that asks for them and carried out after commit.
CREATE TABLE outbox (
  id            BIGINT        NOT NULL PRIMARY KEY,
  job_id        VARCHAR(40)   NOT NULL,
  action        VARCHAR(32)   NOT NULL,
  payload       TEXT,
  created_at    TIMESTAMP     NOT NULL
);
