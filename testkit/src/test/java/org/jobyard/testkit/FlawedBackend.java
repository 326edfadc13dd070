package org.jobyard.testkit;

import static org.jobyard.api.ShellQuoting.quote;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.Capability;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.ShellQuoting;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;

/**
 * A backend that gets everything the kit checks right, unless one {@link Flaw} is switched on:
 * then exactly one kit case must fail. Jobs are local {@code sh} processes fed their script on
 * stdin (every value quoted); "the cluster" it must reach for every call is its transport, asked
 * to run {@code true}, so a dead transport stops it as a dead login node would.
 */
final class FlawedBackend implements Backend {
  static final EnumSet<Capability> CAPABILITIES = EnumSet.of(Capability.BULK_SUBMIT,
      Capability.STEPS, Capability.WALLTIME, Capability.STAGING, Capability.STDIN,
      Capability.INHERIT_ENVIRONMENT, Capability.HOLD_RELEASE, Capability.LOG_ACCESS);

  /** What a job sees of this JVM's environment without inheriting it. */
  private static final java.util.regex.Pattern BASICS =
      java.util.regex.Pattern.compile("HOME|USER|LOGNAME|PATH|SHELL|LANG|TMPDIR");

  /** One mistake each, named by what it does wrong, with the kit case that must catch it. */
  enum Flaw {
    NONE(null, null),
    CAPABILITY_UNDECLARED("submitsAJobAndPollsItToSuccess", "capabilities() must be exactly"),
    SUCCESS_REPORTED_AS_FAILURE("submitsAJobAndPollsItToSuccess", "must end as Exited(0)"),
    EXIT_CODE_LOST("reportsTheJobsExitCode", "must end as Exited(3)"),
    ENVIRONMENT_DROPPED("passesEnvironmentValuesUnchanged", "environment variable's value"),
    EMPTY_ARGUMENTS_DROPPED("passesHostileArgumentsByteForByte", "never join them"),
    EVERY_STEP_RUN("runsStepsInOrderAndStopsAtTheFirstFailure", "first failing step"),
    ONE_COMMAND_PER_JOB_POLLED("pollsManyJobsInOneCallWithAnEntryForEach",
        "one listing per call"),
    MISSING_JOB_FAILED("aJobTheBackendNeverSawIsUnknownNeverFailed", "report Unknown instead"),
    CANCELLED_JOB_EXITED("cancelsARunningJob", "must end as Cancelled"),
    CANCEL_OF_ENDED_JOB_THROWS("cancellingAnEndedJobIsNotAnError", "must be a no-op"),
    WALLTIME_IGNORED("endsAJobThatExceedsItsWalltimeAsFailed", "was not ended within"),
    FORGETS_ITS_JOBS_WHEN_RESTARTED("findsAJobByItsTagAfterACrashAndSeesItEnd",
        "lookup after a crash must find"),
    TRANSPORT_IGNORED("anUnavailableClusterIsRetryableAndNeverFailsAJob", "never accept"),
    NO_OUTCOME_WHEN_DOWN("anUnavailableClusterIsRetryableAndNeverFailsAJob",
        "one outcome per request"),
    LOST_ANSWER_TAKEN_FOR_NOT_NOW("aSubmitWhoseAnswerIsLostRunsTheJobOnce",
        "exactly one native job per tag"),
    LOOKUP_SEES_ONLY_THE_QUEUE("lookupFindsAnAttemptThatEndedAndLeftTheQueue",
        "consult the job's folder or the accounting"),
    LOOKUP_IGNORES_THE_ATTEMPT("lookupTellsOneAttemptOfAJobFromTheNext", "match the whole tag"),
    STATE_KEPT_IN_MEMORY("aFreshBackendPollsAJobRefThatWentThroughJson",
        "never in the backend instance"),
    EXIT_CODE_READ_AS_SIGNED_BYTE("reportsExitCodesZeroOneTwoFiftyFiveAndDeathBySignal",
        "read them unsigned"),
    SIGNAL_DEATH_TAKEN_FOR_SUCCESS("reportsExitCodesZeroOneTwoFiftyFiveAndDeathBySignal",
        "did not succeed"),
    CANCEL_BEFORE_START_IGNORED("cancelsAJobBeforeItStartsAndCollectsItWithoutOutput",
        "must end as Cancelled, not run later"),
    COLLECT_OF_CANCELLED_JOB_THROWS("cancelsAJobBeforeItStartsAndCollectsItWithoutOutput",
        "skip what the job never wrote"),
    END_FLIPS_BACK_TO_RUNNING("laterPollsReportTheSameEndAsTheFirst",
        "every later poll must report the same end"),
    ONE_REFUSAL_REJECTS_THE_BULK("oneRefusedJobInABulkSubmitLeavesTheOthersAccepted",
        "one refusal must not reject the others"),
    FILE_NAMES_SPLIT_AT_SPACES("stagesInputsAndBringsOutputsHomeWhateverTheirNames",
        "did not arrive under its exact name"),
    OUTPUTS_LEFT_BEHIND("stagesInputsAndBringsOutputsHomeWhateverTheirNames",
        "under their exact names"),
    STDIN_IGNORED("feedsTheStandardInputFileToTheJob", "to the job's standard input"),
    SUBMITTING_ENVIRONMENT_PASSED_ON("aJobSeesNoneOfTheSubmittingEnvironmentUnlessItAsks",
        "never the environment it was submitted from"),
    HOLD_IGNORED("holdsAJobUntilItIsReleased", "must be reported Held"),
    TAIL_READS_NOTHING("tailsTheOutputOfARunningJob", "while it runs"),
    CLEAN_LEAVES_THE_SANDBOX("cleanRemovesWhatTheJobLeftAndIsIdempotent",
        "clean must remove the job's sandbox"),
    SECOND_CLEAN_THROWS("cleanRemovesWhatTheJobLeftAndIsIdempotent", "must be idempotent");

    final String caughtBy;
    final String message;

    Flaw(String caughtBy, String message) {
      this.caughtBy = caughtBy;
      this.message = message;
    }
  }

  /** The native option that makes "the batch system" refuse a job. */
  static final String REFUSE = "refuse";

  /**
   * A job outlives the backend instance that started it, as jobs outlive an engine. It is
   * pending until its script is fed to its shell, a moment after submit; an ended job is "in the
   * queue" no longer, only in {@link #JOBS} (the accounting).
   */
  private record Job(Process process, AtomicBoolean started, AtomicBoolean timedOut,
      AtomicBoolean cancelled, AtomicInteger endPolls, AtomicBoolean held) {}

  private static final Map<String, Job> JOBS = new ConcurrentHashMap<>(); // by tag

  /** Set by the test before it runs the kit; one flaw at a time. */
  static volatile Flaw flaw = Flaw.NONE;
  /** With {@code reach: http}: "the service" carries requests out and their answers are lost. */
  static volatile boolean answersLost;

  private final BackendContext context;
  /** Only for the flaw that keeps state in memory: the tags this instance knows. */
  private final Set<String> known = ConcurrentHashMap.newKeySet();

  private FlawedBackend(BackendContext context) {
    this.context = context;
  }

  static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "flawed";
    }

    @Override
    public Backend create(BackendContext context) {
      return new FlawedBackend(context);
    }
  }

  @Override
  public Set<Capability> capabilities() {
    var declared = EnumSet.copyOf(CAPABILITIES);
    if (flaw == Flaw.CAPABILITY_UNDECLARED) {
      declared.remove(Capability.WALLTIME);
    }
    return declared;
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> requests) throws BackendException {
    if (flaw == Flaw.LOST_ANSWER_TAKEN_FOR_NOT_NOW) {
      return startThenAsk(requests);
    }
    try {
      if (flaw != Flaw.TRANSPORT_IGNORED) {
        reachCluster();
      }
    } catch (BackendException e) {
      if (flaw == Flaw.NO_OUTCOME_WHEN_DOWN) {
        return List.of();
      }
      throw e;
    }
    var refused = requests.stream()
        .filter(r -> r.spec().nativeOptions("flawed").containsKey(REFUSE)).toList();
    if (flaw == Flaw.ONE_REFUSAL_REJECTS_THE_BULK && !refused.isEmpty()) {
      return requests.stream().<SubmitOutcome>map(r -> new SubmitOutcome.Rejected(r.jobId(),
          BackendException.rejected("the batch refuses job " + refused.getFirst().tag()))).toList();
    }
    var outcomes = new ArrayList<SubmitOutcome>();
    for (var r : requests) {
      if (refused.contains(r)) {
        outcomes.add(new SubmitOutcome.Rejected(r.jobId(), BackendException.rejected(
            "the batch system refuses job " + r.tag() + " (native option " + REFUSE + ")")));
        continue;
      }
      try {
        JOBS.put(r.tag(), start(sandbox(r.tag()), r.spec()));
        known.add(r.tag());
        outcomes.add(new SubmitOutcome.Accepted(new JobRef(r.jobId(), r.tag(), Map.of())));
      } catch (IOException e) {
        outcomes.add(new SubmitOutcome.Rejected(r.jobId(), BackendException.rejected(
            "cannot start sh: " + e.getMessage())));
      }
    }
    return outcomes;
  }

  /**
   * The flaw: the jobs start before the cluster's answer is known, and a lost answer is taken for
   * "not now", so the jobs are neither reported nor found by lookup.
   */
  private List<SubmitOutcome> startThenAsk(List<SubmitRequest> requests) throws BackendException {
    var started = new HashMap<String, Job>();
    for (var r : requests) {
      try {
        started.put(r.tag(), start(sandbox(r.tag()), r.spec()));
      } catch (IOException e) {
        throw BackendException.rejected("cannot start sh: " + e.getMessage());
      }
    }
    try {
      reachCluster();
    } catch (BackendException e) {
      return requests.stream().<SubmitOutcome>map(r -> new SubmitOutcome.Rejected(r.jobId(),
          new BackendException("not now: " + e.getMessage(), true))).toList();
    }
    JOBS.putAll(started);
    return requests.stream().<SubmitOutcome>map(r -> new SubmitOutcome.Accepted(
        new JobRef(r.jobId(), r.tag(), Map.of()))).toList();
  }

  /** A job's folder: its staged inputs, its outputs and its stdout, found again from its tag. */
  private Path sandbox(String tag) {
    return context.workDir().resolve(tag);
  }

  private static Job start(Path sandbox, JobSpec spec) throws IOException {
    java.nio.file.Files.createDirectories(sandbox);
    for (var input : spec.inputFiles()) {
      var name = flaw == Flaw.FILE_NAMES_SPLIT_AT_SPACES ? input.destination().split(" ")[0]
          : input.destination();
      java.nio.file.Files.copy(Path.of(input.source()), sandbox.resolve(name),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    var lines = new ArrayList<String>();
    if (flaw != Flaw.ENVIRONMENT_DROPPED) {
      spec.environment().forEach((k, v) -> lines.add("export " + k + "=" + quote(v)));
    }
    var steps = spec.steps().stream().map(s -> ShellQuoting.join(flaw
        == Flaw.EMPTY_ARGUMENTS_DROPPED ? s.argv().stream().filter(a -> !a.isEmpty()).toList()
        : s.argv())).toList();
    var payload = String.join(flaw == Flaw.EVERY_STEP_RUN ? "; " : " && ", steps);
    // the script itself arrives on the shell's stdin: the job's own stdin is redirected per group
    lines.add(spec.stdin() == null || flaw == Flaw.STDIN_IGNORED ? payload
        : "{ " + payload + "; } < " + quote(spec.stdin()));
    var builder = new ProcessBuilder("sh", "-s").directory(sandbox.toFile());
    if (flaw != Flaw.SUBMITTING_ENVIRONMENT_PASSED_ON && !spec.inheritsAllEnvironment()) {
      builder.environment().keySet().removeIf(k -> !BASICS.matcher(k).matches()
          && spec.inheritEnvironment().stream().noneMatch(p -> k.matches(p.replace("*", ".*"))));
    }
    builder.redirectOutput(sandbox.resolve("stdout").toFile());
    builder.redirectError(ProcessBuilder.Redirect.DISCARD);
    var process = builder.start();
    var job = new Job(process, new AtomicBoolean(), new AtomicBoolean(), new AtomicBoolean(),
        new AtomicInteger(), new AtomicBoolean());
    Thread.ofVirtual().start(() -> { // the scheduler starts it a moment later, unless held
      try (var stdin = process.getOutputStream()) {
        // the simulated scheduler's latency (the cancel cases need it) is the first poll's
        // delay; after it, a held job waits for its release (or its cancel)
        org.awaitility.Awaitility.await().forever().pollDelay(Duration.ofMillis(300))
            .pollInterval(Duration.ofMillis(50))
            .until(() -> !job.held().get() || job.cancelled().get());
        if (!job.cancelled().get()) {
          stdin.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
          job.started().set(true);
        }
      } catch (IOException e) {
        // cancelled meanwhile: the shell is gone
      }
    });
    var walltime = spec.resources().walltime();
    if (walltime != null && flaw != Flaw.WALLTIME_IGNORED) {
      Thread.ofVirtual().start(() -> {
        try {
          if (!process.waitFor(walltime.toMillis(), TimeUnit.MILLISECONDS)) {
            job.timedOut().set(true);
            kill(process);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    return job;
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> refs) throws BackendException {
    if (flaw != Flaw.ONE_COMMAND_PER_JOB_POLLED) {
      reachCluster();
    }
    var statuses = new HashMap<String, JobStatus>();
    for (var ref : refs) {
      if (flaw == Flaw.ONE_COMMAND_PER_JOB_POLLED) {
        reachCluster();
      }
      statuses.put(ref.jobId(), flaw == Flaw.STATE_KEPT_IN_MEMORY && !known.contains(
          ref.nativeId()) ? new JobStatus.Unknown("not submitted here") : status(JOBS.get(
              ref.nativeId())));
    }
    return statuses;
  }

  private static JobStatus status(Job job) {
    if (job == null) {
      return flaw == Flaw.MISSING_JOB_FAILED ? new JobStatus.Failed(-1, "GONE", "not listed")
          : new JobStatus.Unknown("not listed");
    }
    if (job.process().isAlive() && job.held().get()) {
      return new JobStatus.Held("HELD", "held by the user");
    }
    if (job.process().isAlive()) {
      return job.started().get() ? new JobStatus.Running("RUNNING")
          : new JobStatus.Pending("PENDING", null);
    }
    if (flaw == Flaw.END_FLIPS_BACK_TO_RUNNING && job.endPolls().getAndIncrement() % 2 == 1) {
      return new JobStatus.Running("RUNNING"); // a lagging listing believed over the end
    }
    int code = job.process().exitValue();
    if (job.cancelled().get() && flaw != Flaw.CANCELLED_JOB_EXITED) {
      return new JobStatus.Cancelled("CANCELLED", null);
    }
    if (job.timedOut().get()) {
      return new JobStatus.Failed(code, "TIMEOUT", "walltime exceeded");
    }
    if (flaw == Flaw.SUCCESS_REPORTED_AS_FAILURE && code == 0) {
      return new JobStatus.Failed(0, "DONE", "no exit code file");
    }
    if (code == 128 + 9) { // sh reports a child killed by SIGKILL so
      return flaw == Flaw.SIGNAL_DEATH_TAKEN_FOR_SUCCESS ? new JobStatus.Exited(0, "DONE", null)
          : new JobStatus.Failed(code, "KILLED", "killed by signal 9");
    }
    if (flaw == Flaw.EXIT_CODE_READ_AS_SIGNED_BYTE) {
      code = (byte) code;
    }
    return new JobStatus.Exited(flaw == Flaw.EXIT_CODE_LOST ? 0 : code, "DONE", null);
  }

  @Override
  public void cancel(List<JobRef> refs) throws BackendException {
    reachCluster();
    for (var ref : refs) {
      var job = JOBS.get(ref.nativeId());
      if (job == null) {
        continue;
      }
      if (!job.process().isAlive()) {
        if (flaw == Flaw.CANCEL_OF_ENDED_JOB_THROWS) {
          throw BackendException.rejected("job " + ref.nativeId() + " has already ended");
        }
        continue;
      }
      if (!job.started().get() && flaw == Flaw.CANCEL_BEFORE_START_IGNORED) {
        continue; // only running jobs are killed; this one will run later
      }
      job.cancelled().set(true);
      kill(job.process());
    }
  }

  @Override
  public void collect(JobRef ref, JobSpec spec) throws BackendException {
    var job = JOBS.get(ref.nativeId());
    if (flaw == Flaw.COLLECT_OF_CANCELLED_JOB_THROWS && job != null && job.cancelled().get()) {
      throw BackendException.rejected("job " + ref.jobId() + " left no output to collect");
    }
    var sandbox = sandbox(ref.nativeId());
    try {
      if (spec.stdout() != null && java.nio.file.Files.exists(sandbox.resolve("stdout"))) {
        java.nio.file.Files.copy(sandbox.resolve("stdout"), Path.of(spec.stdout()),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      if (flaw == Flaw.OUTPUTS_LEFT_BEHIND) {
        return;
      }
      for (var output : spec.outputFiles()) {
        var from = sandbox.resolve(output.source());
        if (java.nio.file.Files.exists(from)) {
          java.nio.file.Files.copy(from, Path.of(output.destination()),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new BackendException("cannot collect job " + ref.jobId() + ": " + e, true);
    }
  }

  @Override
  public void hold(List<JobRef> refs) throws BackendException {
    reachCluster();
    for (var ref : refs) {
      var job = JOBS.get(ref.nativeId());
      if (job != null && flaw != Flaw.HOLD_IGNORED) {
        job.held().set(true);
        signal("STOP", job.process()); // a job that already started is suspended, as HTCondor
      }
    }
  }

  @Override
  public void release(List<JobRef> refs) throws BackendException {
    reachCluster();
    for (var ref : refs) {
      var job = JOBS.get(ref.nativeId());
      if (job != null && job.held().getAndSet(false)) {
        signal("CONT", job.process());
      }
    }
  }

  private static void signal(String signal, Process process) throws BackendException {
    if (!process.isAlive()) {
      return;
    }
    try {
      new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor();
    } catch (IOException e) {
      throw new BackendException("cannot signal job " + process.pid() + ": " + e, true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public java.util.Optional<String> tail(JobRef ref, org.jobyard.api.LogStream stream, int n)
      throws BackendException {
    var file = sandbox(ref.nativeId()).resolve("stdout");
    if (flaw == Flaw.TAIL_READS_NOTHING || stream != org.jobyard.api.LogStream.STDOUT
        || !java.nio.file.Files.exists(file)) {
      return java.util.Optional.empty();
    }
    try {
      var lines = java.nio.file.Files.readAllLines(file);
      var last = lines.subList(Math.max(0, lines.size() - n), lines.size());
      return java.util.Optional.of(last.stream().map(l -> l + "\n")
          .collect(java.util.stream.Collectors.joining()));
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  @Override
  public void clean(JobRef ref) throws BackendException {
    var sandbox = sandbox(ref.nativeId());
    if (flaw == Flaw.SECOND_CLEAN_THROWS && !java.nio.file.Files.exists(sandbox)) {
      throw BackendException.rejected("no folder " + sandbox + " to clean");
    }
    if (flaw == Flaw.CLEAN_LEAVES_THE_SANDBOX) {
      return;
    }
    try (var walk = java.nio.file.Files.walk(sandbox)) {
      for (var p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.delete(p);
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // cleaned before
    } catch (IOException e) {
      throw new BackendException("cannot remove " + sandbox + ": " + e, true);
    }
  }

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
    reachCluster();
    var found = new HashMap<String, JobRef>();
    for (var a : attempts) {
      var tag = flaw != Flaw.LOOKUP_IGNORES_THE_ATTEMPT ? a.tag() : JOBS.keySet().stream()
          .filter(t -> t.startsWith(a.jobId() + ".")).findFirst().orElse(a.tag());
      var job = JOBS.get(tag);
      if (job != null && flaw != Flaw.FORGETS_ITS_JOBS_WHEN_RESTARTED
          && (flaw != Flaw.LOOKUP_SEES_ONLY_THE_QUEUE || job.process().isAlive())) {
        found.put(a.jobId(), new JobRef(a.jobId(), tag, Map.of()));
        known.add(tag);
      }
    }
    return found;
  }

  /**
   * With setting {@code reach: http} the backend talks to "its service" without the transport,
   * as an HTTP backend does, and setting {@code service: down} is that service not answering.
   */
  private void reachCluster() throws BackendException {
    if ("http".equals(context.settings().string("reach", "transport"))) {
      if ("down".equals(context.settings().string("service", "up"))) {
        throw BackendException.unavailable(context.cluster() + ": connection refused", null);
      }
      if (answersLost) {
        throw BackendException.unavailable(context.cluster() + ": connection lost after the "
            + "request was sent", null);
      }
      return;
    }
    var r = context.transport().run(Command.of("true").withTimeout(Duration.ofSeconds(30)));
    if (!r.succeeded()) {
      throw BackendException.unavailable(context.cluster() + ": " + r.summary(), null);
    }
  }

  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }
}
