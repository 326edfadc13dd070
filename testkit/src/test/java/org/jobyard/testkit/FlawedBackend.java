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
      Capability.STEPS, Capability.WALLTIME);

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
        "one refusal must not reject the others");

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
      AtomicBoolean cancelled, AtomicInteger endPolls) {}

  private static final Map<String, Job> JOBS = new ConcurrentHashMap<>(); // by tag

  /** Set by the test before it runs the kit; one flaw at a time. */
  static volatile Flaw flaw = Flaw.NONE;

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
        JOBS.put(r.tag(), start(r.spec()));
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
        started.put(r.tag(), start(r.spec()));
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

  private static Job start(JobSpec spec) throws IOException {
    var lines = new ArrayList<String>();
    if (flaw != Flaw.ENVIRONMENT_DROPPED) {
      spec.environment().forEach((k, v) -> lines.add("export " + k + "=" + quote(v)));
    }
    var steps = spec.steps().stream().map(s -> ShellQuoting.join(flaw
        == Flaw.EMPTY_ARGUMENTS_DROPPED ? s.argv().stream().filter(a -> !a.isEmpty()).toList()
        : s.argv())).toList();
    lines.add(String.join(flaw == Flaw.EVERY_STEP_RUN ? "; " : " && ", steps));
    var builder = new ProcessBuilder("sh", "-s");
    builder.redirectOutput(spec.stdout() == null ? ProcessBuilder.Redirect.DISCARD
        : ProcessBuilder.Redirect.to(Path.of(spec.stdout()).toFile()));
    builder.redirectError(ProcessBuilder.Redirect.DISCARD);
    var process = builder.start();
    var job = new Job(process, new AtomicBoolean(), new AtomicBoolean(), new AtomicBoolean(),
        new AtomicInteger());
    Thread.ofVirtual().start(() -> { // the scheduler starts it a moment later
      try (var stdin = process.getOutputStream()) {
        Thread.sleep(300);
        if (!job.cancelled().get()) {
          stdin.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
          job.started().set(true);
        }
      } catch (IOException e) {
        // cancelled meanwhile: the shell is gone
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
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
