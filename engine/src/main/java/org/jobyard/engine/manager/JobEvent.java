package org.jobyard.engine.manager;

import org.jobyard.api.JobState;

/**
 * A job changed state, published after the change was committed.
 *
 * @param exitCode the exit code once known, else {@code null}
 */
public record JobEvent(String jobId, String name, String owner, String session, String cluster,
    JobState from, JobState to, Integer exitCode, String reason) {}
