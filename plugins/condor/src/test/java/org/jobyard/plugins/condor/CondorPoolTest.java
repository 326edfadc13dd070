package org.jobyard.plugins.condor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.LogStream;
import org.jobyard.api.Resources;
import org.jobyard.api.Settings;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.AnswerLosingTransport;
import org.jobyard.testkit.CountingTransport;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the issue asks of HTCondor beyond the kit, against the testbed's real pool. */
@Tag("testbed")
class CondorPoolTest {
  private static final Duration LONG = Duration.ofSeconds(120);

  @TempDir Path engineDir;
  private CountingTransport transport;
  private Backend backend;
  private final List<JobRef> submitted = new ArrayList<>();
  private final String run = Long.toHexString(System.nanoTime());

  @BeforeEach
  void createBackend() throws Exception {
    Testbed.require(Testbed.CONDOR);
    transport = new CountingTransport(new LocalTransport());
    backend = newBackend(transport);
  }

  @AfterEach
  void removeJobs() {
    try {
      if (!submitted.isEmpty()) {
        backend.cancel(submitted);
      }
    } catch (Exception e) {
      // best effort: the pool is shared with other tests
    }
    backend.close();
  }

  private Backend newBackend(org.jobyard.api.Transport t) throws Exception {
    var s = new HashMap<String, String>();
    s.put("bin_dir", Testbed.get("CONDOR_BIN"));
    s.put("workdir", workRoot());
    s.put("shared_folders", "true");
    return new CondorBackendProvider().create(new BackendContext("condor-test",
        new Settings("cluster 'condor-test'", s), t, engineDir.resolve("cluster"),
        BackendContext.Events.NONE));
  }

  private static String workRoot() {
    return Testbed.get("CONDOR_WORK") + "/pool-test";
  }

  private SubmitRequest request(String name, JobSpec spec) {
    return new SubmitRequest("cp-" + run + "-" + name, 1, spec);
  }

  private static JobSpec sh(String script) {
    return JobSpec.of("test", "sh", "-c", script);
  }

  private static JobSpec withNative(JobSpec spec, Map<String, String> options) {
    return new JobSpec(spec.name(), null, null, spec.steps(), spec.environment(), null,
        spec.stdout(), spec.stderr(), spec.resources(), null, null, spec.inputFiles(),
        spec.outputFiles(), List.of(), 0, Map.of("condor", options));
  }

  private List<SubmitOutcome> submitAll(List<SubmitRequest> requests) throws Exception {
    var outcomes = backend.submit(requests);
    for (var o : outcomes) {
      if (o instanceof SubmitOutcome.Accepted a) {
        submitted.add(a.job());
      }
    }
    return outcomes;
  }

  private JobRef submit(SubmitRequest request) throws Exception {
    var outcome = submitAll(List.of(request)).getFirst();
    assertThat(outcome).as("outcome of %s", request.tag())
        .isInstanceOf(SubmitOutcome.Accepted.class);
    return ((SubmitOutcome.Accepted) outcome).job();
  }

  private JobStatus poll(JobRef job) throws Exception {
    return backend.poll(List.of(job)).get(job.jobId());
  }

  private JobStatus awaitStatus(JobRef job, Class<? extends JobStatus> type) {
    return await().atMost(LONG).pollInterval(Duration.ofMillis(500))
        .until(() -> poll(job), type::isInstance);
  }

  private JobStatus awaitEnd(JobRef job) {
    return await().atMost(LONG).pollInterval(Duration.ofMillis(500))
        .until(() -> poll(job), s -> s instanceof JobStatus.Exited
            || s instanceof JobStatus.Failed || s instanceof JobStatus.Cancelled);
  }

  @Test
  void aBadJobInABulkSubmitIsRejectedAloneAndTheOthersAreQueued() throws Exception {
    var good = new ArrayList<SubmitRequest>();
    for (int i = 0; i < 5; i++) {
      good.add(request("good" + i, sh("exit " + i)));
    }
    // condor_submit refuses a whole description for this one
    var bad = request("bad", withNative(sh("true"), Map.of("requirements", "((")));
    var all = new ArrayList<>(good);
    all.add(2, bad);

    var outcomes = submitAll(all);

    assertThat(outcomes).hasSize(6);
    for (var o : outcomes) {
      if (o.jobId().equals(bad.jobId())) {
        assertThat(o).isInstanceOf(SubmitOutcome.Rejected.class);
        var error = ((SubmitOutcome.Rejected) o).error();
        assertThat(error.isRetryable()).isFalse();
        assertThat(error.getMessage()).contains(bad.tag(), "Parse error in expression");
      } else {
        assertThat(o).as("outcome of %s", o.jobId()).isInstanceOf(SubmitOutcome.Accepted.class);
      }
    }
    var third = ((SubmitOutcome.Accepted) outcomes.stream()
        .filter(o -> o.jobId().equals(good.get(3).jobId())).findFirst().orElseThrow()).job();
    assertThat(awaitEnd(third)).as("each good job runs its own payload")
        .isEqualTo(new JobStatus.Exited(3, "Completed", null));
  }

  @Test
  void aJobHeldByThePoolForAMissingInputFailsWithTheHoldReasonAndLeavesTheQueue()
      throws Exception {
    var job = submit(request("noinput", withNative(sh("true"), Map.of("transfer_input_files",
        Testbed.get("CONDOR_WORK") + "/no-such-input-" + run))));

    var end = awaitEnd(job);

    assertThat(end).isInstanceOf(JobStatus.Failed.class);
    assertThat(((JobStatus.Failed) end).reason()).contains("Transfer input files failure",
        "no-such-input-" + run, "HoldReasonCode 13");
    // removed so that it does not sit held in the queue; still reported failed from history
    await().atMost(LONG).untilAsserted(() -> assertThat(transport.delegate().run(Command.of(
        Testbed.get("CONDOR_BIN") + "/condor_q", job.nativeId(), "-af", "JobStatus")).stdout())
        .isBlank());
    assertThat(poll(job)).isInstanceOf(JobStatus.Failed.class);
  }

  @Test
  void aJobGetsItsDiskRequestAndOnlyTheSubmitEnvironmentItInherits() throws Exception {
    // condor_submit runs with LANG set (the testbed's wrapper); HTCondor passes it on only with
    // getenv, which inherit_environment maps to
    var show = JobSpec.of("test", "sh", "-c", "printf '%s\\n' \"${LANG-unset}\"");
    var plain = show.withPlacement(new JobSpec.Placement(0, 0, false, null, 3));
    var inheriting = new JobSpec(show.name(), null, null, show.steps(), Map.of(), null, null,
        null, Resources.NONE, null, null, List.of(), List.of(), List.of(), 0, Map.of(),
        List.of(), null, List.of(), null, null, List.of("LANG"));
    var plainJob = submit(request("disk", plain));
    var inheritingJob = submit(request("getenv", inheriting));

    assertThat(awaitEnd(plainJob)).isEqualTo(new JobStatus.Exited(0, "Completed", null));
    assertThat(awaitEnd(inheritingJob)).isEqualTo(new JobStatus.Exited(0, "Completed", null));

    assertThat(backend.tail(plainJob, LogStream.STDOUT, 1)).hasValue("unset\n");
    assertThat(backend.tail(inheritingJob, LogStream.STDOUT, 1)).hasValue("C.UTF-8\n");
    var bin = Testbed.get("CONDOR_BIN");
    await().atMost(LONG).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertThat(
        transport.delegate().run(Command.of(bin + "/condor_q", plainJob.nativeId(), "-af",
            "RequestDisk")).stdout() + transport.delegate().run(Command.of(bin
            + "/condor_history", plainJob.nativeId(), "-limit", "1", "-af", "RequestDisk"))
            .stdout()).as("RequestDisk in KiB of a job asking for 3 MiB of disk")
        .contains("3072"));
  }

  @Test
  void aJobHeldByTheUserStaysHeldUntilReleasedAndThenRuns() throws Exception {
    var job = submit(request("hold", sh("echo released")));
    backend.hold(List.of(job));

    var held = awaitStatus(job, JobStatus.Held.class);
    assertThat(((JobStatus.Held) held).reason()).contains("condor_hold", "HoldReasonCode 1");
    backend.hold(List.of(job)); // holding twice is no error

    backend.release(List.of(job));
    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "Completed", null));
  }

  @Test
  void aJobThatLeavesTheQueueBetweenTwoPollsEndsFromHistoryInOnePollCycle() throws Exception {
    var job = submit(request("history", sh("exit 4")));
    awaitStatus(job, JobStatus.Pending.class);
    // wait, without polling through the backend, until the schedd has forgotten the job
    await().atMost(LONG).pollInterval(Duration.ofSeconds(1)).until(() -> transport.delegate()
        .run(Command.of(Testbed.get("CONDOR_BIN") + "/condor_q", job.nativeId(), "-af",
            "JobStatus")).stdout().isBlank());
    transport.reset();

    var end = poll(job);

    assertThat(end).isEqualTo(new JobStatus.Exited(4, "Completed", null));
    assertThat(transport.occurrences("condor_q")).isEqualTo(1);
    assertThat(transport.occurrences("condor_history")).isEqualTo(1);
  }

  @Test
  void inputAndOutputFilesWithOddNamesTravelBothWays() throws Exception {
    var name = "odd, name $x 'q' é.txt";
    var input = engineDir.resolve("input.txt");
    Files.writeString(input, "payload\n");
    var stdout = engineDir.resolve("home/stdout.txt");
    var output = engineDir.resolve("home/" + name + ".out");
    var spec = new JobSpec("files", null, null, List.of(new JobSpec.Step("sh", List.of("-c",
            "cat \"$1\" > \"$1.out\" && echo done", "sh", name))), Map.of(), null,
        stdout.toString(), null, Resources.NONE, null, null,
        List.of(new JobSpec.FileTransfer(input.toString(), name)),
        List.of(new JobSpec.FileTransfer(name + ".out", output.toString())), List.of(), 0,
        Map.of());
    var job = submit(request("files", spec));

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "Completed", null));
    backend.collect(job, spec);

    assertThat(output).hasContent("payload");
    assertThat(stdout).hasContent("done");
    assertThat(backend.tail(job, LogStream.STDOUT, 5)).contains("done\n");
    backend.clean(job);
    assertThat(Path.of(job.attribute(CondorBackend.ATTR_DIR))).doesNotExist();
  }

  @Test
  void fiveHundredJobsArePolledWithOneCondorQAndAtMostOneCondorHistory() throws Exception {
    var requests = new ArrayList<SubmitRequest>();
    for (int i = 0; i < 500; i++) {
      requests.add(request("many" + i, withNative(sh("true"),
          // never matched: the test is about listing, not running 500 jobs on two slots
          Map.of("requirements", "false"))));
    }
    var outcomes = submitAll(requests);
    assertThat(outcomes).allMatch(SubmitOutcome.Accepted.class::isInstance);
    assertThat(transport.occurrences("condor_submit")).as("one condor_submit for 500 jobs")
        .isEqualTo(1);
    transport.reset();

    var statuses = backend.poll(List.copyOf(submitted));

    assertThat(statuses).hasSize(500).allSatisfy((id, s) ->
        assertThat(s).isInstanceOf(JobStatus.Pending.class));
    assertThat(transport.occurrences("condor_q")).isEqualTo(1);
    assertThat(transport.occurrences("condor_history")).isLessThanOrEqualTo(1);
  }

  @Test
  void aSubmitWhoseAnswerIsLostIsFoundByLookupAndRunsOnce() throws Exception {
    var trace = Testbed.get("CONDOR_WORK") + "/trace-" + run; // jobs may write there
    var lossy = new AnswerLosingTransport(new LocalTransport());
    var engineSide = newBackend(lossy);
    try {
      // a first job, so that the workdir is resolved before answers get lost
      for (var o : engineSide.submit(List.of(request("warmup", sh("true"))))) {
        submitted.add(((SubmitOutcome.Accepted) o).job());
      }
      var request = request("lost", sh("echo ran >> " + trace));
      lossy.loseAnswers(true);
      try {
        var outcome = engineSide.submit(List.of(request));
        assertThat(outcome).singleElement().isInstanceOf(SubmitOutcome.InDoubt.class);
      } catch (org.jobyard.api.BackendException e) {
        assertThat(e.isRetryable()).isTrue();
      } finally {
        lossy.loseAnswers(false);
      }

      var found = engineSide.lookup(List.of(request));
      assertThat(found).containsKey(request.jobId());
      var job = found.get(request.jobId());
      submitted.add(job);
      assertThat(awaitEnd(job)).isInstanceOf(JobStatus.Exited.class);
      assertThat(Files.readAllLines(Path.of(trace))).containsExactly("ran");
    } finally {
      Files.deleteIfExists(Path.of(trace));
      engineSide.close();
    }
  }
}
