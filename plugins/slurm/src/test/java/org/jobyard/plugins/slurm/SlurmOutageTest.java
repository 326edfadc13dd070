package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.BackendException;
import org.jobyard.api.ClusterUnavailableException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitRequest;
import org.jobyard.api.Transport;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Stops the testbed's slurmctld with jobs running and queued, polls through the outage, starts it
 * again with {@code testbed/testbed up slurm}: no job may be reported ended while the controller
 * is away, and every job must end with its own exit code once it is back. Needs root (the testbed
 * runs slurmctld as root).
 */
@Tag("testbed")
class SlurmOutageTest extends SlurmBackendTest {

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
    Assumptions.assumeTrue(Files.isWritable(pidFile) && repo.isPresent(),
        "needs root and the testbed script to stop and start slurmctld");
    var requests = new ArrayList<SubmitRequest>();
    for (int i = 0; i < 4; i++) {
      requests.add(request("outage" + i, sh("sleep 6; exit " + (10 + i))));
    }
    var jobs = submitAll(requests);
    awaitStatus(jobs.getFirst(), JobStatus.Running.class);

    long pid = Long.parseLong(Files.readString(pidFile).strip().split("\\s+")[0]);
    var ctld = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("slurmctld " + pid
        + " from " + pidFile + " is not running"));
    ctld.destroy();
    ctld.onExit().get(30, TimeUnit.SECONDS);
    long down = System.nanoTime();
    try {
      int unavailable = 0;
      // longer than the jobs: they end while the controller is away
      while (System.nanoTime() - down < Duration.ofSeconds(12).toNanos()) {
        try {
          var statuses = backend.poll(jobs);
          for (var s : statuses.values()) {
            if (ended(s)) {
              fail("poll reported %s while slurmctld was down", s);
            }
          }
        } catch (ClusterUnavailableException e) {
          unavailable++;
        }
      }
      assertThat(unavailable).as("polls that said the cluster is unavailable").isPositive();
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

  // the other tests run in SlurmLocalTest; this class is only the outage
  @Override void cancelsAJobThatIsStillPending() {}
  @Override void holdsAndReleasesAJob() {}
  @Override void aJobPurgedFromSqueueStillReportsItsResultFromItsFolder() {}
  @Override void pollsFiveHundredJobsWithOneSqueue() {}
  @Override void aSubmitRepeatedAfterACrashCreatesNoSecondJob() {}
  @Override void stagesInputsAndBringsOutputsHome() {}
  @Override void refusesWhatSlurmRefusesWithoutRetry() {}
  @Override void aControllerThatDoesNotAnswerIsUnavailable() {}
}
