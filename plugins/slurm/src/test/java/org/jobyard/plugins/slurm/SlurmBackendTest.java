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
 * What the conformance kit does not cover, against the testbed's real Slurm: pending cancel,
 * hold/release, purged jobs, one squeue for hundreds of jobs, no duplicates after a crash,
 * staging, the options sbatch gets. Subclasses choose the transport.
 */
abstract class SlurmBackendTest extends SlurmTestSupport {


  @Test
  void cancelsAJobThatIsStillPending() throws Exception {
    var job = submit(request("pending", withNative(sh("true"), Map.of("hold", ""))));
    assertThat(awaitStatus(job, JobStatus.Held.class)).isInstanceOf(JobStatus.Held.class);

    backend.cancel(List.of(job));

    assertThat(awaitEnd(job)).isInstanceOf(JobStatus.Cancelled.class);
    assertThat(backend.tail(job, LogStream.STDOUT, 5)).isEmpty(); // it never ran
  }

  @Test
  void aJobWithPlacementRunsItsTasksOnAWholeNodeOfTheRealCluster() throws Exception {
    // no disk: the testbed's node has no TmpDisk, so sbatch refuses any --tmp (as it should)
    var job = submit(request("placed", sh("echo tasks=$SLURM_NTASKS")
        .withPlacement(new JobSpec.Placement(1, 1, true, null, 0))));

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "COMPLETED", null));
    assertThat(backend.tail(job, LogStream.STDOUT, 5)).contains("tasks=1\n");
  }

  @Test
  void aJobSeesTheSubmitHostsEnvironmentOnlyAsFarAsItInheritsIt() throws Exception {
    // a variable of the environment sbatch runs in that Slurm gives no job of its own accord
    var env = onHost("env").stdout().lines().filter(l -> l.matches("[A-Z][A-Z0-9_]*=[^']*"))
        .filter(l -> !l.matches("(HOME|USER|LOGNAME|PATH|SHELL|LANG|LANGUAGE|LC_.*|TZ|TMPDIR|PWD"
            + "|SHLVL|SLURM.*|SSH_.*|XDG_.*)=.*")).sorted().findFirst();
    org.junit.jupiter.api.Assumptions.assumeTrue(env.isPresent(), "no variable to inherit");
    var name = env.get().substring(0, env.get().indexOf('='));
    var print = "printf '%s' \"${" + name + "-unset}\"";
    var plain = sh(print);
    var inheriting = new JobSpec("test", null, null, plain.steps(), Map.of(), null, null, null,
        Resources.NONE, null, null, List.of(), List.of(), List.of(), 0, Map.of(), List.of(), null,
        List.of(), null, null, List.of(name));
    var jobs = submitAll(List.of(request("env-none", plain), request("env-named", inheriting)));

    for (var job : jobs) {
      assertThat(awaitEnd(job)).isIn(new JobStatus.Exited(0, "COMPLETED", null),
          new JobStatus.Exited(0, "COMPLETING", null));
    }
    assertThat(backend.tail(jobs.get(0), LogStream.STDOUT, 1)).hasValue("unset");
    assertThat(backend.tail(jobs.get(1), LogStream.STDOUT, 1))
        .hasValue(env.get().substring(name.length() + 1));
  }

  @Test
  void holdsAndReleasesAJob() throws Exception {
    // held at submit, so that the test does not race the scheduler
    var job = submit(request("hold", withNative(sh("echo released"), Map.of("hold", ""))));
    assertThat(awaitStatus(job, JobStatus.Held.class)).satisfies(s ->
        assertThat(((JobStatus.Held) s).reason()).startsWith("JobHeld"));
    backend.hold(List.of(job)); // holding a held job is harmless

    backend.release(List.of(job));

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "COMPLETED", null));
    assertThat(backend.tail(job, LogStream.STDOUT, 5)).contains("released\n");
    backend.release(List.of(job)); // releasing an ended job is harmless too
  }

  @Test
  void aJobPurgedFromSqueueStillReportsItsResultFromItsFolder() throws Exception {
    var job = submit(request("purged", sh("exit 5")));
    // a loaded node may still be COMPLETING: the exit-code file is the result then
    assertThat(awaitEnd(job)).isIn(new JobStatus.Exited(5, "FAILED", "NonZeroExitCode"),
        new JobStatus.Exited(5, "COMPLETING", "NonZeroExitCode"));

    // After MinJobAge (300 s on the testbed) squeue and scontrol no longer know the job; a job id
    // Slurm never hands out (above MaxJobId) stands for it without the wait.
    var purged = new JobRef(job.jobId(), "99999999", job.attributes());
    var status = poll(purged);

    assertThat(status).isInstanceOf(JobStatus.Exited.class);
    assertThat(((JobStatus.Exited) status).exitCode()).isEqualTo(5);

    // and without its exit-code file it is unknown, never failed
    onHost("rm", "-f", job.attribute("dir") + "/exitcode");
    assertThat(poll(purged)).isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  void pollsThousandsOfJobsWithOneSqueueToo() throws Exception {
    var held = submit(request("among-many", withNative(sh("true"), Map.of("hold", ""))));
    var refs = new ArrayList<JobRef>();
    refs.add(held);
    // beyond what fits on a command line: ids Slurm never handed out stand in for the rest
    for (int i = 0; i < 5000; i++) {
      refs.add(new JobRef("jy-ghost" + i, String.valueOf(90_000_000 + i), Map.of()));
    }
    transport.reset();
    var statuses = backend.poll(refs);
    assertThat(transport.occurrences("squeue")).as("squeue calls for one poll of 5,001 jobs")
        .isEqualTo(1);
    assertThat(statuses).hasSize(5001);
    assertThat(statuses.get(held.jobId())).isInstanceOf(JobStatus.Held.class);
    assertThat(statuses.get("jy-ghost7")).isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  void pollsFiveHundredJobsWithOneSqueue() throws Exception {
    var requests = new ArrayList<SubmitRequest>();
    for (int i = 0; i < 500; i++) {
      // held: 500 real Slurm jobs that cost the testbed nothing
      requests.add(request("many" + i, withNative(sh("true"), Map.of("hold", ""))));
    }
    long t0 = System.nanoTime();
    var jobs = submitAll(requests);
    long submitMs = (System.nanoTime() - t0) / 1_000_000;
    int submitCommands = transport.commands();
    assertThat(submitCommands).as("commands to submit 500 jobs: one per submit_batch (50) jobs, "
        + "and maybe one to create the workdir").isBetween(10, 11);
    assertThat(transport.occurrences("sbatch")).as("sbatch calls in them").isGreaterThanOrEqualTo(500);

    transport.reset();
    t0 = System.nanoTime();
    var statuses = backend.poll(jobs);
    long pollMs = (System.nanoTime() - t0) / 1_000_000;

    assertThat(statuses).hasSize(500);
    assertThat(statuses.values()).allMatch(JobStatus.Held.class::isInstance);
    assertThat(transport.occurrences("squeue")).as("squeue calls for one poll of 500 jobs").isEqualTo(1);
    assertThat(transport.commands()).as("commands for one poll of 500 jobs").isEqualTo(1);

    transport.reset();
    backend.cancel(jobs);
    assertThat(transport.commands()).as("commands to cancel 500 jobs").isEqualTo(1);
    await().atMost(LONG).pollInterval(Duration.ofSeconds(1)).until(() ->
        backend.poll(jobs).values().stream().allMatch(JobStatus.Cancelled.class::isInstance));
    System.out.printf("500 jobs: submit %d ms in %d commands, poll %d ms%n", submitMs,
        submitCommands, pollMs);
  }

  @Test
  void aSubmitRepeatedAfterACrashCreatesNoSecondJob() throws Exception {
    var request = request("crash", sh("sleep 2"));
    var first = submit(request);

    // the engine died after sbatch and before recording the id: the new engine looks it up...
    var reborn = newBackend(transport);
    var found = reborn.lookup(List.of(request));
    assertThat(found).containsOnlyKeys(request.jobId());
    assertThat(found.get(request.jobId()).nativeId()).isEqualTo(first.nativeId());
    // ...and even a repeated submit of the same attempt returns the job already there
    var again = ((SubmitOutcome.Accepted) reborn.submit(List.of(request)).getFirst()).job();
    assertThat(again.nativeId()).isEqualTo(first.nativeId());

    var named = onHost("squeue", "--noheader", "--states=all", "--name=" + request.tag(),
        "--format=%i");
    assertThat(named.stdout().strip().lines().toList()).containsExactly(first.nativeId());
    assertThat(awaitEnd(first)).isInstanceOf(JobStatus.Exited.class);
  }

  @Test
  void stagesInputsAndBringsOutputsHome() throws Exception {
    var input = Files.writeString(engineDir.resolve("in.txt"), "from the engine\n");
    var stdout = engineDir.resolve("home/stdout.txt");
    var stderr = engineDir.resolve("home/stderr.txt");
    var result = engineDir.resolve("home/result.txt");
    var spec = new JobSpec("stage", null, null, List.of(new JobSpec.Step("sh", List.of("-c",
        "mkdir -p out && tr a-z A-Z < data/in.txt > out/result.txt && echo done && echo oops >&2"))),
        Map.of(), null, stdout.toString(), stderr.toString(), Resources.NONE, null, null,
        List.of(new JobSpec.FileTransfer(input.toString(), "data/in.txt")),
        List.of(new JobSpec.FileTransfer("out/result.txt", result.toString())), List.of(), 0,
        Map.of());
    var job = submit(request("stage", spec));
    // a loaded slurmctld may still say COMPLETING when the exit-code file is already there
    assertThat(awaitEnd(job)).isIn(new JobStatus.Exited(0, "COMPLETED", null),
        new JobStatus.Exited(0, "COMPLETING", null));

    backend.collect(job, spec);
    backend.collect(job, spec); // idempotent

    assertThat(result).hasContent("FROM THE ENGINE");
    assertThat(stdout).hasContent("done");
    assertThat(stderr).hasContent("oops");
    backend.clean(job);
    assertThat(onHost("test", "-e", job.attribute("dir")).exitCode()).isEqualTo(1);
  }

  @Test
  void refusesWhatSlurmRefusesWithoutRetry() throws Exception {
    var spec = new JobSpec("bad", null, null, List.of(new JobSpec.Step("true", List.of())),
        Map.of(), null, null, null, Resources.NONE, "nosuchpartition", null, List.of(), List.of(),
        List.of(), 0, Map.of());
    var outcomes = backend.submit(List.of(request("badpart", spec),
        request("badopt", withNative(sh("true"), Map.of("No Such", "x"))),
        request("badfeature", withNative(sh("true"), Map.of("constraint", "nosuchfeature")))));

    assertThat(outcomes).hasSize(3).allSatisfy(o -> {
      assertThat(o).isInstanceOf(SubmitOutcome.Rejected.class);
      assertThat(((SubmitOutcome.Rejected) o).error().isRetryable()).isFalse();
    });
    assertThat(((SubmitOutcome.Rejected) outcomes.stream()
        .filter(o -> o.jobId().endsWith("badpart")).findFirst().orElseThrow()).error())
        .hasMessageContaining("Invalid partition name specified");
    // a native option Jobyard passes on and Slurm itself refuses
    assertThat(((SubmitOutcome.Rejected) outcomes.stream()
        .filter(o -> o.jobId().endsWith("badfeature")).findFirst().orElseThrow()).error())
        .hasMessageContaining("sbatch refused").hasMessageContaining("Invalid feature");
  }

  @Test
  void theTagWalltimeAndNativeOptionsReachSlurm() throws Exception {
    var base = withNative(sh("true"), Map.of("hold", "", "qos", "normal"));
    var spec = new JobSpec(base.name(), null, null, base.steps(), Map.of(), null, null, null,
        new Resources(0, 0, Duration.ofSeconds(61), 0, 0), null, null, List.of(), List.of(),
        List.of(), 0, base.nativeOptions());
    var request = request("seen", spec);
    var job = submit(request);
    assertThat(transport.occurrences("--qos=normal")).isEqualTo(1);

    // name|comment|time limit|state as Slurm has them: 61 s is rounded up to 2 minutes
    var seen = onHost("squeue", "--noheader", "--states=all", "--jobs=" + job.nativeId(),
        "--format=%j|%k|%l|%T");
    assertThat(seen.stdout().strip()).isEqualTo(request.tag() + "|" + request.tag()
        + "|2:00|PENDING");
  }

  @Test
  void submitBatchSetsHowManyJobsOneSubmitCommandCarries() throws Exception {
    var counted = new CountingTransport(transport.delegate());
    backend = newBackend(counted, Map.of("submit_batch", "4"));
    var requests = new ArrayList<SubmitRequest>();
    for (int i = 0; i < 9; i++) {
      requests.add(request("batch" + i, withNative(sh("true"), Map.of("hold", ""))));
    }

    assertThat(submitAll(requests)).hasSize(9);
    assertThat(counted.commands()).as("batches of 4, 4 and 1, and maybe one to create the workdir")
        .isBetween(3, 4);
  }

  @Test
  void binDirNamesWhereTheSlurmToolsAre() throws Exception {
    var sbatch = onHost("sh", "-c", "command -v sbatch").stdout().strip();
    var binDir = sbatch.substring(0, sbatch.lastIndexOf('/'));
    var counted = new CountingTransport(transport.delegate());
    backend = newBackend(counted, Map.of("bin_dir", binDir));
    submit(request("bindir", withNative(sh("true"), Map.of("hold", ""))));
    assertThat(counted.occurrences(binDir + "/sbatch")).isEqualTo(1);

    var wrong = newBackend(new CountingTransport(transport.delegate()),
        Map.of("bin_dir", "/nonexistent/slurm"));
    var outcome = wrong.submit(List.of(request("nobin", sh("true")))).getFirst();
    assertThat(outcome).isInstanceOf(SubmitOutcome.Rejected.class);
    assertThat(((SubmitOutcome.Rejected) outcome).error())
        .hasMessageContaining("/nonexistent/slurm/sbatch");
  }

  @Test
  void aControllerThatDoesNotAnswerIsUnavailable() throws Exception {
    var job = submit(request("quick", sh("true")));
    // a transport whose slurm tools time out, like a hung slurmctld
    var hung = new CountingTransport(transport.delegate()) {
      @Override
      public CommandResult run(Command command) throws TransportException {
        throw new TransportException("command timed out after 60s: " + command, true);
      }
    };
    var b = newBackend(hung);

    assertThatThrownBy(() -> b.poll(List.of(job))).isInstanceOf(ClusterUnavailableException.class);
  }

}
