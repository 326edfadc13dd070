package org.jobyard.testkit;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.Capability;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.ShellQuoting;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;

/**
 * A backend that is right about everything but a lost submit answer: it starts its jobs through
 * the transport, and when the answer does not come back it says "not now" (a retryable {@code
 * Rejected}), as if nothing had happened, and its lookup finds nothing. The engine then submits the
 * attempt again: two native jobs for one tag.
 */
final class ResubmittingBackend implements Backend {
  private final Transport transport;
  private final Path dir;

  static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "resubmitting";
    }

    @Override
    public Backend create(BackendContext context) {
      return new ResubmittingBackend(context.transport(), context.workDir());
    }
  }

  private ResubmittingBackend(Transport transport, Path dir) {
    this.transport = transport;
    this.dir = dir;
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of(Capability.STEPS);
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    var job = jobs.getFirst();
    var exit = exitFile(job.jobId() + "-" + System.nanoTime());
    var payload = job.spec().steps().stream().map(s -> ShellQuoting.join(s.argv()))
        .reduce((a, b) -> a + " && " + b).orElse("true");
    try {
      transport.run(Command.of("sh", "-c", "(" + payload + "; echo $? > " + ShellQuoting.quote(
          exit) + ") >/dev/null 2>&1 &"));
    } catch (TransportException e) {
      // bug: the command was sent; "not now" claims the batch system surely does not have it
      return List.of(new SubmitOutcome.Rejected(job.jobId(), new BackendException(
          "try again later: " + e.getMessage(), true)));
    }
    return List.of(new SubmitOutcome.Accepted(new JobRef(job.jobId(), exit, Map.of())));
  }

  private String exitFile(String name) {
    return dir.resolve(name + ".exit").toString();
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
    var result = new HashMap<String, JobStatus>();
    for (var job : jobs) {
      var out = transport.run(Command.of("sh", "-c", "cat " + ShellQuoting.quote(job.nativeId())
          + " 2>/dev/null || true"));
      var code = out.stdout().strip();
      result.put(job.jobId(), code.isEmpty() ? new JobStatus.Running("R")
          : new JobStatus.Exited(Integer.parseInt(code), "DONE", null));
    }
    return result;
  }

  @Override
  public void cancel(List<JobRef> jobs) {}

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) {
    return Map.of(); // bug: it never tagged its jobs
  }
}
