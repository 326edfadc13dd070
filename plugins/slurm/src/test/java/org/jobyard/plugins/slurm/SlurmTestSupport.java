package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.ClusterUnavailableException;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.LogStream;
import org.jobyard.api.Resources;
import org.jobyard.api.Settings;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;
import org.jobyard.testkit.CountingTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Slurm backend on the testbed for a test, with what tests need around it: submit, poll, await
 * an end, run a command on the submit host. Jobs still submitted at the end are cancelled.
 */
abstract class SlurmTestSupport {
  static final Duration LONG = Duration.ofSeconds(90);

  @TempDir Path engineDir;
  CountingTransport transport;
  Backend backend;
  private final List<Backend> backends = new ArrayList<>();
  private final List<JobRef> submitted = new ArrayList<>();
  private final String run = Long.toHexString(System.nanoTime());

  /** The transport to the submit host; the testbed service checks go here. */
  abstract Transport transport() throws Exception;

  /** Extra settings for the cluster. */
  Map<String, String> settings() {
    return Map.of();
  }

  @BeforeEach
  void createBackend() throws Exception {
    transport = new CountingTransport(transport());
    backend = newBackend(transport);
  }

  @AfterEach
  void cleanUp() {
    try {
      if (!submitted.isEmpty()) {
        backend.cancel(submitted);
      }
    } catch (Exception e) {
      // best effort
    }
    backends.forEach(Backend::close);
  }

  Backend newBackend(Transport t) throws Exception {
    return newBackend(t, Map.of());
  }

  Backend newBackend(Transport t, Map<String, String> extra) throws Exception {
    var s = new HashMap<String, String>(settings());
    s.putAll(extra);
    s.put("partition", org.jobyard.testkit.Testbed.find("SLURM_PARTITION").orElse("debug"));
    var b = new SlurmBackendProvider().create(new BackendContext("slurm-test",
        new Settings("cluster 'slurm-test'", s), t, engineDir.resolve("cluster"),
        BackendContext.Events.NONE));
    backends.add(b);
    return b;
  }

  SubmitRequest request(String name, JobSpec spec) {
    return new SubmitRequest("sl-" + run + "-" + name, 1, spec);
  }

  static JobSpec sh(String script) {
    return JobSpec.of("test", "sh", "-c", script);
  }

  static JobSpec withNative(JobSpec spec, Map<String, String> options) {
    return new JobSpec(spec.name(), null, null, spec.steps(), spec.environment(), null,
        spec.stdout(), spec.stderr(), spec.resources(), null, null, spec.inputFiles(),
        spec.outputFiles(), List.of(), 0, Map.of("slurm", options));
  }

  List<JobRef> submitAll(List<SubmitRequest> requests) throws Exception {
    var outcomes = backend.submit(requests);
    var jobs = new ArrayList<JobRef>();
    for (var o : outcomes) {
      assertThat(o).as("outcome of %s", o.jobId()).isInstanceOf(SubmitOutcome.Accepted.class);
      jobs.add(((SubmitOutcome.Accepted) o).job());
    }
    submitted.addAll(jobs);
    return jobs;
  }

  JobRef submit(SubmitRequest request) throws Exception {
    return submitAll(List.of(request)).getFirst();
  }

  JobStatus poll(JobRef job) throws Exception {
    return backend.poll(List.of(job)).get(job.jobId());
  }

  JobStatus awaitStatus(JobRef job, Class<? extends JobStatus> type) {
    return await().atMost(LONG).pollInterval(Duration.ofMillis(300))
        .until(() -> poll(job), type::isInstance);
  }

  JobStatus awaitEnd(JobRef job) {
    return await().atMost(LONG).pollInterval(Duration.ofMillis(300))
        .until(() -> poll(job), SlurmTestSupport::ended);
  }

  static boolean ended(JobStatus s) {
    return s instanceof JobStatus.Exited || s instanceof JobStatus.Failed
        || s instanceof JobStatus.Cancelled;
  }

  /** Runs a command on the submit host, outside the backend and uncounted. */
  CommandResult onHost(String... argv) throws Exception {
    return transport.delegate().run(Command.of(argv));
  }
}
