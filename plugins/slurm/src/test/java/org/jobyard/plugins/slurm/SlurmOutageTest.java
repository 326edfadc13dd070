package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.api.BackendException;
import org.jobyard.api.ClusterUnavailableException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitRequest;
import org.jobyard.api.Transport;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Stops the testbed's slurmctld with jobs running and queued, polls through the outage, starts it
 * again with {@code testbed/testbed up slurm}: no job may be reported ended while the controller
 * is away, the jobs end on their node meanwhile, and every job must end with its own exit code
 * once it is back. Needs root (the testbed runs slurmctld as root): skipped without, failed under
 * CI.
 */
@Tag("testbed")
class SlurmOutageTest extends SlurmTestSupport {

  @Override
  Transport transport() {
    Testbed.require(Testbed.SLURM);
    return new LocalTransport();
  }

  @Override
  Map<String, String> settings() {
    return Map.of("command_timeout", "30s");
  }

  @Test
  void jobsSurviveASlurmctldOutageAndNoneIsReportedFailed() throws Exception {
    var pidFile = Path.of(Testbed.get("DIR"), "run", "slurmctld.pid");
    var repo = Testbed.repository();
    Testbed.requireThat(Files.isWritable(pidFile) && repo.isPresent(),
        "stopping and starting slurmctld needs root and the testbed script");
    var requests = new ArrayList<SubmitRequest>();
    for (int i = 0; i < 4; i++) {
      requests.add(request("outage" + i, sh("sleep 6; exit " + (10 + i))));
    }
    var jobs = submitAll(requests);
    awaitStatus(jobs.getFirst(), JobStatus.Running.class);
    // the node has 2 CPUs: the running jobs go on without slurmctld, the pending ones wait
    var running = new ArrayList<JobRef>();
    backend.poll(jobs).forEach((id, status) -> {
      if (status instanceof JobStatus.Running) {
        jobs.stream().filter(j -> j.jobId().equals(id)).forEach(running::add);
      }
    });
    assertThat(running).as("jobs running when slurmctld stops").isNotEmpty();

    long pid = Long.parseLong(Files.readString(pidFile).strip().split("\\s+")[0]);
    var ctld = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("slurmctld " + pid
        + " from " + pidFile + " is not running"));
    ctld.destroy();
    ctld.onExit().get(30, TimeUnit.SECONDS);
    long down = System.nanoTime();
    var wrongEnds = new ArrayList<JobStatus>();
    var unavailable = new AtomicInteger();
    try {
      // poll through the outage until the running jobs ended on their node (exit-code files)
      await().atMost(LONG).pollInterval(Duration.ofMillis(500)).until(() -> {
        try {
          backend.poll(jobs).values().stream().filter(SlurmTestSupport::ended)
              .forEach(wrongEnds::add);
        } catch (ClusterUnavailableException e) {
          unavailable.incrementAndGet();
        }
        return unavailable.get() > 0 && running.stream().allMatch(j -> Files.exists(
            Path.of(j.attribute("dir"), "exitcode")));
      });
      assertThat(wrongEnds).as("statuses poll reported as ended while slurmctld was down")
          .isEmpty();
      assertThat(ctld.isAlive()).as("slurmctld stayed down through the polls").isFalse();
    } finally {
      var up = new ProcessBuilder(repo.get().resolve("testbed/testbed").toString(), "up", "slurm")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      assertThat(up.waitFor(120, TimeUnit.SECONDS)).isTrue();
      System.out.printf("slurmctld was down for %d s%n",
          Duration.ofNanos(System.nanoTime() - down).toSeconds());
    }

    for (int i = 0; i < jobs.size(); i++) {
      var job = jobs.get(i);
      JobStatus end = await().atMost(LONG).pollInterval(Duration.ofSeconds(1))
          .ignoreExceptionsInstanceOf(BackendException.class)
          .until(() -> poll(job), SlurmBackendTest::ended);
      assertThat(end).as("job %d after the outage", i).isInstanceOf(JobStatus.Exited.class);
      assertThat(((JobStatus.Exited) end).exitCode()).isEqualTo(10 + i);
    }
  }
}
