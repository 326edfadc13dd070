-- When each attempt was first seen running and when it ended: kept with the attempt for show,
-- the API and run --trace (created_at is when it was submitted). NULL: not seen (yet).
ALTER TABLE attempts ADD COLUMN started_at TIMESTAMP;
ALTER TABLE attempts ADD COLUMN ended_at TIMESTAMP;
