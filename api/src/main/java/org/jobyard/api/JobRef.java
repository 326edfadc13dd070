package org.jobyard.api;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * A job as one backend knows it: the engine's identity, the batch system's id, and whatever the
 * backend needs to find the job again (its working directory, a URL...). The engine stores the
 * attributes with the attempt and hands them back on every call, so a plugin needs no storage.
 *
 * @param jobId the engine's identity of the job (also carried by the native job as a tag)
 * @param nativeId the batch system's id (Slurm job id, HTCondor {@code cluster.proc}, ARC id, pid)
 * @param attributes the backend's own small document about the job
 */
public record JobRef(String jobId, String nativeId, Map<String, String> attributes) {
  public JobRef {
    requireNonNull(jobId, "jobId is null");
    requireNonNull(nativeId, "nativeId is null");
    attributes = Map.copyOf(requireNonNull(attributes, "attributes is null"));
  }

  public String attribute(String key) {
    return attributes.get(key);
  }

  /**
   * This job with {@code updates} merged into its attributes (a key given replaces its value);
   * {@code this} when nothing changes.
   */
  public JobRef withAttributes(Map<String, String> updates) {
    var merged = new java.util.HashMap<>(attributes);
    merged.putAll(updates);
    return merged.equals(attributes) ? this : new JobRef(jobId, nativeId, merged);
  }
}
