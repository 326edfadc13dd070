package org.jobyard.plugins.condor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.Settings;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The testbed pool's schedd stopped and started again with jobs in flight: while it is away the
 * cluster is unavailable (never a failed job), and afterwards every job ends as it would have.
 * The only test that stops a daemon of the shared pool: it stops the schedd alone, briefly, and
 * always starts it again.
 */
@Tag("testbed")
class CondorScheddOutageTest {
  @TempDir Path engineDir;
  private final LocalTransport transport = new LocalTransport();

  @Test
  void aScheddThatStopsAndComesBackMakesTheClusterUnavailableAndFailsNoJob() throws Exception {
    Testbed.require(Testbed.CONDOR);
    var backend = backend();
    var run = Long.toHexString(System.nanoTime());
    var requests = new ArrayList<SubmitRequest>();
    for (int i = 0; i < 3; i++) {
      requests.add(new SubmitRequest("co-" + run + "-" + i, 1,
          JobSpec.of("outage", "sh", "-c", "sleep 2; exit " + i)));
    }
    var jobs = new ArrayList<JobRef>();
    for (var o : backend.submit(requests)) {
      jobs.add(((SubmitOutcome.Accepted) o).job());
    }
    try {
      admin("condor_off", "-schedd");
      var sawOutage = await().atMost(Duration.ofSeconds(60)).until(() -> {
        try {
          var statuses = backend.poll(jobs);
          assertThat(statuses.values()).as("no job may fail while the schedd is away")
              .noneMatch(s -> s instanceof JobStatus.Failed || s instanceof JobStatus.Cancelled);
          return statuses.values().stream().allMatch(JobStatus.Unknown.class::isInstance);
        } catch (BackendException e) {
          assertThat(e.isRetryable()).as("%s", e).isTrue();
          return true;
        }
      }, outage -> outage);
      assertThat(sawOutage).isTrue();
    } finally {
      admin("condor_on", "-schedd");
    }
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
        .ignoreExceptionsInstanceOf(BackendException.class).until(() -> backend.poll(jobs)
            .values().stream().allMatch(JobStatus.Exited.class::isInstance));
    var end = backend.poll(jobs);
    for (int i = 0; i < 3; i++) {
      assertThat(end.get(jobs.get(i).jobId())).isEqualTo(new JobStatus.Exited(i, "Completed",
          null));
    }
    backend.close();
  }

  private Backend backend() throws Exception {
    return new CondorBackendProvider().create(new BackendContext("condor-outage",
        new Settings("cluster 'condor-outage'", Map.of("bin_dir", Testbed.get("CONDOR_BIN"),
            "workdir", Testbed.get("CONDOR_WORK") + "/outage-test", "shared_folders", "true")),
        transport, engineDir.resolve("cluster"), BackendContext.Events.NONE));
  }

  /** An HTCondor admin tool: inside the pool's root on Debian 12, else on this machine. */
  private CommandResult admin(String... argv) throws Exception {
    var root = Path.of(Testbed.get("CONDOR_BIN")).getParent().resolve("root");
    var command = new ArrayList<String>();
    if (Files.isDirectory(root.resolve("usr/sbin"))) {
      command.addAll(List.of("chroot", root.toString(), "/usr/bin/env", "-i",
          "PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
    }
    command.addAll(List.of(argv));
    var out = transport.run(Command.of(command));
    assertThat(out.exitCode()).as("%s: %s", command, out.summary()).isZero();
    return out;
  }
}
