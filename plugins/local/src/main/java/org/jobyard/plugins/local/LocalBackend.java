package org.jobyard.plugins.local;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
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
        launches.put(tag, new Scripts.Launch(tag,
            WrapperScript.build(tag, job.spec(), shares, grace), account));
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
    var script = Scripts.submit(settings.workdir(), extraDirs, List.copyOf(launches.values()));
    var sent = commands.send(Command.of("sh", "-s").withStdin(script)
        .withTimeout(Command.DEFAULT_TIMEOUT.plusMillis(10L * launches.size())), "submit");
    if (sent instanceof ClusterCommands.Sent.Lost lost) {
      // sent, answer lost: any of the jobs may have started; the engine looks them up by tag
      for (var tag : launches.keySet()) {
        outcomes.add(SubmitVerdict.IN_DOUBT.outcome(ready.get(tag).jobId(), lost.message()));
      }
      return outcomes;
    }
    var result = ((ClusterCommands.Sent.Answered) sent).result();
    var listing = Listings.parseSubmit(result.stdout());
    if (listing.workdir() == null) {
      throw submitFailure(result);
    }
    for (var tag : launches.keySet()) {
      var job = ready.get(tag);
      var pid = listing.pids().get(tag);
      if (pid != null) {
        var files = JobFiles.of(listing.workdir(), job, shares);
        outcomes.add(new SubmitOutcome.Accepted(ref(files, job.jobId(), pid,
            launches.get(tag).account())));
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
    log.debug("cluster {}: started {} of {} jobs", context.cluster(), outcomes.stream()
        .filter(SubmitOutcome.Accepted.class::isInstance).count(), jobs.size());
    return outcomes;
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

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
    var result = new HashMap<String, JobStatus>();
    var asked = new ArrayList<JobRef>();
    for (var job : jobs) {
      if (JobFiles.of(job) == null) {
        result.put(job.jobId(), new JobStatus.Unknown(
            "the engine's record of this job has no job folder (attribute 'dir')"));
      } else {
        asked.add(job);
      }
    }
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
      var statuses = Listings.parsePoll(out.stdout());
      for (int i = 0; i < refs.size(); i++) {
        result.put(refs.get(i).jobId(), statuses.getOrDefault(i,
            new JobStatus.Unknown("the poll listing had no line for this job")));
      }
    }
    return result;
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
      found.put(attempt.jobId(), ref(files, attempt.jobId(), e.getValue().pid(), account));
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
      fetch.fetch(files.stdout(), spec.stdout(), false);
      fetch.fetch(files.stderr(), spec.stderr(), false);
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
    return OptionalInt.of(settings.slots());
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
