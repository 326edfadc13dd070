package org.jobyard.plugins.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.jobyard.plugins.local.Jobs.sh;
import static org.jobyard.plugins.local.Jobs.spec;
import static org.jobyard.plugins.local.Jobs.step;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.LogStream;
import org.jobyard.api.Settings;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.api.Transport;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.CountingTransport;
import org.jobyard.testkit.Transports;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local backend running real processes through the engine's local transport. */
class LocalBackendTest {
  private static final Duration LONG = Duration.ofSeconds(30);

  @TempDir Path tmp;
  private final CountingTransport transport = new CountingTransport(new LocalTransport());
  private final AtomicInteger pollSoon = new AtomicInteger();
  private final List<Backend> backends = new ArrayList<>();
  private Backend backend;

  @BeforeEach
  void createBackend() throws Exception {
    backend = create(transport, Map.of("kill-grace", "1s"));
  }

  @AfterEach
  void closeBackends() {
    backends.forEach(Backend::close);
  }

  private Backend create(Transport t, Map<String, String> settings) throws Exception {
    var context = new BackendContext("test", new Settings("cluster 'test'", settings), t,
        tmp.resolve("work"), pollSoon::incrementAndGet);
    var b = new LocalBackendProvider().create(context);
    backends.add(b);
    return b;
  }

  private JobRef submit(String jobId, JobSpec spec) throws Exception {
    return submit(backend, new SubmitRequest(jobId, 1, spec));
  }

  private static JobRef submit(Backend b, SubmitRequest request) throws Exception {
    var outcomes = b.submit(List.of(request));
    assertThat(outcomes).hasSize(1);
    assertThat(outcomes.getFirst()).isInstanceOf(SubmitOutcome.Accepted.class);
    return ((SubmitOutcome.Accepted) outcomes.getFirst()).job();
  }

  private JobStatus poll(JobRef job) throws Exception {
    return backend.poll(List.of(job)).get(job.jobId());
  }

  private JobStatus awaitEnd(JobRef job) {
    return await().atMost(LONG).pollInterval(Duration.ofMillis(50))
        .until(() -> poll(job), LocalBackendTest::ended);
  }

  private static boolean ended(JobStatus s) {
    return s instanceof JobStatus.Exited || s instanceof JobStatus.Failed
        || s instanceof JobStatus.Cancelled;
  }

  private static Path dir(JobRef job) {
    return Path.of(job.attribute("dir"));
  }

  /** The job's process, once its runner has started it (the first field of its pid file). */
  private static String pidOf(JobRef job) {
    var file = dir(job).resolve("pid");
    await().atMost(LONG).until(() -> Files.exists(file) && !Files.readString(file).isBlank());
    return unchecked(() -> Files.readString(file).strip().split("\\s+")[0]);
  }

  private static <T> T unchecked(java.util.concurrent.Callable<T> call) {
    try {
      return call.call();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void runsAJobToSuccess() throws Exception {
    var job = submit("ok", JobSpec.of("t", "true"));

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    assertThat(dir(job).resolve("run.sh")).exists();
    assertThat(job.nativeId()).as("a job handed to the runner is named by its tag")
        .isEqualTo("ok.1");
    assertThat(pidOf(job)).matches("\\d+");
  }

  @Test
  void reportsANonZeroExitCode() throws Exception {
    var job = submit("three", sh("exit 3"));

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(3, "EXITED", null));
  }

  @Test
  void runsStepsInOrderAndStopsAtTheFirstFailure() throws Exception {
    var job = submit("steps", spec(step("sh", "-c", "echo one >> trace"), step("false"),
        step("sh", "-c", "echo three >> trace")).build());

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(1, "EXITED", null));
    assertThat(dir(job).resolve("trace")).hasContent("one");
  }

  @Test
  void aJobSeesTheEnginesEnvironmentOnlyAsFarAsItInheritsIt() throws Exception {
    // the engine's own environment is the submitting one for the local transport
    var probe = System.getenv().keySet().stream().filter(n -> n.matches("[A-Z][A-Z0-9_]*")
        && !n.matches("HOME|USER|LOGNAME|PATH|SHELL|LANG|LANGUAGE|LC_.*|TZ|TMPDIR|PWD|SHLVL"))
        .sorted().findFirst().orElseThrow();
    var print = "printf '%s' \"${" + probe + "-unset}\"";
    var none = submit("env-none", sh(print));
    var named = submit("env-named", inheriting(sh(print), List.of(probe.substring(0, 1) + "*")));
    var all = submit("env-all", inheriting(sh(print), JobSpec.INHERIT_ALL));

    for (var job : List.of(none, named, all)) {
      assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    }
    assertThat(dir(none).resolve("stdout")).hasContent("unset");
    assertThat(dir(named).resolve("stdout")).hasContent(System.getenv(probe));
    assertThat(dir(all).resolve("stdout")).hasContent(System.getenv(probe));
  }

  private static JobSpec inheriting(JobSpec s, List<String> names) {
    return new JobSpec(s.name(), null, null, s.steps(), s.environment(), null, null, null,
        s.resources(), null, null, List.of(), List.of(), List.of(), 0, Map.of(), List.of(), null,
        List.of(), null, null, names);
  }

  @Test
  void passesEnvironmentValuesUnchanged() throws Exception {
    var value = "a b $HOME 'q' \"d\" `x` $(echo no) ü\nline2\\n";
    var out = tmp.resolve("out/env.txt");
    var job = submit("env", spec(step("sh", "-c", "printf %s \"$V\""))
        .env(Map.of("V", value)).stdout(out).build());

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    assertThat(Files.readString(out)).isEqualTo(value);
  }

  @Test
  void refusesAnInvalidEnvironmentNameWithoutRetry() throws Exception {
    var outcomes = backend.submit(List.of(new SubmitRequest("bad", 1,
        spec(step("true")).env(Map.of("1X", "v")).build())));

    assertThat(outcomes).singleElement().isInstanceOfSatisfying(SubmitOutcome.Rejected.class,
        r -> {
          assertThat(r.error().isRetryable()).isFalse();
          assertThat(r.error()).hasMessageContaining("'1X'");
        });
  }

  @Test
  void passesHostileArgumentsByteForByte() throws Exception {
    var args = List.of("", " ", "'", "\"", "$(touch /tmp/pwned)", "`id`", "a\nb", "\\", "*",
        "--", "-n", "ünïcødé ✓", "x;y|z&w", "$HOME", "!", "#", "~", "%s%n", "EOF", "\t");
    var out = tmp.resolve("args.bin");
    var argv = new ArrayList<String>(List.of("printf", "%s\\0"));
    argv.addAll(args);
    var job = submit("args", spec(new JobSpec.Step(argv.getFirst(),
        argv.subList(1, argv.size()))).stdout(out).build());

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    var expected = new StringBuilder();
    args.forEach(a -> expected.append(a).append('\0'));
    assertThat(Files.readAllBytes(out)).isEqualTo(
        expected.toString().getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void runsInTheWorkingDirectory() throws Exception {
    var wd = Files.createDirectories(tmp.resolve("my work dir"));
    var out = tmp.resolve("pwd.txt");
    var job = submit("wd", spec(step("pwd")).directory(wd.toString()).stdout(out).build());

    awaitEnd(job);
    assertThat(Files.readString(out).strip()).isEqualTo(wd.toRealPath().toString());
  }

  @Test
  void aMissingWorkingDirectoryFailsWithAReason() throws Exception {
    var job = submit("nowd", spec(step("true")).directory(tmp.resolve("absent").toString())
        .build());

    assertThat(awaitEnd(job)).isInstanceOfSatisfying(JobStatus.Failed.class, f -> {
      assertThat(f.exitCode()).isEqualTo(127);
      assertThat(f.reason()).contains("cannot change to working directory");
    });
  }

  @Test
  void writesOutputsToTheSpecPathsCreatingParentFolders() throws Exception {
    var out = tmp.resolve("a/b/out.txt");
    var err = tmp.resolve("c/err.txt");
    var job = submit("outs", spec(step("sh", "-c", "echo out; echo err >&2")).stdout(out)
        .stderr(err).build());

    awaitEnd(job);
    assertThat(out).hasContent("out");
    assertThat(err).hasContent("err");
  }

  @Test
  void cancelKillsTheWholeProcessTree() throws Exception {
    var job = submit("tree", sh("sleep 300 & echo $! > kids; sleep 300 & echo $! >> kids; "
        + "sh -c 'sleep 300' & echo $! >> kids; wait"));
    var kids = dir(job).resolve("kids");
    await().atMost(LONG).until(() -> Files.exists(kids) && Files.readAllLines(kids).size() == 3);
    // Running once the runner has written the pid, which may come after the job's first steps
    await().atMost(LONG).until(() -> poll(job) instanceof JobStatus.Running);
    var pids = new ArrayList<Long>();
    Files.readAllLines(kids).forEach(l -> pids.add(Long.parseLong(l.strip())));
    pids.add(Long.parseLong(pidOf(job)));

    backend.cancel(List.of(job));

    assertThat(awaitEnd(job)).isInstanceOf(JobStatus.Cancelled.class);
    await().atMost(LONG).untilAsserted(() ->
        assertThat(pids).as("processes of the cancelled job still running")
            .noneMatch(Jobs::isRunning));
  }

  @Test
  void cancelDoesNotWaitForTheKillGrace() throws Exception {
    var slow = create(transport, Map.of("kill-grace", "20s"));
    // "Running" comes as soon as the runner starts, before the script has set its trap:
    // wait for the script to say the trap is in place, or TERM may kill it at once
    var trapped = tmp.resolve("trapped");
    var job = submit(slow, new SubmitRequest("stubborn", 1,
        sh("trap '' TERM; touch '" + trapped + "'; sleep 300")));
    await().atMost(LONG).until(() -> Files.exists(trapped)
        && slow.poll(List.of(job)).get("stubborn") instanceof JobStatus.Running);

    slow.cancel(List.of(job));

    // had cancel waited out the grace, the job would already be killed: it is not, yet
    assertThat(slow.poll(List.of(job)).get("stubborn")).as("right after cancel returned")
        .isInstanceOf(JobStatus.Running.class);
    assertThat(await().atMost(LONG).until(() -> slow.poll(List.of(job)).get("stubborn"),
        LocalBackendTest::ended)).isInstanceOf(JobStatus.Cancelled.class);
  }

  @Test
  void cancellingAnEndedOrUnknownJobIsNotAnError() throws Exception {
    var job = submit("ended", JobSpec.of("t", "true"));
    awaitEnd(job);

    backend.cancel(List.of(job, new JobRef("ghost", "1", Map.of("dir",
        tmp.resolve("nope/ghost.1").toString()))));

    assertThat(poll(job)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
  }

  @Test
  void enforcesTheWalltime() throws Exception {
    var job = submit("slow", spec(step("sleep", "300")).walltime(Duration.ofSeconds(1)).build());

    assertThat(awaitEnd(job)).isInstanceOfSatisfying(JobStatus.Failed.class,
        f -> assertThat(f.reason()).isEqualTo("walltime exceeded"));
  }

  @Test
  void aJobWithinItsWalltimeSucceedsAndLeavesNoWatchdog() throws Exception {
    var job = submit("quick", spec(step("true")).walltime(Duration.ofSeconds(200)).build());

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    await().atMost(LONG).until(() -> !processesMentioning("sleep 200"));
  }

  private static boolean processesMentioning(String text) throws Exception {
    var p = new ProcessBuilder("pgrep", "-f", "^" + text + "$").start();
    return p.waitFor() == 0;
  }

  @Test
  void aJobSurvivesTheEngineAndIsFoundByItsTag() throws Exception {
    var marker = tmp.resolve("go");
    var request = new SubmitRequest("survivor", 3,
        sh("while [ ! -e '" + marker + "' ]; do sleep 0.05; done; exit 7"));
    submit(backend, request);
    backend.close();

    var reborn = create(new LocalTransport(), Map.of());
    var found = reborn.lookup(List.of(request, new SubmitRequest("never", 1,
        JobSpec.of("t", "true"))));

    assertThat(found).containsOnlyKeys("survivor");
    var job = found.get("survivor");
    await().atMost(LONG).until(() -> reborn.poll(List.of(job)).get("survivor"),
        JobStatus.Running.class::isInstance);
    Files.createFile(marker);
    assertThat(await().atMost(LONG).until(() -> reborn.poll(List.of(job)).get("survivor"),
        LocalBackendTest::ended)).isEqualTo(new JobStatus.Exited(7, "EXITED", null));
  }

  @Test
  void submitsTwoHundredJobsWithAtMostOneCommandAndPollsThemWithoutAny() throws Exception {
    var requests = IntStream.range(0, 200)
        .mapToObj(i -> new SubmitRequest("bulk-" + i, 1, sh("exit " + (i % 5)))).toList();
    int before = transport.commands();

    long t0 = System.nanoTime();
    var outcomes = backend.submit(requests);
    long submitMs = (System.nanoTime() - t0) / 1_000_000;

    assertThat(transport.commands() - before).as("commands for one bulk submit: at most the "
        + "one that starts the runner").isLessThanOrEqualTo(1);
    assertThat(outcomes).hasSize(200).allMatch(SubmitOutcome.Accepted.class::isInstance);
    var refs = outcomes.stream().map(o -> ((SubmitOutcome.Accepted) o).job()).toList();
    var statuses = new HashMap<String, JobStatus>();
    await().atMost(LONG).pollInterval(Duration.ofMillis(100)).until(() -> {
      int runs = transport.commands();
      statuses.putAll(backend.poll(refs));
      assertThat(transport.commands() - runs).as("commands for one poll: the folders are read "
          + "in Java").isZero();
      return statuses.size() == 200 && statuses.values().stream().allMatch(LocalBackendTest::ended);
    });
    for (int i = 0; i < 200; i++) {
      assertThat(statuses.get("bulk-" + i)).isEqualTo(new JobStatus.Exited(i % 5, "EXITED", null));
    }
    long pollStart = System.nanoTime();
    backend.poll(refs);
    System.out.printf("200 jobs submitted in one call in %d ms; one poll of 200 in %d ms%n",
        submitMs, (System.nanoTime() - pollStart) / 1_000_000);
  }

  @Test
  void aFolderThatDoesNotExistIsUnknown() throws Exception {
    var ghost = new JobRef("ghost", "123", Map.of("dir", tmp.resolve("work/ghost.1").toString()));
    var bare = new JobRef("bare", "123", Map.of());

    var statuses = backend.poll(List.of(ghost, bare));

    assertThat(statuses.get("ghost")).isInstanceOf(JobStatus.Unknown.class);
    assertThat(statuses.get("bare")).isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  void aProcessKilledBehindOurBackEndsWithTheSignalsExitCode() throws Exception {
    var job = submit("victim", spec(step("sleep", "300")).build());
    await().atMost(LONG).until(() -> poll(job), JobStatus.Running.class::isInstance);

    new ProcessBuilder("kill", "-KILL", "--", "-" + pidOf(job)).start().waitFor();

    assertThat(awaitEnd(job)).as("the runner saw it end: 128 + SIGKILL")
        .isEqualTo(new JobStatus.Exited(137, "EXITED", null));
  }

  @Test
  void aJobWhoseRunnerAndProcessWereBothKilledIsLost() throws Exception {
    var job = submit("orphan", spec(step("sleep", "300")).build());
    await().atMost(LONG).until(() -> poll(job), JobStatus.Running.class::isInstance);
    var runner = Files.readString(dir(job).resolve("pid")).strip().split("\\s+")[2];

    new ProcessBuilder("kill", "-KILL", runner).start().waitFor();
    assertThat(poll(job)).as("its runner is gone, the job still runs")
        .isInstanceOf(JobStatus.Running.class);
    new ProcessBuilder("kill", "-KILL", "--", "-" + pidOf(job)).start().waitFor();

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Failed(-1, "LOST",
        "process ended without recording an exit code"));
  }

  @Test
  void aPollRestartsAKilledRunnerAndItsQueuedJobRunsWhileTheOrphanedOneEndsLost()
      throws Exception {
    var one = create(transport, Map.of("slots", "1", "workdir", tmp.resolve("one").toString()));
    var marker = tmp.resolve("release");
    var first = submit(one, new SubmitRequest("first", 1,
        sh("while [ ! -e '" + marker + "' ]; do sleep 0.05; done")));
    var second = submit(one, new SubmitRequest("second", 1, sh("exit 4")));
    await().atMost(LONG).until(() -> one.poll(List.of(first)).get("first"),
        JobStatus.Running.class::isInstance);
    assertThat(one.poll(List.of(second)).get("second")).as("one slot: the second waits")
        .isEqualTo(new JobStatus.Pending("QUEUED",
            "handed over to the runner, waiting for a free slot"));
    var runner = Files.readString(dir(first).resolve("pid")).strip().split("\\s+")[2];

    new ProcessBuilder("kill", "-KILL", runner).start().waitFor();
    await().atMost(LONG).until(() -> !Jobs.isRunning(Long.parseLong(runner)));

    assertThat(await().atMost(LONG).until(() -> one.poll(List.of(second)).get("second"),
        LocalBackendTest::ended)).as("started by the runner the poll started")
        .isEqualTo(new JobStatus.Exited(4, "EXITED", null));
    Files.createFile(marker);
    assertThat(await().atMost(LONG).until(() -> one.poll(List.of(first)).get("first"),
        LocalBackendTest::ended)).as("nobody saw its end").isEqualTo(new JobStatus.Failed(-1,
        "LOST", "process ended without recording an exit code"));
  }

  @Test
  void aJobNamedToTheRunnerAgainAfterItRanIsNotStartedAgain() throws Exception {
    var once = submit("counted", sh("echo ran >> ../counted.log"));
    awaitEnd(once);
    var root = tmp.resolve("work");

    Runner.spool(root, List.of("counted.1"));
    // spool files are read in order: when this one has ended, the repeat was seen and skipped
    var after = submit("after", JobSpec.of("t", "true"));
    awaitEnd(after);

    assertThat(root.resolve("counted.log")).hasContent("ran");
  }

  @Test
  void tellsTheEngineToPollSoonWhenAJobEnds() throws Exception {
    int before = pollSoon.get();
    submit("nudge", JobSpec.of("t", "true"));

    await().atMost(Duration.ofSeconds(10)).until(() -> pollSoon.get() > before);
  }

  @Test
  void stagesInputFilesAndCollectsOutputFiles() throws Exception {
    var input = Files.writeString(tmp.resolve("in.txt"), "payload");
    var result = tmp.resolve("home/result.txt");
    var job = submit("staged", spec(step("sh", "-c", "cat data/in.txt > result.txt"))
        .inputs(new JobSpec.FileTransfer(input.toString(), "data/in.txt"))
        .outputs(new JobSpec.FileTransfer("result.txt", result.toString())).build());
    var jobSpec = spec(step("true"))
        .outputs(new JobSpec.FileTransfer("result.txt", result.toString())).build();

    assertThat(awaitEnd(job)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    backend.collect(job, jobSpec);
    backend.collect(job, jobSpec); // idempotent

    assertThat(result).hasContent("payload");
  }

  @Test
  void withoutASharedFilesystemOutputsStayInTheJobFolderUntilCollected() throws Exception {
    var remote = create(notShared(),
        Map.of("workdir", tmp.resolve("remote").toString()));
    var out = tmp.resolve("home/out.txt");
    var jobSpec = spec(step("echo", "hello")).stdout(out).build();
    var job = submit(remote, new SubmitRequest("far", 1, jobSpec));

    assertThat(await().atMost(LONG).until(() -> remote.poll(List.of(job)).get("far"),
        LocalBackendTest::ended)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    assertThat(out).doesNotExist();
    assertThat(tmp.resolve("remote/far.1/stdout")).hasContent("hello");

    remote.collect(job, jobSpec);

    assertThat(out).hasContent("hello");
  }

  @Test
  void tailsTheJobsOutput() throws Exception {
    var job = submit("tail", sh("seq 1 10; echo oops >&2"));
    awaitEnd(job);

    assertThat(backend.tail(job, LogStream.STDOUT, 3)).contains("8\n9\n10\n");
    assertThat(backend.tail(job, LogStream.STDERR, 5)).contains("oops\n");
  }

  @Test
  void cleanRemovesTheJobFolder() throws Exception {
    var job = submit("clean", JobSpec.of("t", "true"));
    awaitEnd(job);

    backend.clean(job);
    backend.clean(job);

    assertThat(dir(job)).doesNotExist();
    assertThat(poll(job)).isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  void submittingTheSameAttemptTwiceStartsItOnce() throws Exception {
    var request = new SubmitRequest("once", 1, sh("echo ran >> ../once.log"));
    var first = submit(backend, request);
    awaitEnd(first);

    var second = submit(backend, request);

    assertThat(second.nativeId()).isEqualTo(first.nativeId());
    assertThat(tmp.resolve("work/once.log")).hasContent("ran");
  }

  @Test
  void anUnreachableHostIsRetryableAndNeverAFailure() throws Exception {
    var down = create(Transports.unavailable(), Map.of("workdir", tmp.toString()));

    // the script was sent and no answer came back: the engine must look the job up
    var submitted = down.submit(List.of(new SubmitRequest("a", 1, JobSpec.of("t", "true"))));
    var pollError = org.assertj.core.api.Assertions.catchThrowableOfType(
        org.jobyard.api.BackendException.class,
        () -> down.poll(List.of(new JobRef("a", "1", Map.of("dir", "/x/a.1")))));

    assertThat(submitted).singleElement().isInstanceOfSatisfying(SubmitOutcome.InDoubt.class,
        d -> assertThat(d.reason()).contains("failed after it was sent"));
    assertThat(pollError.isRetryable()).isTrue();
  }

  @Test
  void isFoundByTheServiceLoaderAsLocal() {
    assertThat(ServiceLoader.load(BackendProvider.class).stream().map(p -> p.get().name()))
        .contains("local");
  }

  @Test
  void declaresItsSlots() throws Exception {
    // the runner runs `slots` at once; the engine hands it `queue_ahead` more
    assertThat(create(transport, Map.of("slots", "7")).slots()).hasValue(7 + 64);
    assertThat(create(transport, Map.of("slots", "40")).slots()).hasValue(40 + 160);
    assertThat(create(transport, Map.of("slots", "2", "queue_ahead", "0")).slots()).hasValue(2);
    assertThat(backend.slots()).hasValue(Runtime.getRuntime().availableProcessors() + 64);
  }

  @Test
  void theRunnerIsAJvmWhereTheHostHasJavaAndTheShellOneWhenTheSettingSaysSo() throws Exception {
    var byJvm = submit("jvm", JobSpec.of("t", "true"));
    var shell = create(transport, Map.of("runner", "shell", "workdir",
        tmp.resolve("shell-root").toString()));
    var byShell = submit(shell, new SubmitRequest("sh", 1, JobSpec.of("t", "true")));

    assertThat(awaitEnd(byJvm)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    assertThat(await().atMost(LONG).until(() -> shell.poll(List.of(byShell)).get("sh"),
        LocalBackendTest::ended)).isEqualTo(new JobStatus.Exited(0, "EXITED", null));
    // the pid file's third field is the runner that started the job (alive for its idle minute)
    assertThat(commandLineOf(runnerOf(byJvm))).contains(JobRunner.class.getName())
        .doesNotContain("runner.sh");
    assertThat(commandLineOf(runnerOf(byShell))).contains("/.runner/runner.sh")
        .doesNotContain(JobRunner.class.getName());
  }

  @Test
  void refusesARunnerSettingItDoesNotKnowNamingIt() {
    assertThatThrownBy(() -> create(transport, Map.of("runner", "fast")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("'runner'").hasMessageContaining("'fast'");
  }

  private static String runnerOf(JobRef job) {
    pidOf(job);
    return unchecked(() -> Files.readString(dir(job).resolve("pid")).strip().split("\\s+")[2]);
  }

  private static String commandLineOf(String pid) throws IOException {
    return Files.readString(Path.of("/proc", pid, "cmdline")).replace('\0', ' ');
  }

  /** The local transport pretending to be a remote host: outputs must be fetched. */
  private static Transport notShared() {
    return new CountingTransport(new LocalTransport()) {
      @Override
      public boolean sharesFilesystem() {
        return false;
      }
    };
  }
}
