package org.jobyard.plugins.local;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.OutputFetch;
import org.jobyard.api.JobStatus;
import org.jobyard.api.LogStream;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.api.Transport;
import org.jobyard.toolkit.ClusterCommands;
import org.jobyard.toolkit.StatusChain;
import org.jobyard.toolkit.SubmitVerdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each attempt as a detached process group on the transport's host, in a folder of its own
 * named after the attempt's tag. All work goes through the {@link Transport} (one shell script per
 * batch, see {@link Scripts}), so the same code drives this machine and a remote one over SSH;
 * the folder, not the engine, remembers the job, so jobs outlive the engine and are found again by
 * {@link #lookup}.
 */
public final class LocalBackend implements Backend {
  private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);

  private static final Set<Capability> CAPABILITIES = EnumSet.of(Capability.BULK_SUBMIT,
      Capability.STEPS, Capability.WALLTIME, Capability.LOG_ACCESS, Capability.STAGING,
      Capability.STDIN, Capability.INHERIT_ENVIRONMENT);

  private final BackendContext context;
  private final Transport transport;
  private final LocalSettings settings;
  private final boolean shares;
  private final CompletionWatch watch;
  private final ClusterCommands commands;
  /** Tags seen waiting in a runner's queue, with when first seen so (System.nanoTime). */
  private final Map<String, Long> queuedSince = new HashMap<>();

  /** How long a job may wait in a runner's queue before it is named to the runner again. */
  static final java.time.Duration RESPOOL_AFTER = java.time.Duration.ofSeconds(60);

  LocalBackend(BackendContext context, LocalSettings settings) {
    this.context = requireNonNull(context, "context is null");
    this.settings = requireNonNull(settings, "settings is null");
    this.transport = context.transport();
    this.shares = transport.sharesFilesystem();
    this.commands = new ClusterCommands(context.cluster(), transport, Command.DEFAULT_TIMEOUT);
    this.watch = shares
        ? CompletionWatch.start(Path.of(settings.workdir(), ".done"), context.cluster(),
            context.events())
        : null;
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    var outcomes = new ArrayList<SubmitOutcome>(jobs.size());
    var ready = new LinkedHashMap<String, SubmitRequest>(); // by tag
    var launches = new LinkedHashMap<String, Scripts.Launch>();
    long grace = Math.max(1, settings.killGrace().toSeconds());
    for (var job : jobs) {
      try {
        var tag = JobFiles.checkedTag(job);
        var account = RunAs.of(job.spec());
        if (account != null && !shares) {
          throw BackendException.rejected("native.local." + RunAs.OPTION + ": cluster '"
              + context.cluster() + "' runs jobs over " + transport.describe() + ", where the "
              + "engine cannot change accounts; only the local transport can");
        }
        launches.put(tag, new Scripts.Launch(tag, account == null
            ? WrapperScript.forRunner(tag, job.spec(), shares, grace)
            : WrapperScript.build(tag, job.spec(), shares, grace), account));
        ready.put(tag, job);
      } catch (BackendException e) {
        outcomes.add(new SubmitOutcome.Rejected(job.jobId(), e));
      }
    }
    if (ready.isEmpty()) {
      return outcomes;
    }
    stageInputs(ready, launches, outcomes);
    if (launches.isEmpty()) {
      return outcomes;
    }
    var extraDirs = new LinkedHashSet<String>();
    for (var job : ready.values()) {
      // a job run as another account makes its own folders, with its own rights
      if (shares && launches.containsKey(JobFiles.checkedTag(job))
          && launches.get(JobFiles.checkedTag(job)).account() == null) {
        for (var path : List.of(nullToEmpty(job.spec().stdout()),
            nullToEmpty(job.spec().stderr()))) {
          if (path.startsWith("/") && JobFiles.parentOf(path) != null) {
            extraDirs.add(JobFiles.parentOf(path));
          }
        }
      }
    }
    var byRunner = new ArrayList<Scripts.Launch>();
    var byWrapper = new ArrayList<Scripts.Launch>();
    for (var launch : launches.values()) {
      (launch.account() == null ? byRunner : byWrapper).add(launch);
    }
    if (!byRunner.isEmpty()) {
      if (shares) {
        handOverHere(byRunner, extraDirs, ready, outcomes);
      } else {
        launch(Scripts.handOver(settings.workdir(), extraDirs, byRunner, settings.slots(),
            settings.javaRunner()),
            byRunner, ready, outcomes);
      }
    }
    if (!byWrapper.isEmpty()) {
      launch(Scripts.submit(settings.workdir(), extraDirs, byWrapper), byWrapper, ready,
          outcomes);
    }
    log.debug("cluster {}: started {} of {} jobs", context.cluster(), outcomes.stream()
        .filter(SubmitOutcome.Accepted.class::isInstance).count(), jobs.size());
    return outcomes;
  }

  /**
   * Hands jobs to the runner through the filesystem, without a process: each job's {@code
   * run.sh} written whole (a rename), then one spool file naming them, then the runner started
   * if it is not alive. A job found handed over or started before is not written again.
   */
  private void handOverHere(List<Scripts.Launch> launches, Collection<String> extraDirs,
      Map<String, SubmitRequest> ready, List<SubmitOutcome> outcomes) throws BackendException {
    var root = Path.of(settings.workdir()).toAbsolutePath().normalize();
    var handed = new ArrayList<String>(launches.size());
    try {
      for (var sub : List.of(Runner.SPOOL, ".done", Runner.HOME)) {
        Files.createDirectories(root.resolve(sub));
      }
      for (var dir : extraDirs) {
        try {
          Files.createDirectories(Path.of(dir));
        } catch (IOException e) {
          // the job records that it cannot create its output file, with the reason
        }
      }
    } catch (IOException e) {
      throw new BackendException(context.cluster() + ": cannot create the job folders under "
          + root + ": " + e.getMessage() + "; check that the folder is writable", false);
    }
    for (var launch : launches) {
      var job = ready.get(launch.tag());
      var dir = root.resolve(launch.tag());
      try {
        Files.createDirectories(dir);
        if (!Files.exists(dir.resolve(Runner.STARTED)) && !Files.exists(dir.resolve("pid"))
            && !Files.exists(dir.resolve("exitcode"))) {
          Runner.writeAtomically(dir.resolve(Runner.JOB), launch.wrapper());
        }
        handed.add(launch.tag());
      } catch (IOException e) {
        outcomes.add(new SubmitOutcome.Rejected(job.jobId(), new BackendException(
            context.cluster() + ": job " + launch.tag() + " was not handed over: cannot write "
            + dir + ": " + e.getMessage(), true)));
      }
    }
    if (handed.isEmpty()) {
      return;
    }
    try {
      Runner.spool(root, handed);
      writeSlots(root);
      if (!Runner.alive(root)) {
        var out = run(Command.of("sh", "-s").withStdin(
            Scripts.ensureRunner(root.toString(), settings.slots(), settings.javaRunner())),
            "start the runner");
        if (!out.succeeded()) {
          throw submitFailure(out);
        }
        logRunnerStart(out.stdout(), root.toString());
      }
    } catch (IOException | BackendException e) {
      // the jobs are handed over (their run.sh is written): a runner started later finds them
      for (var tag : handed) {
        outcomes.add(new SubmitOutcome.InDoubt(ready.get(tag).jobId(), context.cluster()
            + ": job " + tag + " was handed over, but the runner may not have been told: "
            + e.getMessage()));
      }
      return;
    }
    for (var tag : handed) {
      var job = ready.get(tag);
      outcomes.add(new SubmitOutcome.Accepted(JobFiles.of(root.toString(), job, shares)
          .ref(job.jobId(), tag)));
    }
  }

  /** Says which runner a start script started ({@code R java 17}, {@code R bash <why>}), if any. */
  private void logRunnerStart(String stdout, String root) {
    for (var line : stdout.split("\r?\n")) {
      if (line.startsWith("R java ")) {
        log.info("cluster {}: started the Java runner (Java {}) for {}", context.cluster(),
            line.substring(7), root);
      } else if (line.startsWith("R bash ")) {
        log.info("cluster {}: started the shell runner for {}: {}", context.cluster(), root,
            line.substring(7));
      }
    }
  }

  /** The runner reads its number of slots from a file; written when it differs. */
  private void writeSlots(Path root) throws IOException {
    var file = root.resolve(Runner.HOME).resolve("slots");
    var want = Integer.toString(settings.slots());
    var have = Runner.firstLine(file);
    if (have == null || !have.strip().equals(want)) {
      Runner.writeAtomically(file, want + "\n");
    }
  }

  /** Runs a submit or hand-over script and turns its listing into outcomes. */
  private void launch(String script, List<Scripts.Launch> launches,
      Map<String, SubmitRequest> ready, List<SubmitOutcome> outcomes) throws BackendException {
    var sent = commands.send(Command.of("sh", "-s").withStdin(script)
        .withTimeout(Command.DEFAULT_TIMEOUT.plusMillis(10L * launches.size())), "submit");
    if (sent instanceof ClusterCommands.Sent.Lost lost) {
      // sent, answer lost: any of the jobs may have started; the engine looks them up by tag
      for (var launch : launches) {
        outcomes.add(SubmitVerdict.IN_DOUBT.outcome(ready.get(launch.tag()).jobId(),
            lost.message()));
      }
      return;
    }
    var result = ((ClusterCommands.Sent.Answered) sent).result();
    var listing = Listings.parseSubmit(result.stdout());
    logRunnerStart(result.stdout(), listing.workdir());
    if (listing.workdir() == null) {
      throw submitFailure(result);
    }
    for (var launch : launches) {
      var tag = launch.tag();
      var job = ready.get(tag);
      var pid = listing.pids().get(tag);
      if (pid != null) {
        var files = JobFiles.of(listing.workdir(), job, shares);
        // a job handed to the runner has no pid yet: its tag names it
        outcomes.add(new SubmitOutcome.Accepted(ref(files, job.jobId(),
            pid.equals("-") && launch.account() == null ? tag : pid, launch.account())));
      } else if (listing.errors().containsKey(tag)) {
        outcomes.add(new SubmitOutcome.Rejected(job.jobId(), new BackendException(
            context.cluster() + ": job " + tag + " was not started: "
            + listing.errors().get(tag), true)));
      } else {
        // the script stopped before reporting it: it may have started the job
        outcomes.add(new SubmitOutcome.InDoubt(job.jobId(), context.cluster() + ": the submit "
            + "script did not report job " + tag + " (" + result.summary() + ")"));
      }
    }
  }

  /** Uploads input files into their job folders; a job whose upload fails is not launched. */
  private void stageInputs(Map<String, SubmitRequest> ready, Map<String, Scripts.Launch> launches,
      List<SubmitOutcome> outcomes) throws BackendException {
    var staged = ready.entrySet().stream()
        .filter(e -> !e.getValue().spec().inputFiles().isEmpty()).map(Map.Entry::getKey).toList();
    if (staged.isEmpty()) {
      return;
    }
    var accounts = new HashMap<String, String>();
    for (var tag : staged) {
      var account = launches.get(tag).account();
      if (account != null) {
        accounts.put(tag, account);
      }
    }
    var result = run(Command.of("sh", "-s").withStdin(Scripts.prepare(settings.workdir(), staged,
        accounts)), "prepare");
    var workdir = Listings.parseWorkdir(result.stdout());
    if (workdir == null || !result.succeeded()) {
      throw submitFailure(result);
    }
    for (var tag : staged) {
      var job = ready.get(tag);
      var cwd = jobCwd(workdir + "/" + tag, job.spec());
      try {
        for (var input : job.spec().inputFiles()) {
          var destination = input.destination();
          if (destination.startsWith("/") || List.of(destination.split("/")).contains("..")) {
            throw BackendException.rejected("input file destination '" + destination
                + "' must be a path inside the job's directory");
          }
          var account = accounts.get(tag);
          if (account == null) {
            transport.upload(Path.of(input.source()), cwd + "/" + destination);
          } else {
            var copied = run(RunAs.copy(account, input.source(), cwd + "/" + destination),
                "stage");
            if (!copied.succeeded()) {
              throw BackendException.rejected("cannot stage input file " + input.source()
                  + " as user " + account + ": " + copied.summary());
            }
          }
        }
      } catch (BackendException e) {
        launches.remove(tag);
        outcomes.add(new SubmitOutcome.Rejected(job.jobId(), e));
      }
    }
  }

  private BackendException submitFailure(CommandResult result) {
    var message = context.cluster() + ": cannot start jobs in " + settings.workdir() + " on "
        + transport.describe() + ": " + result.summary();
    // 3: no setsid; 4: the workdir cannot be created. Both need someone to fix the host.
    boolean retryable = result.exitCode() != 3 && result.exitCode() != 4;
    return new BackendException(message, retryable);
  }

  /**
   * One status per job: folders on the engine's filesystem are read in Java (no process), the
   * others by one script per account. Jobs waiting in a runner's queue make sure that runner is
   * alive, and are named to it again once they have waited long (a hand-over the runner missed).
   */
  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
    var queued = new ArrayList<JobRef>();
    var runnerDown = new boolean[1];
    var runners = new HashMap<String, Boolean>();
    var result = StatusChain.of(open -> {
      var found = new HashMap<String, JobStatus>();
      for (var job : open) {
        if (JobFiles.of(job) == null) {
          found.put(job.jobId(), new JobStatus.Unknown(
              "the engine's record of this job has no job folder (attribute 'dir')"));
        } else if (shares && RunAs.of(job) == null) {
          var line = Runner.read(Path.of(JobFiles.of(job).dir()), runners);
          found.put(job.jobId(), line == null
              ? new JobStatus.Unknown("the job folder does not exist on the execution host")
              : Listings.status(line));
          if (line != null && line.queued()) {
            queued.add(job);
          }
        }
      }
      return found;
    }, open -> {
      var found = new HashMap<String, JobStatus>();
      var asked = open.stream().filter(j -> JobFiles.of(j) != null
          && !(shares && RunAs.of(j) == null)).toList();
      // one script per account: a job run as another account is only ever read as that account
      for (var group : byAccount(asked).entrySet()) {
        var refs = group.getValue();
        var dirs = refs.stream().map(r -> JobFiles.of(r).dir()).toList();
        var out = run(RunAs.wrap(group.getKey().orElse(null),
            Command.of("sh", "-s").withStdin(Scripts.poll(dirs))), "poll");
        if (!out.succeeded()) {
          throw BackendException.unavailable(context.cluster() + ": the poll script failed on "
              + transport.describe() + ": " + out.summary(), null);
        }
        var listing = Listings.parsePollListing(out.stdout());
        for (int i = 0; i < refs.size(); i++) {
          found.put(refs.get(i).jobId(), listing.statuses().getOrDefault(i,
              new JobStatus.Unknown("the poll listing had no line for this job")));
          if (listing.queued().contains(i)) {
            queued.add(refs.get(i));
            runnerDown[0] |= !listing.runnerAlive();
          }
        }
      }
      return found;
    }).poll(jobs);
    keepQueueMoving(queued, runnerDown[0]);
    return result;
  }

  /**
   * Starts the runner of queued jobs when it is not alive (it was killed, or left while the
   * engine was handing over), and names jobs queued longer than {@link #RESPOOL_AFTER} to it
   * again: the runner claims each job once, so naming one twice is harmless.
   */
  private void keepQueueMoving(List<JobRef> queued, boolean runnerDown)
      throws BackendException {
    var now = System.nanoTime();
    var stillQueued = new java.util.HashSet<String>();
    var byRoot = new LinkedHashMap<String, List<String>>();
    var late = new LinkedHashMap<String, List<String>>();
    for (var job : queued) {
      var files = JobFiles.of(job);
      var root = JobFiles.parentOf(files.dir());
      stillQueued.add(files.tag());
      byRoot.computeIfAbsent(root, k -> new ArrayList<>()).add(files.tag());
      var since = queuedSince.putIfAbsent(files.tag(), now);
      if (since != null && now - since > RESPOOL_AFTER.toNanos()) {
        late.computeIfAbsent(root, k -> new ArrayList<>()).add(files.tag());
        queuedSince.put(files.tag(), now);
      }
    }
    queuedSince.keySet().retainAll(stillQueued);
    for (var root : byRoot.keySet()) {
      boolean down = shares ? !Runner.alive(Path.of(root)) : runnerDown;
      if (down) {
        log.info("cluster {}: {} job(s) wait for the runner of {}, which is not running; "
            + "starting it", context.cluster(), byRoot.get(root).size(), root);
        logRunnerStart(run(Command.of("sh", "-s").withStdin(Scripts.ensureRunner(root,
            settings.slots(), settings.javaRunner())), "start the runner").stdout(), root);
      }
    }
    for (var e : late.entrySet()) {
      run(Command.of("sh", "-s").withStdin(Scripts.spoolAgain(e.getKey(), e.getValue())),
          "hand over again");
    }
  }

  @Override
  public void cancel(List<JobRef> jobs) throws BackendException {
    var known = jobs.stream().filter(j -> JobFiles.of(j) != null).toList();
    long grace = Math.max(1, settings.killGrace().toSeconds());
    for (var group : byAccount(known).entrySet()) {
      var dirs = group.getValue().stream().map(r -> JobFiles.of(r).dir()).toList();
      var out = run(RunAs.wrap(group.getKey().orElse(null),
          Command.of("sh", "-s").withStdin(Scripts.cancel(dirs, grace))), "cancel");
      if (!out.succeeded()) {
        throw BackendException.unavailable(context.cluster() + ": the cancel script failed on "
            + transport.describe() + ": " + out.summary(), null);
      }
    }
  }

  /** Jobs grouped by the account they run as (empty: the engine's own), in their order. */
  private static Map<Optional<String>, List<JobRef>> byAccount(List<JobRef> jobs) {
    var groups = new LinkedHashMap<Optional<String>, List<JobRef>>();
    for (var job : jobs) {
      groups.computeIfAbsent(Optional.ofNullable(RunAs.of(job)), k -> new ArrayList<>())
          .add(job);
    }
    return groups;
  }

  /** The attempt's reference, with the account it runs as when not the engine's. */
  private static JobRef ref(JobFiles files, String jobId, String pid, String account) {
    var ref = files.ref(jobId, pid);
    if (account == null) {
      return ref;
    }
    var attributes = new HashMap<>(ref.attributes());
    attributes.put(RunAs.ATTR, account);
    return new JobRef(jobId, pid, attributes);
  }

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
    var groups = new LinkedHashMap<Optional<String>, List<SubmitRequest>>();
    for (var attempt : attempts) {
      try {
        JobFiles.checkedTag(attempt);
        groups.computeIfAbsent(Optional.ofNullable(RunAs.of(attempt.spec())),
            k -> new ArrayList<>()).add(attempt);
      } catch (BackendException e) {
        // a tag or account that cannot name a folder or user was never submitted here
      }
    }
    var found = new HashMap<String, JobRef>();
    for (var group : groups.entrySet()) {
      found.putAll(lookup(group.getKey().orElse(null), group.getValue()));
    }
    return found;
  }

  /** Finds attempts that run as one account, reading their folders as that account. */
  private Map<String, JobRef> lookup(String account, List<SubmitRequest> asked)
      throws BackendException {
    var found = new HashMap<String, JobRef>();
    var tags = asked.stream().map(SubmitRequest::tag).toList();
    var out = run(RunAs.wrap(account, Command.of("sh", "-s")
        .withStdin(Scripts.lookup(settings.workdir(), tags))), "lookup");
    if (!out.succeeded()) {
      throw BackendException.unavailable(context.cluster() + ": the lookup script failed on "
          + transport.describe() + ": " + out.summary(), null);
    }
    var workdir = Listings.parseWorkdir(out.stdout());
    if (workdir == null) {
      return found; // no workdir at all: nothing was ever started here
    }
    for (var e : Listings.parseLookup(out.stdout()).entrySet()) {
      var attempt = asked.get(e.getKey());
      var files = JobFiles.of(workdir, attempt, shares);
      // a job of the engine's account is the runner's: its tag names it, as at submit
      found.put(attempt.jobId(), ref(files, attempt.jobId(),
          account == null ? files.tag() : e.getValue().pid(), account));
    }
    return found;
  }

  @Override
  public Optional<String> tail(JobRef job, LogStream stream, int lines) throws BackendException {
    var files = JobFiles.of(job);
    if (files == null) {
      return Optional.empty();
    }
    var path = stream == LogStream.STDOUT ? files.stdout() : files.stderr();
    var out = run(RunAs.wrap(RunAs.of(job), Command.of("tail", "-n",
        Integer.toString(Math.max(0, lines)), "--", path)), "tail");
    return out.succeeded() ? Optional.of(out.stdout()) : Optional.empty();
  }

  @Override
  public void collect(JobRef job, JobSpec spec) throws BackendException {
    var files = JobFiles.of(job);
    if (files == null) {
      throw BackendException.rejected("cannot collect job " + job.jobId()
          + ": the engine's record has no job folder");
    }
    var account = RunAs.of(job);
    if (account != null) {
      collectAs(account, job, spec, jobCwd(files.dir(), spec));
      return;
    }
    var fetch = new OutputFetch(transport, context.cluster());
    if (!shares) {
      // a job cancelled before the runner set up its output (or before it started) has no
      // stdout or stderr: nothing to bring home, and no failure (as for Slurm and HTCondor)
      fetch.fetch(files.stdout(), spec.stdout(), true);
      fetch.fetch(files.stderr(), spec.stderr(), true);
    }
    fetch.declaredOutputs(spec, jobCwd(files.dir(), spec));
    fetch.finish(job.jobId());
  }

  /** Copies the declared outputs as the job's account: only what it may read, where it may. */
  private void collectAs(String account, JobRef job, JobSpec spec, String cwd)
      throws BackendException {
    var problems = new ArrayList<String>();
    for (var output : spec.outputFiles()) {
      var source = output.source().startsWith("/") ? output.source()
          : cwd + "/" + output.source();
      var copied = run(RunAs.copy(account, source, output.destination()), "collect");
      if (!copied.succeeded()) {
        problems.add(source + " -> " + output.destination() + " as user " + account + ": "
            + copied.summary());
      }
    }
    if (!problems.isEmpty()) {
      throw new BackendException(context.cluster() + ": job " + job.jobId()
          + ": some outputs could not be fetched: " + String.join("; ", problems), false);
    }
  }

  @Override
  public void clean(JobRef job) throws BackendException {
    var files = JobFiles.of(job);
    if (files == null) {
      return;
    }
    var done = JobFiles.parentOf(files.dir()) + "/.done/" + files.tag();
    var out = run(Command.of("rm", "-rf", "--", files.dir(), done), "clean");
    if (!out.succeeded()) {
      throw new BackendException(context.cluster() + ": cannot remove " + files.dir() + ": "
          + out.summary(), true);
    }
  }

  @Override
  public OptionalInt slots() {
    // the runner runs `slots` at once; the engine hands over up to `queue_ahead` more, so that
    // a free slot never waits for the engine
    return OptionalInt.of(settings.slots() + settings.queueAhead());
  }

  @Override
  public void close() {
    if (watch != null) {
      watch.close();
    }
  }

  /** The job's working directory on the execution host: its spec's, or its folder. */
  private static String jobCwd(String dir, JobSpec spec) {
    var directory = spec.directory();
    if (directory == null || directory.isBlank()) {
      return dir;
    }
    return directory.startsWith("/") ? directory : dir + "/" + directory;
  }

  private CommandResult run(Command command, String what) throws BackendException {
    return commands.run(command, what);
  }


  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
