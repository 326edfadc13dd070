-- i18: work shared out by capacity. A queued job that its engine cannot run soon (more than twice
-- its cluster's max_jobs waiting) is released to the store: engine_id NULL, pooled_for naming the
-- cluster it waits for; whichever engine has room for that cluster claims it (SKIP LOCKED).
ALTER TABLE jobs ADD COLUMN pooled_for VARCHAR(255);
CREATE INDEX jobs_pool ON jobs (pooled_for, seq);

-- Clean-ups belong to the engine that wrote them: only it carries them out, and whoever takes its
-- jobs over takes them too (NULL: a sole engine, or a store moved in from H2).
ALTER TABLE outbox ADD COLUMN engine_id VARCHAR(40);
