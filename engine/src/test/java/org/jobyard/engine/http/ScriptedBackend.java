package org.jobyard.engine.http;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * A batch system in memory for the API's tests (backend name {@code scripted}): on submit, a job
 * writes its arguments, one per line, to its stdout file; executable {@code ok} then exits 0,
 * {@code fail} exits 3, {@code hang} runs until cancelled or until a test ends it with
 * {@link #finish}. With no stdout file, its log is read through the backend (LOG_ACCESS).
 */
public final class ScriptedBackend implements Backend {
  static final Map<String, String> JOBS = new ConcurrentHashMap<>(); // tag -> executable
  static final Map<String, Integer> ENDED = new ConcurrentHashMap<>(); // tag -> exit code
  static final Set<String> CANCELLED = ConcurrentHashMap.newKeySet();
  /** A job's arguments by tag: its log as the backend reads it (LOG_ACCESS). */
  static final Map<String, List<String>> OUTPUT = new ConcurrentHashMap<>();

  /** Registered in META-INF/services so engines in tests find it on the class path. */
  public static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "scripted";
    }

    @Override
    public Backend create(BackendContext context) {
      return new ScriptedBackend();
    }
  }

  /** Ends every attempt of a {@code hang} job with this exit code. */
  public static void finish(String jobId, int exitCode) {
    JOBS.keySet().stream().filter(t -> t.startsWith(jobId + ".")).forEach(t ->
        ENDED.put(t, exitCode));
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of(Capability.BULK_SUBMIT, Capability.LOG_ACCESS);
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> requests) throws BackendException {
    return requests.stream().map(r -> {
      var spec = r.spec();
      var step = spec.steps().getFirst();
      JOBS.put(r.tag(), step.executable());
      OUTPUT.put(r.tag(), step.arguments());
      if (spec.stdout() != null) {
        try {
          Files.createDirectories(Path.of(spec.stdout()).getParent());
          Files.write(Path.of(spec.stdout()), step.arguments());
        } catch (IOException e) {
          return (SubmitOutcome) new SubmitOutcome.Rejected(r.jobId(),
              BackendException.rejected("cannot write " + spec.stdout()));
        }
      }
      return (SubmitOutcome) new SubmitOutcome.Accepted(new JobRef(r.jobId(), r.tag(), Map.of()));
    }).toList();
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> refs) {
    var out = new HashMap<String, JobStatus>();
    for (var ref : refs) {
      var exe = JOBS.get(ref.nativeId());
      if (exe == null) {
        out.put(ref.jobId(), new JobStatus.Unknown("not in listing"));
      } else if (CANCELLED.contains(ref.nativeId())) {
        out.put(ref.jobId(), new JobStatus.Cancelled("CANCELLED", null));
      } else if (ENDED.containsKey(ref.nativeId())) {
        out.put(ref.jobId(), new JobStatus.Exited(ENDED.get(ref.nativeId()), "DONE", null));
      } else {
        out.put(ref.jobId(), switch (exe) {
          case "ok" -> new JobStatus.Exited(0, "DONE", null);
          case "fail" -> new JobStatus.Exited(3, "DONE", null);
          default -> new JobStatus.Running("RUNNING");
        });
      }
    }
    return out;
  }

  @Override
  public void cancel(List<JobRef> refs) {
    refs.forEach(r -> CANCELLED.add(r.nativeId()));
  }

  /** The last lines of the job's stdout (its arguments); it writes no stderr. */
  @Override
  public java.util.Optional<String> tail(JobRef job, org.jobyard.api.LogStream stream,
      int lines) {
    var all = OUTPUT.getOrDefault(job.nativeId(), List.of());
    if (stream != org.jobyard.api.LogStream.STDOUT || all.isEmpty()) {
      return java.util.Optional.empty();
    }
    var last = all.subList(Math.max(0, all.size() - lines), all.size());
    return java.util.Optional.of(String.join("\n", last) + "\n");
  }

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) {
    var out = new HashMap<String, JobRef>();
    for (var a : attempts) {
      if (JOBS.containsKey(a.tag())) {
        out.put(a.jobId(), new JobRef(a.jobId(), a.tag(), Map.of()));
      }
    }
    return out;
  }
}
