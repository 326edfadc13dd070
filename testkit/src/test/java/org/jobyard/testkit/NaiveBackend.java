package org.jobyard.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.Capability;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;

/**
 * A deliberately broken backend, written the way a first attempt often is: it joins arguments
 * with spaces into one shell line, calls a job missing from its table Failed, reports a killed job
 * by its exit code, forgets its jobs when it restarts, and ignores its transport.
 */
final class NaiveBackend implements Backend {
  /** Processes outlive backend instances in this JVM, like jobs outlive an engine. */
  private static final Map<String, Process> PROCESSES = new ConcurrentHashMap<>();

  private final Map<String, Process> mine = new HashMap<>();

  static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "naive";
    }

    @Override
    public Backend create(BackendContext context) {
      return new NaiveBackend();
    }
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(Capability.BULK_SUBMIT, Capability.STEPS);
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    var outcomes = new ArrayList<SubmitOutcome>();
    for (var job : jobs) {
      var lines = new ArrayList<String>();
      job.spec().steps().forEach(s -> lines.add(String.join(" ", s.argv()))); // bug: no quoting
      var builder = new ProcessBuilder("sh", "-c", String.join(" && ", lines));
      builder.environment().putAll(job.spec().environment());
      if (job.spec().stdout() != null) {
        builder.redirectOutput(Path.of(job.spec().stdout()).toFile());
      }
      try {
        var process = builder.start();
        PROCESSES.put(job.tag(), process);
        mine.put(job.jobId(), process);
        outcomes.add(new SubmitOutcome.Accepted(new JobRef(job.jobId(),
            Long.toString(process.pid()), Map.of())));
      } catch (IOException e) {
        outcomes.add(new SubmitOutcome.Rejected(job.jobId(),
            new BackendException(e.getMessage(), false)));
      }
    }
    return outcomes;
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) {
    var result = new HashMap<String, JobStatus>();
    for (var job : jobs) {
      var process = mine.get(job.jobId());
      if (process == null) {
        result.put(job.jobId(), new JobStatus.Failed(-1, "GONE", "not in the listing")); // bug
      } else if (process.isAlive()) {
        result.put(job.jobId(), new JobStatus.Running("R"));
      } else {
        result.put(job.jobId(), new JobStatus.Exited(process.exitValue(), "DONE", null));
      }
    }
    return result;
  }

  @Override
  public void cancel(List<JobRef> jobs) {
    for (var job : jobs) {
      var process = mine.get(job.jobId());
      if (process != null) {
        process.descendants().forEach(ProcessHandle::destroyForcibly); // leave no sleepers
        process.destroyForcibly(); // bug: the next poll says Exited(137), not Cancelled
      }
    }
  }

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) {
    return Map.of(); // bug: a restarted backend finds nothing
  }

  @Override
  public void close() {
    mine.clear();
  }
}
