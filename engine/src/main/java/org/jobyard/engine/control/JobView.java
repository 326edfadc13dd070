package org.jobyard.engine.control;

import java.time.Instant;

/** A job as {@code ps} shows it: the client row and its current attempt. */
public record JobView(String id, String name, String owner, String session, String state,
    String desired, Integer exitCode, String reason, int attempt, String cluster,
    String nativeId, String nativeState, Instant createdAt, Instant updatedAt) {}
