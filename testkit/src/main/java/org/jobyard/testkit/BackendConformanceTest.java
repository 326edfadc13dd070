package org.jobyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.Resources;
import org.jobyard.api.Settings;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.api.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conformance kit: drives a backend through the SPI exactly as the engine does (submit, poll,
 * cancel, lookup after a crash, collect) and checks what the engine relies on. A plugin proves
 * itself by extending this class and supplying a {@link BackendFixture}:
 *
 * <pre>{@code
 * class SlurmConformanceTest extends BackendConformanceTest {
 *   protected BackendFixture createFixture(Path tmp) {
 *     Testbed.require(Testbed.SLURM);
 *     return BackendFixture.builder(new SlurmProvider(), sshTransport(), tmp)
 *         .capabilities(Capability.BULK_SUBMIT, Capability.WALLTIME)
 *         .walltime(Duration.ofMinutes(1)).timeout(Duration.ofMinutes(3)).build();
 *   }
 * }
 * }</pre>
 *
 * <p>Tests of an optional capability the fixture does not declare are skipped, saying which. Jobs
 * are small POSIX shell commands ({@code sh}, {@code printf}, {@code sleep}); their output is read
 * on the engine's machine after {@link Backend#collect}, as the engine would.
 */
public abstract class BackendConformanceTest {

  /** Where job outputs land on the engine's machine. */
  @TempDir protected Path engineDir;

  private BackendFixture fixture;
  private CountingTransport transport;
  private final List<Backend> backends = new ArrayList<>();
  private final List<JobRef> submitted = new ArrayList<>();
  private final AtomicInteger pollSoonCalls = new AtomicInteger();
  /** How the engine stores a JobRef between calls, and across restarts. */
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
  private Backend backend;

  /** The backend under test and how to reach its cluster; called before each test. */
  protected abstract BackendFixture createFixture(Path tempDir) throws Exception;

  /**
   * A reference to a job this backend never submitted, made from one it did: by default the same
   * attributes with the real tag replaced by an unused one, and a numeric native id replaced by a
   * huge number. Override when that does not describe a missing job for your batch system.
   */
  protected JobRef neverSubmitted(JobRef real, SubmitRequest realRequest) {
    var ghostTag = "ghost-" + run + "." + realRequest.attempt();
    var attributes = new HashMap<String, String>();
    real.attributes().forEach((k, v) -> attributes.put(k, v.replace(realRequest.tag(), ghostTag)));
    var nativeId = real.nativeId().matches("\\d+") ? "2147480000" : real.nativeId()
        .replace(realRequest.tag(), ghostTag);
    return new JobRef("ghost-" + run, nativeId, attributes);
  }

  /** A transport to a cluster that is down; by default every call fails, retryably. */
  protected Transport unavailableTransport() {
    return Transports.unavailable();
  }

  /**
   * A backend whose cluster is down, for the outage case: by default this backend behind {@link
   * #unavailableTransport()}. A backend that talks to its cluster without the transport (HTTP)
   * overrides it, e.g. with settings naming a port where nothing listens.
   */
  protected Backend unavailableBackend() throws Exception {
    return newBackend(unavailableTransport());
  }

  /**
   * A backend whose cluster has forgotten ended jobs in its queue listing, as Slurm does after
   * {@code MinJobAge}: by default a fresh instance on the same cluster, which is right for batch
   * systems that never list ended jobs. Override to hide the listing (a {@code bin_dir} whose
   * {@code squeue} lists nothing, a transport that filters it) so the fallback is exercised.
   */
  protected Backend backendAfterTheQueueForgot() throws Exception {
    return newBackend(transport());
  }

  /**
   * Calls made to the cluster since the test started: commands through the transport by
   * default. A backend that reaches its cluster another way (HTTP requests) overrides it with
   * its own count, so that "one listing per poll" is checked for it too.
   */
  protected int clusterCalls() {
    return transport.commands();
  }

  /**
   * For a second suite of the same backend that only changes the transport (over SSH after a
   * local one): the suite that runs the capability cases whose commands do not depend on the
   * transport (hold, tail, clean, environment, stdin), which this one then skips, saying so, to
   * keep the time of the whole run down. Null (the default): this suite runs them all.
   */
  protected String transportIndependentCasesRunBy() {
    return null;
  }

  private void skipIfRunElsewhere() {
    var elsewhere = transportIndependentCasesRunBy();
    Assumptions.assumeTrue(elsewhere == null, "skipped: the same commands as in " + elsewhere
        + ", which runs this case; this suite only changes the transport");
  }

  @BeforeEach
  final void createBackend() throws Exception {
    fixture = createFixture(engineDir);
    transport = new CountingTransport(fixture.transport());
    backend = newBackend(transport);
    assertThat(backend.capabilities())
        .as("the backend's capabilities() must be exactly what the fixture declares (the engine "
            + "calls only declared operations, and the kit skips tests by declaration)")
        .containsExactlyInAnyOrderElementsOf(fixture.capabilities());
  }

  @AfterEach
  final void closeBackends() {
    try {
      if (!submitted.isEmpty()) {
        backend.cancel(List.copyOf(submitted)); // leave no sleepers behind on the cluster
      }
    } catch (Exception | AssertionError e) {
      // best effort
    } finally {
      backends.forEach(Backend::close);
    }
  }

  // ---- the tests ------------------------------------------------------------------------------

  @Test
  public void submitsAJobAndPollsItToSuccess() throws Exception {
    var job = submit(request("ok", spec(step("true")).build()));

    var end = awaitEnd(job);

    assertExited(end, 0, "a job running 'true' must end as Exited(0)");
  }

  @Test
  public void reportsTheJobsExitCode() throws Exception {
    var job = submit(request("exit3", spec(step("sh", "-c", "exit 3")).build()));

    var end = awaitEnd(job);

    assertExited(end, 3, "a job running \"sh -c 'exit 3'\" must end as Exited(3): a non-zero "
        + "exit is the job's exit code, not a failure of the backend (Exited(0) here usually "
        + "means its arguments were joined into one shell line without quoting)");
  }

  @Test
  public void passesEnvironmentValuesUnchanged() throws Exception {
    var value = "a b $HOME 'single' \"double\" `id` $(id) ; | & * ü\nsecond line \\n";
    var out = engineDir.resolve("env.out");
    var spec = spec(step("sh", "-c", "printf %s \"$JOBYARD_VALUE\"")).stdout(out)
        .env(Map.of("JOBYARD_VALUE", value)).build();
    var job = submit(request("env", spec));

    assertSucceeded(job, "the job printing an environment variable");

    assertThat(output(job, spec, out)).as("the environment variable's value as the job saw it: "
        + "quote values for every shell they pass through (ShellQuoting.quote)").isEqualTo(value);
  }

  @Test
  public void passesHostileArgumentsByteForByte() throws Exception {
    var args = List.of("", " ", "two words", "'", "\"", "$HOME", "$(id)", "`id`", "a\nb", "\\",
        "*", "?", "[a]", "~", ";", "|", "&", "!", "#", "%s%n", "--", "-n", "EOF", "\t",
        "ünïcødé ✓ 日本");
    var out = engineDir.resolve("args.out");
    var argv = new ArrayList<String>();
    argv.add("%s\\0");
    argv.addAll(args);
    var spec = spec(new JobSpec.Step("printf", argv)).stdout(out).build();
    var job = submit(request("args", spec));

    assertSucceeded(job, "the job printing its hostile arguments (if it failed, its arguments "
        + "were probably not quoted: quote every argument with ShellQuoting.quote)");

    var expected = new StringBuilder();
    args.forEach(a -> expected.append(a).append('\0'));
    var got = output(job, spec, out);
    assertThat(got.split("\0", -1)).as("the job's arguments as it received them (printf "
        + "'%%s\\0' of each); quote every argument (ShellQuoting.quote) and never join them "
        + "with spaces").containsExactly(expected.toString().split("\0", -1));
  }

  @Test
  public void runsStepsInOrderAndStopsAtTheFirstFailure() throws Exception {
    requireCapability(Capability.STEPS);
    var out = engineDir.resolve("steps.out");
    var spec = spec(step("printf", "one,"), step("printf", "two,"), step("sh", "-c", "exit 4"),
        step("printf", "four,")).stdout(out).build();
    var job = submit(request("steps", spec));

    var end = awaitEnd(job);

    assertExited(end, 4, "a job whose third step exits with 4 must end as Exited(4), the exit "
        + "code of its first failing step");
    assertThat(output(job, spec, out)).as("output of the steps: they must run in order and "
        + "none may run after the first failing one").isEqualTo("one,two,");
  }

  @Test
  public void pollsManyJobsInOneCallWithAnEntryForEach() throws Exception {
    var requests = new ArrayList<SubmitRequest>();
    for (int i = 0; i < 10; i++) {
      requests.add(request("many" + i, spec(step("sh", "-c", "exit " + i)).build()));
    }
    var jobs = submitAll(requests);
    // 50 references the cluster does not know: the same path through the backend (listing and
    // every fallback) for 1 and for 50, without loading a shared cluster with 50 jobs
    var ghost = neverSubmitted(jobs.getFirst(), requests.getFirst());
    var ghosts = new ArrayList<JobRef>();
    for (int i = 0; i < 50; i++) {
      ghosts.add(new JobRef(ghost.jobId() + "-" + i, ghost.nativeId(), ghost.attributes()));
    }

    int before = clusterCalls();
    backend.poll(ghosts.subList(0, 1));
    int forOne = clusterCalls() - before;
    before = clusterCalls();
    backend.poll(ghosts);
    int forFifty = clusterCalls() - before;
    var statuses = backend.poll(jobs);

    assertThat(forFifty).as("calls to the cluster (commands or requests) to poll 50 jobs, "
        + "against %d for 1 job: poll with one listing per call, not one call per job", forOne)
        .isLessThanOrEqualTo(forOne);
    assertThat(statuses.keySet()).as("poll must return an entry for each job asked about "
        + "(Unknown when it cannot tell)").containsExactlyInAnyOrderElementsOf(
            jobs.stream().map(JobRef::jobId).toList());
    for (int i = 0; i < 10; i++) {
      int expected = i;
      var end = awaitEnd(jobs.get(i));
      assertExited(end, expected, "job " + jobs.get(i).jobId() + " runs 'exit " + i + "' and "
          + "must end as Exited(" + i + ") (are the statuses of a many-job poll matched to the "
          + "right jobs?)");
    }
  }

  @Test
  public void aJobTheBackendNeverSawIsUnknownNeverFailed() throws Exception {
    var request = request("real", spec(step("true")).build());
    var real = submit(request);
    var ghost = neverSubmitted(real, request);

    var statuses = backend.poll(List.of(real, ghost));

    assertThat(statuses).as("poll must return an entry for every job asked about, also for a "
        + "job the batch system does not know").containsKey(ghost.jobId());
    var status = statuses.get(ghost.jobId());
    assertThat(status).as("poll returned %s for a job missing from the listing; report Unknown "
        + "instead: the engine then asks again and consults the authoritative source, while "
        + "Failed would end (and maybe resubmit) a job that may still be running", status)
        .isInstanceOf(JobStatus.Unknown.class);
  }

  @Test
  public void cancelsARunningJob() throws Exception {
    var job = submit(request("cancel", spec(step("sleep", "600")).build()));
    awaitStatus(job, s -> s instanceof JobStatus.Running, "Running");

    backend.cancel(List.of(job));
    var end = awaitEnd(job);

    assertThat(end).as("a running job that was cancelled must end as Cancelled (so the engine "
        + "does not retry it as a failure); got %s", end).isInstanceOf(JobStatus.Cancelled.class);
  }

  @Test
  public void cancellingAnEndedJobIsNotAnError() throws Exception {
    var job = submit(request("ended", spec(step("true")).build()));
    assertSucceeded(job, "a job running 'true'");

    try {
      backend.cancel(List.of(job));
    } catch (BackendException e) {
      fail("cancel of a job that already ended threw %s; cancelling an ended or unknown job must"
          + " be a no-op", e);
    }
    var after = poll(job);
    assertThat(after).as("a job that ended before the cancel keeps its end; got %s", after)
        .isInstanceOf(JobStatus.Exited.class);
  }

  @Test
  public void endsAJobThatExceedsItsWalltimeAsFailed() throws Exception {
    requireCapability(Capability.WALLTIME);
    long sleep = Math.max(600, fixture.walltime().toSeconds() * 20);
    var job = submit(request("walltime", spec(step("sleep", Long.toString(sleep)))
        .walltime(fixture.walltime()).build()));

    var end = awaitEnd(job, fixture.timeout().plus(fixture.walltime().multipliedBy(3)));

    assertThat(end).as("a job killed for exceeding its walltime must end as Failed (the engine"
        + " may retry it); got %s", end).isInstanceOf(JobStatus.Failed.class);
  }

  @Test
  public void findsAJobByItsTagAfterACrashAndSeesItEnd() throws Exception {
    var request = request("crash", spec(step("sleep", "3")).build());
    var never = request("never", spec(step("true")).build());
    submit(request);
    backend.close(); // the engine dies; the job must not care

    var reborn = newBackend(transport);
    var found = reborn.lookup(List.of(request, never));

    assertThat(found).as("lookup after a crash must find the submitted attempt by its tag (%s) "
        + "and only it", request.tag()).containsOnlyKeys(request.jobId());
    var job = found.get(request.jobId());
    submitted.add(job);
    var end = awaitEnd(reborn, job, fixture.timeout());
    assertThat(end).as("the job found by lookup ran to its end; poll of its reference must say "
        + "Exited(0); got %s", end).isInstanceOf(JobStatus.Exited.class);
  }

  @Test
  public void anUnavailableClusterIsRetryableAndNeverFailsAJob() throws Exception {
    var real = submit(request("before-outage", spec(step("true")).build()));
    var down = unavailableBackend();

    try {
      var outcomes = down.submit(List.of(request("outage", spec(step("true")).build())));
      assertThat(outcomes).as("submit through a cluster that does not answer returned %s; it "
          + "must throw a retryable BackendException or return one outcome per request (a "
          + "retryable rejection): an empty answer leaves the engine not knowing what happened",
          outcomes).hasSize(1);
      for (var o : outcomes) {
        if (!(o instanceof SubmitOutcome.Rejected r && r.error().isRetryable()
            || o instanceof SubmitOutcome.InDoubt)) {
          fail("submit through a cluster that does not answer returned " + o + "; it must throw "
              + "a retryable BackendException (or reject each job as retryable, or report it "
              + "InDoubt), never accept: do all work through the transport the engine gives you");
        }
      }
    } catch (BackendException e) {
      assertThat(e.isRetryable()).as("submit threw %s for a cluster that does not answer; "
          + "make it retryable (BackendException.unavailable) so the engine tries again", e)
          .isTrue();
    }
    try {
      var statuses = down.poll(List.of(real));
      assertThat(statuses.get(real.jobId())).as("poll of a cluster that does not answer "
          + "returned %s; throw a retryable BackendException (or report Unknown): never Failed",
          statuses.get(real.jobId())).isInstanceOf(JobStatus.Unknown.class);
    } catch (BackendException e) {
      assertThat(e.isRetryable()).as("poll threw %s for a cluster that does not answer; make it"
          + " retryable (BackendException.unavailable)", e).isTrue();
    }
  }

  // ---- ended jobs, attempts, restarts ---------------------------------------------------------

  @Test
  public void lookupFindsAnAttemptThatEndedAndLeftTheQueue() throws Exception {
    var request = request("left", spec(step("true")).build());
    var job = submit(request);
    var end = awaitEnd(job);
    assertExited(end, 0, "a job running 'true' must end as Exited(0)");

    var later = backendAfterTheQueueForgot();
    var found = later.lookup(List.of(request));

    assertThat(found).as("lookup must find an attempt that already ended and left the queue "
        + "listing (%s): the engine looks up after a crash, and a job that ended meanwhile must "
        + "not be submitted again; consult the job's folder or the accounting, not only the "
        + "queue", request.tag()).containsOnlyKeys(request.jobId());
    var again = poll(later, found.get(request.jobId()));
    assertThat(sameEnd(end, again)).as("poll of an ended job after it left the queue listing "
        + "must report its end again (%s), from the job folder or accounting; got %s", end, again)
        .isTrue();
  }

  @Test
  public void lookupTellsOneAttemptOfAJobFromTheNext() throws Exception {
    var first = request("attempts", spec(step("true")).build());
    var second = new SubmitRequest(first.jobId(), 2, first.spec());
    submit(first);

    var found = backend.lookup(List.of(second));

    assertThat(found).as("lookup of attempt 2 (tag %s) found a job although only attempt 1 "
        + "(tag %s) was submitted: match the whole tag (job id and attempt), or the engine "
        + "adopts the failed attempt 1 as the retry", second.tag(), first.tag()).isEmpty();
    assertThat(backend.lookup(List.of(first))).as("lookup of attempt 1 (tag %s), which was "
        + "submitted", first.tag()).containsOnlyKeys(first.jobId());
  }

  @Test
  public void aFreshBackendPollsAJobRefThatWentThroughJson() throws Exception {
    var job = submit(request("json", spec(step("sh", "-c", "exit 5")).build()));
    var json = JSON.writeValueAsString(job);
    backend.close(); // the engine stops; its successor reads the reference from its store

    var stored = JSON.readValue(json, JobRef.class);
    var fresh = newBackend(transport);
    var end = awaitEnd(fresh, stored, fixture.timeout(), "a fresh backend instance polling a "
        + "JobRef read back from JSON must see the job end: keep everything a later call needs "
        + "in the JobRef's attributes (the engine stores them), never in the backend instance");

    assertExited(end, 5, "the job running 'exit 5', polled by a fresh backend instance through "
        + "a JobRef read back from JSON");
  }

  @Test
  public void reportsExitCodesZeroOneTwoFiftyFiveAndDeathBySignal() throws Exception {
    var codes = List.of(0, 1, 255);
    var jobs = new ArrayList<JobRef>();
    for (int code : codes) {
      jobs.add(submit(request("code" + code, spec(step("sh", "-c", "exit " + code)).build())));
    }
    var killed = submit(request("sigkill", spec(step("sh", "-c", "kill -9 $$")).build()));

    for (int i = 0; i < codes.size(); i++) {
      assertExited(awaitEnd(jobs.get(i)), codes.get(i), "a job running 'exit " + codes.get(i)
          + "' must end as Exited(" + codes.get(i) + "): exit codes are 0 to 255, read them "
          + "unsigned and keep 0 and 1 apart");
    }
    var end = awaitEnd(killed);
    var asSuch = end instanceof JobStatus.Failed
        || end instanceof JobStatus.Exited e && e.exitCode() == 128 + 9;
    assertThat(asSuch).as("a job whose shell killed itself with 'kill -9 $$' must end as Failed "
        + "(killed by a signal) or as Exited(137), the shell's 128+9; got %s: a job that never "
        + "wrote its exit code did not succeed", end).isTrue();
  }

  // ---- cancel and ends ---------------------------------------------------------------------------

  @Test
  public void cancelsAJobBeforeItStartsAndCollectsItWithoutOutput() throws Exception {
    var out = engineDir.resolve("cancelled.out");
    var spec = spec(step("sleep", "600")).stdout(out).build();
    var job = submit(request("early-cancel", spec));

    backend.cancel(List.of(job)); // at once: pending, or only just started
    var end = awaitEnd(backend, job, fixture.timeout(), "cancel right after submit (before the "
        + "job started) must end the job: a job cancelled before it started must end as "
        + "Cancelled, not run later");

    assertThat(end).as("a job cancelled before it started must end as Cancelled; got %s", end)
        .isInstanceOf(JobStatus.Cancelled.class);
    try {
      backend.collect(job, spec);
    } catch (BackendException e) {
      fail("collect of a cancelled job that wrote no output threw '" + e.getMessage()
          + "'; collect must bring home what exists and skip what the job never wrote", e);
    }
  }

  @Test
  public void laterPollsReportTheSameEndAsTheFirst() throws Exception {
    var job = submit(request("same-end", spec(step("sh", "-c", "exit 2")).build()));
    var first = awaitEnd(job);
    assertExited(first, 2, "a job running 'exit 2' must end as Exited(2)");

    var seen = new ArrayList<JobStatus>();
    Awaitility.await().pollInterval(Duration.ofMillis(300)).atMost(fixture.timeout())
        .until(() -> {
          seen.add(poll(job));
          return seen.size() >= 8;
        });

    assertThat(seen).as("polls after the first end (%s): once a job has ended, every later poll "
        + "must report the same end; a listing that lags behind the job folder or the "
        + "accounting must not turn it back into Running or Unknown", first)
        .allMatch(s -> sameEnd(first, s));
  }

  @Test
  public void oneRefusedJobInABulkSubmitLeavesTheOthersAccepted() throws Exception {
    requireCapability(Capability.BULK_SUBMIT);
    Assumptions.assumeTrue(fixture.refused() != null,
        "skipped: the fixture names no job the batch system refuses (BackendFixture.refusedWhen)");
    var good = List.of(request("bulk-a", spec(step("true")).build()),
        request("bulk-b", spec(step("true")).build()));
    var bad = request("bulk-refused", fixture.refused().apply(spec(step("true")).build()));
    var requests = List.of(good.get(0), bad, good.get(1));

    var outcomes = backend.submit(requests);
    outcomes.stream().filter(o -> o instanceof SubmitOutcome.Accepted)
        .forEach(o -> submitted.add(((SubmitOutcome.Accepted) o).job()));

    var byId = new HashMap<String, SubmitOutcome>();
    outcomes.forEach(o -> byId.put(o.jobId(), o));
    assertThat(byId.get(bad.jobId())).as("the outcome of the job the batch system refuses: it "
        + "must be Rejected and not retryable (the same submit would be refused again)")
        .isInstanceOfSatisfying(SubmitOutcome.Rejected.class,
            r -> assertThat(r.error().isRetryable()).as("retryable? %s", r.error()).isFalse());
    for (var r : good) {
      assertThat(byId.get(r.jobId())).as("the outcome of plain job %s submitted in the same bulk "
          + "call as a refused one: one refusal must not reject the others (report each job's "
          + "own outcome)", r.jobId()).isInstanceOf(SubmitOutcome.Accepted.class);
      assertExited(awaitEnd(((SubmitOutcome.Accepted) byId.get(r.jobId())).job()), 0,
          "plain job " + r.jobId() + " accepted beside a refused one must run");
    }
  }

  // ---- optional capabilities: staging, standard input, environment, hold, logs, clean ----------

  @Test
  public void stagesInputsAndBringsOutputsHomeWhateverTheirNames() throws Exception {
    requireCapability(Capability.STAGING);
    var inName = ODD_NAME + " in.txt";
    var outName = ODD_NAME + " out.txt";
    var source = Files.writeString(engineDir.resolve(ODD_NAME + " source.txt"), "staged up\n");
    var home = engineDir.resolve(ODD_NAME + " home.txt");
    var spec = spec(step("sh", "-c", "tr a-z A-Z < \"$1\" > \"$2\"", "sh", inName, outName))
        .input(source, inName).output(outName, home).build();
    var job = submit(request("staging", spec));

    assertSucceeded(job, "the job reading its staged input '" + inName + "' (if it failed, the "
        + "file did not arrive under its exact name)");
    backend.collect(job, spec);

    assertThat(home).as("the output '%s' brought home by collect() to '%s': stage and fetch "
        + "files under their exact names, quoting them for every shell and tool they pass "
        + "through", outName, home).exists().hasContent("STAGED UP");
  }

  @Test
  public void feedsTheStandardInputFileToTheJob() throws Exception {
    requireCapability(Capability.STDIN);
    skipIfRunElsewhere();
    var name = ODD_NAME + " stdin.txt";
    var source = Files.writeString(engineDir.resolve(ODD_NAME + " input.txt"), "one\ntwo\n");
    var out = engineDir.resolve("stdin.out");
    var spec = spec(step("cat")).stdout(out).input(source, name).stdin(name).build();
    var job = submit(request("stdin", spec));

    assertSucceeded(job, "the job running 'cat' on its standard input file");

    assertThat(output(job, spec, out)).as("the output of 'cat' with stdin '%s': feed "
        + "JobSpec.stdin() (staged as one of the inputs, in the job's working directory) to the "
        + "job's standard input", name).isEqualTo("one\ntwo\n");
  }

  @Test
  public void aJobSeesNoneOfTheSubmittingEnvironmentUnlessItAsks() throws Exception {
    requireCapability(Capability.INHERIT_ENVIRONMENT);
    skipIfRunElsewhere();
    var probe = submittingVariable();
    Assumptions.assumeTrue(probe != null, "skipped: the transport's environment holds no "
        + "variable beyond the basics (HOME, PATH, ...) to check with");
    var out = engineDir.resolve("inherit.out");
    var spec = spec(step("sh", "-c", "eval \"printf %s \\\"\\${$1-unset}\\\"\"", "sh", probe))
        .stdout(out).build();
    var job = submit(request("inherit", spec));

    assertSucceeded(job, "the job printing $" + probe);

    assertThat(output(job, spec, out)).as("$%s as seen by a job with no inherit_environment: "
        + "a job starts from the batch system's basics plus its own environment, never the "
        + "environment it was submitted from (only JobSpec.inheritEnvironment() lets names "
        + "through)", probe).isEqualTo("unset");
  }

  @Test
  public void holdsAJobUntilItIsReleased() throws Exception {
    requireCapability(Capability.HOLD_RELEASE);
    skipIfRunElsewhere();
    var out = engineDir.resolve("hold.out");
    var spec = spec(step("sh", "-c", "echo released")).stdout(out).build();
    var job = submit(request("hold", spec));
    try {
      backend.hold(List.of(job));
    } catch (BackendException e) {
      var now = poll(job);
      Assumptions.assumeFalse(now instanceof JobStatus.Running || ended(now), "skipped: the job "
          + "started before hold() (" + now + "), which this batch system refuses: " + e);
      throw e;
    }

    var held = awaitStatus(job, JobStatus.Held.class::isInstance, "held");
    assertThat(held).as("after hold() returned, the job must be reported Held until released; "
        + "got %s", held).isInstanceOf(JobStatus.Held.class);
    for (int i = 0; i < 3; i++) {
      assertThat(poll(job)).as("a held job polled again before release: it must stay Held")
          .isInstanceOf(JobStatus.Held.class);
    }
    backend.release(List.of(job));

    assertSucceeded(job, "the held job after release()");
    assertThat(output(job, spec, out)).as("the released job's output").isEqualTo("released\n");
  }

  @Test
  public void tailsTheOutputOfARunningJob() throws Exception {
    requireCapability(Capability.LOG_ACCESS);
    skipIfRunElsewhere();
    var job = submit(request("tail", spec(step("sh", "-c",
        "printf '1\\n2\\n3\\n4\\n5\\n'; sleep 600")).build()));
    var last = new AtomicReference<java.util.Optional<String>>();
    try {
      Awaitility.await().atMost(fixture.timeout()).pollInterval(Duration.ofMillis(300))
          .until(() -> {
            last.set(backend.tail(job, org.jobyard.api.LogStream.STDOUT, 2));
            return last.get().filter("4\n5\n"::equals).isPresent();
          });
    } catch (ConditionTimeoutException e) {
      fail("tail(STDOUT, 2) of a running job that printed 1 to 5 must return its last two "
          + "lines, \"4\\n5\\n\", while it runs; the last answer was " + last.get());
    }
    assertThat(ended(poll(job))).as("the job whose output was tailed is still running").isFalse();
  }

  @Test
  public void cleanRemovesWhatTheJobLeftAndIsIdempotent() throws Exception {
    skipIfRunElsewhere();
    // no stdout path: the output stays in the job's sandbox on the cluster, where clean reaches
    var spec = spec(step("sh", "-c", "echo left behind")).build();
    var job = submit(request("clean", spec));
    assertSucceeded(job, "the job to clean up after");
    backend.collect(job, spec);
    var logs = fixture.capabilities().contains(Capability.LOG_ACCESS);
    if (logs) {
      assertThat(backend.tail(job, org.jobyard.api.LogStream.STDOUT, 5))
          .as("the ended job's output read on the cluster before clean()")
          .hasValue("left behind\n");
    }

    backend.clean(job);
    try {
      backend.clean(job);
    } catch (BackendException e) {
      fail("a second clean() of the same job threw %s: clean must be idempotent (the engine "
          + "calls it again after a crash)", e);
    }

    if (logs) {
      assertThat(backend.tail(job, org.jobyard.api.LogStream.STDOUT, 5).orElse(""))
          .as("the job's output read on the cluster after clean(): clean must remove the job's "
              + "sandbox (its folder, its output)").doesNotContain("left behind");
    }
  }

  /** Spaces, quotes, {@code $}, a backquote and non-ASCII: a file name, never shell code. */
  private static final String ODD_NAME = "odd 'single' \"double\" $HOME `id` \u00fc";

  /**
   * A variable of the environment the transport's commands run in that no job gets anyway, or
   * null: what a job would see if its backend passed on the submitting environment.
   */
  private String submittingVariable() throws Exception {
    var out = fixture.transport().run(org.jobyard.api.Command.of("env"));
    return out.stdout().lines().filter(l -> l.matches("[A-Za-z_][A-Za-z0-9_]*=.*"))
        .map(l -> l.substring(0, l.indexOf('=')))
        .filter(n -> !n.matches("HOME|USER|LOGNAME|PATH|SHELL|LANG|LANGUAGE|LC_.*|TZ|TMPDIR"
            + "|PWD|OLDPWD|SHLVL|_|SLURM.*|_CONDOR.*|CONDOR.*|BATCH_SYSTEM|OMP_NUM_THREADS"))
        .sorted().findFirst().orElse(null);
  }

  // ---- a lost submit answer (issue 24) ---------------------------------------------------------

  /**
   * A submit whose answer is lost after the batch system took the job: the kit acts as the engine
   * does (an {@code Accepted} is adopted; {@code InDoubt}, an exception or a missing outcome are
   * resolved with {@code lookup} over a working connection, and only what lookup does not find is
   * submitted again) and checks that the job's payload ran exactly once.
   */
  @Test
  public void aSubmitWhoseAnswerIsLostRunsTheJobOnce() throws Exception {
    var scratch = clusterScratch();
    try {
      var lossy = answerLoss();
      var engineSide = lossy.backend();
      // a first job, so that one-time set-up (a workdir resolved once) is behind us
      adoptAccepted(engineSide.submit(List.of(request("lost-warmup",
          spec(step("true")).build()))));
      var runs = scratch + "/runs";
      var request = request("lost", spec(step("sh", "-c", "echo ran >> \"$1\"", "sh", runs))
          .build());

      lossy.loseAnswers(true);
      SubmitOutcome outcome = null;
      BackendException thrown = null;
      try {
        outcome = engineSide.submit(List.of(request)).stream()
            .filter(o -> o.jobId().equals(request.jobId())).findFirst().orElse(null);
      } catch (BackendException e) {
        thrown = e;
      } finally {
        lossy.loseAnswers(false);
      }

      JobRef job;
      if (outcome instanceof SubmitOutcome.Accepted a) {
        job = a.job();
      } else if (outcome instanceof SubmitOutcome.Rejected r && !r.error().isRetryable()) {
        try {
          Awaitility.await().atMost(fixture.timeout()).until(() -> runsOf(runs) > 0);
        } catch (ConditionTimeoutException e) {
          return; // refused for real: it never ran
        }
        fail("submit answered Rejected (not retryable: " + r.error() + ") after its answer was "
            + "lost, yet the job ran: when a command was sent and its answer lost, return "
            + "SubmitOutcome.InDoubt so that the engine looks the job up");
        return;
      } else {
        // in doubt (said so, thrown, missing) or "not now": the engine looks up before resubmitting
        var found = engineSide.lookup(List.of(request));
        job = found.get(request.jobId());
        if (job == null) {
          var again = engineSide.submit(List.of(request));
          assertThat(again).as("the resubmission after a lookup that found nothing")
              .singleElement().isInstanceOf(SubmitOutcome.Accepted.class);
          job = ((SubmitOutcome.Accepted) again.getFirst()).job();
        }
      }
      submitted.add(job);
      var end = awaitEnd(engineSide, job, fixture.timeout());
      assertThat(end).as("the job whose submit answer was lost must run to its end; got %s", end)
          .isInstanceOf(JobStatus.Exited.class);
      var how = outcome == null ? (thrown == null ? "no outcome" : "an exception (" + thrown + ")")
          : outcome.toString();
      try {
        // a second native job would write too: watch for a while
        Awaitility.await().pollInterval(Duration.ofMillis(250)).during(Duration.ofSeconds(3))
            .atMost(fixture.timeout()).until(() -> runsOf(runs) == 1);
      } catch (ConditionTimeoutException e) {
        fail("the job whose submit answer was lost ran " + runsOf(runs) + " times (the kit saw "
            + how + " from submit, then called lookup, which "
            + (engineSide.lookup(List.of(request)).isEmpty() ? "found nothing" : "found it")
            + "): exactly one native job per tag. Report a lost answer as SubmitOutcome.InDoubt "
            + "(or throw retryable), and make lookup find the job by its tag; never answer "
            + "Rejected when the command was sent");
      }
    } finally {
      fixture.transport().run(org.jobyard.api.Command.of("rm", "-rf", "--", scratch));
    }
  }

  /**
   * How the lost-answer case loses a submit's answer: by default the fixture's transport runs
   * each command and drops its result ({@link AnswerLosingTransport}). A backend that does not
   * reach its cluster through the transport (HTTP) overrides it, e.g. with a backend built on an
   * {@link AnswerLosingHttpClient}; see {@link AnswerLoss}.
   */
  protected AnswerLoss answerLoss() throws Exception {
    var lossy = new AnswerLosingTransport(fixture.transport());
    return AnswerLoss.of(newBackend(lossy), lossy::loseAnswers);
  }

  /**
   * A fresh folder on the cluster, reached through the fixture's transport, where its jobs can
   * write: in the cluster's home by default. Override when jobs run as another user (a CE's
   * mapped account) that cannot write there.
   */
  protected String clusterScratch() throws Exception {
    var out = fixture.transport().run(org.jobyard.api.Command.of("sh", "-c",
        "mktemp -d \"${HOME:-/tmp}/.jobyard-kit.XXXXXX\""));
    assertThat(out.exitCode()).as("mktemp on the cluster: %s", out.stderr()).isZero();
    return out.stdout().strip();
  }

  private int runsOf(String file) throws Exception {
    var out = fixture.transport().run(org.jobyard.api.Command.of("sh", "-c",
        "[ -f \"$1\" ] && cat \"$1\" || true", "sh", file));
    return (int) out.stdout().lines().filter(l -> l.equals("ran")).count();
  }

  private void adoptAccepted(List<SubmitOutcome> outcomes) {
    for (var o : outcomes) {
      assertThat(o).as("a plain job's submit through a working connection").isInstanceOf(
          SubmitOutcome.Accepted.class);
      submitted.add(((SubmitOutcome.Accepted) o).job());
    }
  }

  // ---- the engine's side of the SPI, for the tests above and a subclass's own tests -----------

  /** The backend under test. */
  protected final Backend backend() {
    return backend;
  }

  protected final BackendFixture fixture() {
    return fixture;
  }

  /** The fixture's transport as the backend under test uses it (its commands counted). */
  protected final Transport transport() {
    return transport;
  }

  /** Another instance of the backend, as after an engine restart. Closed after the test. */
  protected final Backend newBackend(Transport through) throws Exception {
    return newBackend(through, Map.of());
  }

  /** As {@link #newBackend(Transport)}, with settings added to (or replacing) the fixture's. */
  protected final Backend newBackend(Transport through, Map<String, String> moreSettings)
      throws Exception {
    var values = new HashMap<>(fixture.settings().values());
    values.putAll(moreSettings);
    var settings = new Settings(fixture.settings().owner(), values);
    var context = new BackendContext("conformance", settings, through,
        fixture.workDir(), pollSoonCalls::incrementAndGet);
    var created = fixture.provider().create(context);
    backends.add(created);
    return created;
  }

  /** Skips the calling test unless the fixture declares the capability. */
  protected final void requireCapability(Capability capability) {
    Assumptions.assumeTrue(fixture.capabilities().contains(capability),
        "skipped: the backend does not declare " + capability);
  }

  /** A request with an id unique to this run, safe as a folder or job name. */
  protected final SubmitRequest request(String name, JobSpec spec) {
    return new SubmitRequest("cf-" + run + "-" + name, 1, spec);
  }

  protected final JobRef submit(SubmitRequest request) throws Exception {
    var outcomes = backend.submit(List.of(request));
    assertThat(outcomes).as("submit must return exactly one outcome per request").hasSize(1);
    var outcome = outcomes.getFirst();
    assertThat(outcome.jobId()).as("the outcome's job id must be the request's").isEqualTo(
        request.jobId());
    if (outcome instanceof SubmitOutcome.Rejected r) {
      fail("the backend rejected a plain job %s: %s", request.jobId(), r.error());
    }
    var job = ((SubmitOutcome.Accepted) outcome).job();
    assertThat(job.jobId()).as("the accepted JobRef must carry the request's job id")
        .isEqualTo(request.jobId());
    submitted.add(job);
    return job;
  }

  /** Submits in one call with {@link Capability#BULK_SUBMIT}, else one call per job. */
  protected final List<JobRef> submitAll(List<SubmitRequest> requests) throws Exception {
    if (!fixture.capabilities().contains(Capability.BULK_SUBMIT)) {
      var jobs = new ArrayList<JobRef>();
      for (var r : requests) {
        jobs.add(submit(r));
      }
      return jobs;
    }
    var outcomes = backend.submit(requests);
    assertThat(outcomes).as("a bulk submit must return one outcome per request")
        .hasSize(requests.size());
    var byId = new HashMap<String, JobRef>();
    for (var o : outcomes) {
      if (o instanceof SubmitOutcome.Rejected r) {
        fail("the backend rejected a plain job %s in a bulk submit: %s", r.jobId(), r.error());
      }
      var job = ((SubmitOutcome.Accepted) o).job();
      byId.put(job.jobId(), job);
      submitted.add(job);
    }
    return requests.stream().map(r -> {
      assertThat(byId).as("bulk submit outcomes by job id").containsKey(r.jobId());
      return byId.get(r.jobId());
    }).toList();
  }

  protected final JobStatus poll(JobRef job) throws Exception {
    return poll(backend, job);
  }

  private static JobStatus poll(Backend b, JobRef job) throws Exception {
    var statuses = b.poll(List.of(job));
    assertThat(statuses).as("poll must return an entry for each job asked about (Unknown when "
        + "it cannot tell)").containsKey(job.jobId());
    return statuses.get(job.jobId());
  }

  protected final JobStatus awaitEnd(JobRef job) {
    return awaitEnd(backend, job, fixture.timeout());
  }

  private JobStatus awaitEnd(JobRef job, Duration timeout) {
    return awaitEnd(backend, job, timeout);
  }

  private static JobStatus awaitEnd(Backend b, JobRef job, Duration timeout) {
    return awaitStatus(b, job, BackendConformanceTest::ended, "ended", timeout);
  }

  /** As {@link #awaitEnd(JobRef)}, with what a plugin author should check when it times out. */
  private static JobStatus awaitEnd(Backend b, JobRef job, Duration timeout, String hint) {
    try {
      return awaitEnd(b, job, timeout);
    } catch (AssertionError e) {
      throw new AssertionError(hint + ": " + e.getMessage(), e);
    }
  }

  protected final JobStatus awaitStatus(JobRef job, Predicate<JobStatus> wanted, String what) {
    return awaitStatus(backend, job, wanted, what, fixture.timeout());
  }

  private static JobStatus awaitStatus(Backend b, JobRef job, Predicate<JobStatus> wanted,
      String what, Duration timeout) {
    var last = new AtomicReference<JobStatus>();
    try {
      return Awaitility.await().atMost(timeout).pollDelay(Duration.ofMillis(20))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> {
            var s = poll(b, job);
            last.set(s);
            return s;
          }, s -> wanted.test(s) || (ended(s) && !"ended".equals(what)));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("job " + job.jobId() + " (native id " + job.nativeId()
          + ") was not " + what + " within " + timeout + "; the last poll said " + last.get(), e);
    }
  }

  /** The same kind of end with the same exit code; the reason may say where it was read. */
  private static boolean sameEnd(JobStatus first, JobStatus later) {
    return first.getClass() == later.getClass() && switch (first) {
      case JobStatus.Exited e -> e.exitCode() == ((JobStatus.Exited) later).exitCode();
      case JobStatus.Failed f -> f.exitCode() == ((JobStatus.Failed) later).exitCode();
      default -> true;
    };
  }

  private static boolean ended(JobStatus s) {
    return s instanceof JobStatus.Exited || s instanceof JobStatus.Failed
        || s instanceof JobStatus.Cancelled;
  }

  private void assertSucceeded(JobRef job, String what) {
    assertExited(awaitEnd(job), 0, what + " (job " + job.jobId() + ") must end as Exited(0)");
  }

  private static void assertExited(JobStatus end, int code, String expectation) {
    if (!(end instanceof JobStatus.Exited e) || e.exitCode() != code) {
      fail(expectation + "; got " + end);
    }
  }

  /** The job's stdout as the engine sees it after {@link Backend#collect}. */
  protected final String output(JobRef job, JobSpec spec, Path stdout) throws Exception {
    backend.collect(job, spec);
    assertThat(stdout).as("after collect(), the job's stdout must be at the path its spec names "
        + "on the engine's machine").exists();
    return Files.readString(stdout, StandardCharsets.UTF_8);
  }

  protected static JobSpec.Step step(String executable, String... arguments) {
    return new JobSpec.Step(executable, List.of(arguments));
  }

  protected static SpecBuilder spec(JobSpec.Step... steps) {
    return new SpecBuilder(List.of(steps));
  }

  /** Builds the small specs the kit submits. */
  protected static final class SpecBuilder {
    private final List<JobSpec.Step> steps;
    private Map<String, String> env = Map.of();
    private String stdout;
    private Duration walltime;
    private final List<JobSpec.FileTransfer> inputs = new ArrayList<>();
    private final List<JobSpec.FileTransfer> outputs = new ArrayList<>();
    private String stdin;

    private SpecBuilder(List<JobSpec.Step> steps) {
      this.steps = steps;
    }

    public SpecBuilder env(Map<String, String> value) {
      env = value;
      return this;
    }

    public SpecBuilder stdout(Path value) {
      stdout = value.toAbsolutePath().toString();
      return this;
    }

    public SpecBuilder walltime(Duration value) {
      walltime = value;
      return this;
    }

    /** A file staged from the engine's machine to {@code destination} in the job's folder. */
    public SpecBuilder input(Path source, String destination) {
      inputs.add(new JobSpec.FileTransfer(source.toAbsolutePath().toString(), destination));
      return this;
    }

    /** A file the job writes ({@code source}, in its folder) fetched to {@code destination}. */
    public SpecBuilder output(String source, Path destination) {
      outputs.add(new JobSpec.FileTransfer(source, destination.toAbsolutePath().toString()));
      return this;
    }

    /** The job's standard input: one of its inputs' destination. */
    public SpecBuilder stdin(String value) {
      stdin = value;
      return this;
    }

    public JobSpec build() {
      return new JobSpec("conformance", null, null, steps, env, null, stdout, null,
          new Resources(0, 0, walltime, 0, 0), null, null, inputs, outputs, List.of(), 0,
          Map.of(), List.of(), null, List.of(), null, stdin, List.of());
    }
  }
}
