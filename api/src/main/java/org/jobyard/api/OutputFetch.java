package org.jobyard.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Brings a finished job's files home through a {@link Transport}, for {@link Backend#collect}:
 * stdout and stderr, then the spec's declared outputs. A transport that cannot reach the host
 * stops it with a retryable error (the engine collects again later); files that are missing or
 * unreadable are gathered and reported together by {@link #finish}.
 */
public final class OutputFetch {
  private final Transport transport;
  private final String cluster;
  private final List<String> problems = new ArrayList<>();

  public OutputFetch(Transport transport, String cluster) {
    this.transport = transport;
    this.cluster = cluster;
  }

  /**
   * Copies {@code remote} to {@code local}; nothing when {@code local} is not set. An {@code
   * optional} file may be missing (a job cancelled before it started has no stdout).
   */
  public void fetch(String remote, String local, boolean optional) throws BackendException {
    if (local == null || local.isBlank()) {
      return;
    }
    try {
      transport.download(remote, Path.of(local));
    } catch (TransportException e) {
      if (e.isRetryable()) {
        throw BackendException.unavailable(cluster + ": cannot fetch " + remote + ": "
            + e.getMessage(), e);
      }
      if (!optional) {
        problems.add(remote + " -> " + local + ": " + e.getMessage());
      }
    }
  }

  /** The spec's declared output files; relative sources are taken from {@code jobDirectory}. */
  public void declaredOutputs(JobSpec spec, String jobDirectory) throws BackendException {
    for (var output : spec.outputFiles()) {
      var source = output.source().startsWith("/") ? output.source()
          : jobDirectory + "/" + output.source();
      fetch(source, output.destination(), false);
    }
  }

  /** Reports, without retry, every file that could not be fetched. */
  public void finish(String jobId) throws BackendException {
    if (!problems.isEmpty()) {
      throw new BackendException(cluster + ": job " + jobId
          + ": some outputs could not be fetched: " + String.join("; ", problems), false);
    }
  }
}
