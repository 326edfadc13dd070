package org.jobyard.plugins.slurm;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.toolkit.ClusterCommands;
import org.jobyard.toolkit.FolderBackend;
import org.jobyard.toolkit.JobFolder;
import org.jobyard.toolkit.StatusChain;
import org.jobyard.toolkit.SubmitVerdict;
import org.jobyard.plugins.slurm.SlurmListings.AcctRow;
import org.jobyard.plugins.slurm.SlurmListings.Markers;
import org.jobyard.plugins.slurm.SlurmListings.QueueError;
import org.jobyard.plugins.slurm.SlurmListings.QueueRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Slurm cluster, driven through its transport: each attempt gets a folder of its own under
 * the workdir (named after its tag), a batch script written there, and is submitted with {@code
 * sbatch --parsable}; it carries its tag as job name and comment.
 *
 * <p>Per poll: one {@code squeue} for all jobs; then, for the jobs squeue shows as ended or does
 * not show at all, one script reading their folders ({@code exitcode} is authoritative); then, for
 * those still unexplained and only if the cluster has accounting, one {@code sacct}. Anything else
 * is {@link JobStatus.Unknown}. {@code scontrol show job} is not asked: it reads the same
 * controller table as squeue and forgets jobs at the same {@code MinJobAge}, so it would only add
 * one call per lost job per poll.
 */
final class SlurmBackend extends FolderBackend {
  private static final Logger log = LoggerFactory.getLogger(SlurmBackend.class);

  private static final Set<Capability> CAPABILITIES = EnumSet.of(Capability.BULK_SUBMIT,
      Capability.HOLD_RELEASE, Capability.STAGING, Capability.LOG_ACCESS, Capability.STEPS,
      Capability.WALLTIME, Capability.PROCESSES, Capability.EXCLUSIVE, Capability.RESERVATION,
      Capability.DISK, Capability.STDIN, Capability.INHERIT_ENVIRONMENT);

  static final String ATTR_DIR = JobFolder.ATTR_DIR;

  /** The most names or ids put on one squeue command line (well below ARG_MAX). */
  private static final int LIST_CHUNK = 2000;

  private final BackendContext context;
  private final SlurmSettings settings;
  // read by polls and lookups, which may run while a submit or collect runs (Backend javadoc)
  private volatile boolean accountingOff;

  SlurmBackend(BackendContext context, SlurmSettings settings) {
    super(context, settings.commandTimeout(), settings.workdir(), "stdout", "stderr");
    this.context = context;
    this.settings = settings;
    this.accountingOff = settings.accounting() == SlurmSettings.Accounting.FALSE;
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  // --------------------------------------------------------------------------------- submit ---

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    var outcomes = new ArrayList<SubmitOutcome>(jobs.size());
    var root = workdir();
    int accepted = 0;
    for (int from = 0; from < jobs.size(); from += settings.submitBatch()) {
      var batch = jobs.subList(from, Math.min(jobs.size(), from + settings.submitBatch()));
      try {
        var done = submitBatch(root, batch);
        accepted += (int) done.stream().filter(SubmitOutcome.Accepted.class::isInstance).count();
        outcomes.addAll(done);
      } catch (BackendException e) {
        if (accepted == 0 && from == 0 && e.isRetryable()) {
          throw e; // nothing went to Slurm: the engine may retry the whole call
        }
        for (var job : batch) {
          outcomes.add(new SubmitOutcome.Rejected(job.jobId(), e));
        }
      }
    }
    return outcomes;
  }

  private List<SubmitOutcome> submitBatch(String root, List<SubmitRequest> batch)
      throws BackendException {
    var outcomes = new ArrayList<SubmitOutcome>(batch.size());
    var ready = new LinkedHashMap<String, SubmitRequest>(); // by tag
    var submits = new LinkedHashMap<String, SlurmScripts.Submit>();
    for (var job : batch) {
      try {
        var tag = checkedTag(job);
        var dir = root + "/" + tag;
        var s = BatchScript.build(tag, dir, job.spec(), settings);
        var sbatch = new ArrayList<String>();
        sbatch.add(settings.tool("sbatch"));
        sbatch.addAll(s.options());
        submits.put(tag, new SlurmScripts.Submit(tag, dir, s.script(), sbatch));
        ready.put(tag, job);
      } catch (BackendException e) {
        outcomes.add(new SubmitOutcome.Rejected(job.jobId(), e));
      }
    }
    stageInputs(ready, submits, outcomes);
    if (submits.isEmpty()) {
      return outcomes;
    }
    var timeout = settings.commandTimeout().plus(Duration.ofSeconds(2L * submits.size()));
    var sent = commands.send(Command.of("sh", "-s").withStdin(SlurmScripts.submit(
        List.copyOf(submits.values()), settings.tool("squeue"), settings.submitParallel()))
        .withTimeout(timeout), "submit");
    if (sent instanceof ClusterCommands.Sent.Lost lost) {
      // The script was sent: any of its sbatch calls may have gone through (or still be running)
      // before the answer was lost. The engine looks each job up by its tag before going on.
      log.info("cluster {}: the answer to submitting {} job(s) was lost ({}); they are in doubt",
          cluster, submits.size(), lost.message());
      for (var submit : submits.values()) {
        outcomes.add(SubmitVerdict.IN_DOUBT.outcome(ready.get(submit.tag()).jobId(),
            lost.message()));
      }
      return outcomes;
    }
    var result = ((ClusterCommands.Sent.Answered) sent).result();
    var listing = SlurmListings.parseSubmit(result.stdout());
    for (var submit : submits.values()) {
      var job = ready.get(submit.tag());
      var id = listing.ids().get(submit.tag());
      var error = listing.errors().get(submit.tag());
      if (id != null) {
        outcomes.add(new SubmitOutcome.Accepted(ref(job, submit.dir(), id)));
        log.debug("cluster {}: job {} is Slurm job {}", cluster, submit.tag(), id);
      } else if (error != null) {
        var what = cluster + ": sbatch for job " + submit.tag() + " failed (exit "
            + error.exitCode() + "): " + error.message();
        var verdict = SlurmListings.classifySubmit(error.exitCode(), error.message());
        outcomes.add(verdict.outcome(job.jobId(), verdict != SubmitVerdict.REFUSED ? what
            : error.exitCode() == 126 || error.exitCode() == 127
                ? cluster + ": sbatch could not be run for job " + submit.tag() + " (exit "
                    + error.exitCode() + ": " + error.message().strip() + "); is bin_dir "
                    + "right, and sbatch on the PATH of the cluster's login shell?"
                : cluster + ": sbatch refused job " + submit.tag() + " (exit "
                    + error.exitCode() + "): " + error.message()));
      } else if (listing.garbled().containsKey(submit.tag())) {
        // sbatch exited 0 but printed no job id: the job may exist
        outcomes.add(new SubmitOutcome.InDoubt(job.jobId(), cluster + ": sbatch printed '"
            + listing.garbled().get(submit.tag()) + "' for job " + submit.tag()
            + " instead of a job id"));
      } else {
        // the script stopped before reporting it: its sbatch may have run
        outcomes.add(new SubmitOutcome.InDoubt(job.jobId(), cluster + ": the submit script did "
            + "not report job " + submit.tag() + " (" + result.summary() + ")"));
      }
    }
    return outcomes;
  }

  /** Uploads input files into the job folders; a job whose upload fails is not submitted. */
  private void stageInputs(Map<String, SubmitRequest> ready,
      Map<String, SlurmScripts.Submit> submits, List<SubmitOutcome> outcomes)
      throws BackendException {
    var staged = ready.entrySet().stream()
        .filter(e -> !e.getValue().spec().inputFiles().isEmpty()).map(Map.Entry::getKey).toList();
    if (staged.isEmpty()) {
      return;
    }
    var dirs = staged.stream().map(t -> submits.get(t).dir()).toList();
    var result = run(Command.of("sh", "-s").withStdin(SlurmScripts.prepare(dirs)), "prepare");
    if (!result.succeeded()) {
      throw new BackendException(cluster + ": cannot create job folders under " + workdir()
          + " on " + transport.describe() + ": " + result.summary(), true);
    }
    for (var tag : staged) {
      var job = ready.get(tag);
      var cwd = JobFolder.cwd(submits.get(tag).dir(), job.spec());
      try {
        for (var input : job.spec().inputFiles()) {
          var destination = input.destination();
          if (destination.startsWith("/") || List.of(destination.split("/")).contains("..")) {
            throw BackendException.rejected("job " + tag + ": input file destination '"
                + destination + "' must be a path inside the job's directory");
          }
          transport.upload(Path.of(input.source()), cwd + "/" + destination);
        }
      } catch (BackendException e) {
        submits.remove(tag);
        outcomes.add(new SubmitOutcome.Rejected(job.jobId(), e));
      }
    }
  }

  // ----------------------------------------------------------------------------------- poll ---

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
    var result = new HashMap<String, JobStatus>();
    var asked = new ArrayList<JobRef>();
    for (var job : jobs) {
      if (job.nativeId().matches("\\d+")) {
        asked.add(job);
      } else {
        result.put(job.jobId(), new JobStatus.Unknown("'" + job.nativeId()
            + "' is not a Slurm job id"));
      }
    }
    if (asked.isEmpty()) {
      return result;
    }
    // squeue first; the folders of jobs it shows ended or not at all; sacct for what is left
    var rows = new HashMap<String, QueueRow>();
    var markers = new HashMap<String, Markers>();
    result.putAll(StatusChain.of(open -> {
      rows.putAll(squeue(open.stream().map(JobRef::nativeId).distinct().toList()));
      var settled = new HashMap<String, JobStatus>();
      for (var job : open) {
        var row = rows.get(job.nativeId());
        if (row != null && !SlurmStates.needsMarkers(row.state())) {
          settled.put(job.jobId(), SlurmStates.fromQueue(row, null));
        }
      }
      return settled;
    }, open -> {
      markers.putAll(markers(open));
      var settled = new HashMap<String, JobStatus>();
      for (var job : open) {
        var row = rows.get(job.nativeId());
        var m = markers.get(job.jobId());
        if (row != null) {
          settled.put(job.jobId(), SlurmStates.fromQueue(row, m));
        } else if (m != null && (m.exitCode() != null || m.cancelled())) {
          settled.put(job.jobId(), SlurmStates.fromFolder(m, null, job.attribute(ATTR_DIR)));
        }
      }
      return settled;
    }, open -> {
      var acct = sacct(open.stream().map(JobRef::nativeId).distinct().toList());
      var settled = new HashMap<String, JobStatus>();
      for (var job : open) {
        settled.put(job.jobId(), SlurmStates.fromFolder(markers.get(job.jobId()),
            acct.get(job.nativeId()), job.attribute(ATTR_DIR)));
      }
      return settled;
    }).poll(asked));
    return result;
  }

  /**
   * One squeue for all ids, whatever their number: the ids on the command line, or, beyond
   * {@value #LIST_CHUNK} of them, the user's whole listing ({@code --me}, Slurm 20.11 and later)
   * filtered here.
   */
  private Map<String, QueueRow> squeue(List<String> ids) throws BackendException {
    var selection = ids.size() <= LIST_CHUNK ? "--jobs=" + String.join(",", ids) : "--me";
    var out = run(Command.of(settings.tool("squeue"), "--noheader", "--states=all", selection,
        "--Format=" + SlurmListings.POLL_FORMAT), "squeue");
    if (!out.succeeded()
        && SlurmListings.classifyQueueFailure(out.stderr()) == QueueError.UNAVAILABLE) {
      throw BackendException.unavailable(cluster + ": squeue on " + transport.describe()
          + " failed: " + out.summary(), null);
    }
    if (!out.stderr().isBlank() && out.succeeded()) {
      log.warn("cluster {}: squeue warned: {}", cluster, out.stderr().strip());
    }
    var rows = new HashMap<>(SlurmListings.parseQueue(out.stdout()));
    if (ids.size() > LIST_CHUNK) {
      rows.keySet().retainAll(new java.util.HashSet<>(ids));
    }
    return rows;
  }

  /** Reads the folders of the given jobs in one script; by job id. */
  private Map<String, Markers> markers(List<JobRef> jobs) throws BackendException {
    var result = new HashMap<String, Markers>();
    var withDir = jobs.stream().filter(j -> j.attribute(ATTR_DIR) != null).toList();
    if (withDir.isEmpty()) {
      return result;
    }
    var dirs = withDir.stream().map(j -> j.attribute(ATTR_DIR)).toList();
    var out = run(Command.of("sh", "-s").withStdin(SlurmScripts.markers(dirs)), "read job folders");
    var parsed = SlurmListings.parseMarkers(out.stdout());
    for (int i = 0; i < withDir.size(); i++) {
      var m = parsed.get(i);
      if (m != null) {
        result.put(withDir.get(i).jobId(), m);
      }
    }
    return result;
  }

  /** sacct for jobs nobody else explains, if the cluster has accounting. */
  private Map<String, AcctRow> sacct(List<String> ids) throws BackendException {
    if (ids.isEmpty() || accountingOff) {
      return Map.of();
    }
    var rows = new HashMap<String, AcctRow>();
    for (int from = 0; from < ids.size(); from += LIST_CHUNK) {
      var chunk = ids.subList(from, Math.min(ids.size(), from + LIST_CHUNK));
      var out = run(Command.of(settings.tool("sacct"), "--parsable2", "--noheader",
          "--allocations", "--jobs=" + String.join(",", chunk),
          "--format=" + SlurmListings.SACCT_FORMAT), "sacct");
      if (!out.succeeded()) {
        if (SlurmListings.accountingDisabled(out.stderr())
            && settings.accounting() == SlurmSettings.Accounting.AUTO) {
          log.info("cluster {}: Slurm accounting is disabled; results of jobs that left squeue "
              + "come from their exit-code files only", cluster);
          accountingOff = true;
        } else {
          log.warn("cluster {}: sacct failed: {}", cluster, out.summary());
        }
        return rows;
      }
      rows.putAll(SlurmListings.parseSacct(out.stdout()));
    }
    return rows;
  }

  // ------------------------------------------------------------------ cancel, hold, release ---

  @Override
  public void cancel(List<JobRef> jobs) throws BackendException {
    var ids = ids(jobs);
    if (ids.isEmpty()) {
      return;
    }
    var dirs = JobFolder.dirs(jobs);
    var argv = new ArrayList<String>();
    argv.add(settings.tool("scancel"));
    argv.addAll(ids);
    var out = run(Command.of("sh", "-s").withStdin(SlurmScripts.cancel(dirs, argv)), "scancel");
    // scancel is silent and exits 0 for unknown or finished jobs (22.05): non-zero is trouble
    if (!out.succeeded()) {
      throw BackendException.unavailable(cluster + ": scancel on " + transport.describe()
          + " failed: " + out.summary(), null);
    }
  }

  @Override
  public void hold(List<JobRef> jobs) throws BackendException {
    scontrol("hold", jobs);
  }

  @Override
  public void release(List<JobRef> jobs) throws BackendException {
    scontrol("release", jobs);
  }

  private void scontrol(String action, List<JobRef> jobs) throws BackendException {
    var ids = ids(jobs);
    if (ids.isEmpty()) {
      return;
    }
    var out = run(Command.of(settings.tool("scontrol"), action, String.join(",", ids)),
        "scontrol " + action);
    if (out.succeeded() || SlurmListings.onlyGoneJobs(out.stderr())) {
      return;
    }
    if (SlurmListings.isUnavailable(out.stderr())) {
      throw BackendException.unavailable(cluster + ": scontrol " + action + " on "
          + transport.describe() + " failed: " + out.summary(), null);
    }
    throw BackendException.rejected(cluster + ": scontrol " + action + " refused: "
        + out.summary());
  }

  private static List<String> ids(List<JobRef> jobs) {
    return jobs.stream().map(JobRef::nativeId).filter(id -> id.matches("\\d+")).distinct()
        .toList();
  }

  // --------------------------------------------------------------------------------- lookup ---

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
    var byTag = new LinkedHashMap<String, SubmitRequest>();
    for (var attempt : attempts) {
      try {
        byTag.put(checkedTag(attempt), attempt);
      } catch (BackendException e) {
        // a tag that cannot name a Slurm job was never submitted here
      }
    }
    var found = new HashMap<String, JobRef>();
    if (byTag.isEmpty()) {
      return found;
    }
    var root = workdir();
    var tags = List.copyOf(byTag.keySet());
    for (int from = 0; from < tags.size(); from += LIST_CHUNK) {
      var chunk = tags.subList(from, Math.min(tags.size(), from + LIST_CHUNK));
      var out = run(Command.of(settings.tool("squeue"), "--noheader", "--states=all",
          "--name=" + String.join(",", chunk), "--Format=" + SlurmListings.LOOKUP_FORMAT),
          "squeue");
      if (!out.succeeded()) {
        throw BackendException.unavailable(cluster + ": squeue --name on "
            + transport.describe() + " failed: " + out.summary(), null);
      }
      for (var e : SlurmListings.parseLookup(out.stdout()).entrySet()) {
        var attempt = byTag.get(e.getKey());
        if (attempt != null) {
          found.put(attempt.jobId(), ref(attempt, root + "/" + e.getKey(), e.getValue()));
        }
      }
    }
    // jobs squeue has forgotten: the id recorded in their folder
    var rest = tags.stream().filter(t -> !found.containsKey(byTag.get(t).jobId())).toList();
    if (!rest.isEmpty()) {
      var dirs = rest.stream().map(t -> root + "/" + t).toList();
      var out = run(Command.of("sh", "-s").withStdin(SlurmScripts.recordedIds(dirs)),
          "read job folders");
      for (var e : SlurmListings.parseRecorded(out.stdout()).entrySet()) {
        var attempt = byTag.get(rest.get(e.getKey()));
        found.put(attempt.jobId(), ref(attempt, dirs.get(e.getKey()), e.getValue()));
      }
      var inFlight = SlurmListings.parseInFlight(out.stdout());
      if (!inFlight.isEmpty()) {
        // "not found" would be premature: that sbatch may still create the job
        throw BackendException.unavailable(cluster + ": the sbatch of " + inFlight.size()
            + " job(s) (e.g. " + rest.get(inFlight.keySet().iterator().next()) + ", pid "
            + inFlight.values().iterator().next() + ") is still running on "
            + transport.describe() + "; asking again later", null);
      }
    }
    return found;
  }

  // -------------------------------------------------------------------------------- helpers ---

  private static JobRef ref(SubmitRequest job, String dir, String nativeId) {
    return JobFolder.ref(job, dir, nativeId, BatchScript.mergedOutput(job.spec()));
  }

  static String checkedTag(SubmitRequest request) throws BackendException {
    return JobFolder.checkedTag(request, "a Slurm job");
  }

  /** The absolute workdir on the cluster, created and resolved once. */
  private String workdir() throws BackendException {
    return folders.workdir();
  }

}
