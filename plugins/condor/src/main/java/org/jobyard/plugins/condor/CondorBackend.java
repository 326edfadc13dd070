package org.jobyard.plugins.condor;

import static java.util.Objects.requireNonNull;
import static org.jobyard.api.ShellQuoting.quote;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.api.TransportException;
import org.jobyard.plugins.condor.CondorListings.Ad;
import org.jobyard.plugins.condor.SubmitDescription.Job;
import org.jobyard.toolkit.ClusterCommands;
import org.jobyard.toolkit.FolderBackend;
import org.jobyard.toolkit.JobFolder;
import org.jobyard.toolkit.StatusChain;
import org.jobyard.toolkit.SubmitVerdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTCondor access point, driven through its transport. Each attempt gets a folder under the
 * workdir named after its tag (wrapper, inputs, streamed stdout/stderr, user log, outputs brought
 * back by HTCondor); a batch of jobs is one {@code condor_submit} per shape of job (usually one),
 * each job carrying its tag as {@code +JobyardId}.
 *
 * <p>Per poll: one {@code condor_q} for every Jobyard job of the user (a constraint on {@code
 * JobyardId}), then, for the asked jobs that left the queue, one {@code condor_history} of their
 * ids. Jobs that neither knows are {@link JobStatus.Unknown}. Jobs held for a failure are
 * reported failed and removed in the same poll, with a reason that says so.
 */
final class CondorBackend extends FolderBackend {
  private static final Logger log = LoggerFactory.getLogger(CondorBackend.class);

  private static final Set<Capability> CAPABILITIES = EnumSet.of(Capability.BULK_SUBMIT,
      Capability.HOLD_RELEASE, Capability.STAGING, Capability.LOG_ACCESS, Capability.STEPS,
      Capability.WALLTIME, Capability.DISK, Capability.STDIN, Capability.INHERIT_ENVIRONMENT);

  static final String ATTR_DIR = JobFolder.ATTR_DIR;

  private static final Pattern NATIVE_ID = Pattern.compile("\\d+\\.\\d+");

  /** The most ids on one command line (well below ARG_MAX). */
  private static final int LIST_CHUNK = 2000;

  /** The most folders one mkdir or chmod names. */
  private static final int FOLDER_CHUNK = 500;

  /** What the submit script prints when it could not make the job folders. */
  private static final String PREPARE_FAILED = "@@jobyard prepare failed";

  private final CondorSettings settings;

  CondorBackend(BackendContext context, CondorSettings settings) {
    super(context, settings.commandTimeout(), settings.workdir(), SubmitDescription.STDOUT,
        SubmitDescription.STDERR);
    this.settings = requireNonNull(settings, "settings is null");
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  // --------------------------------------------------------------------------------- submit ---

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    var outcomes = new ArrayList<SubmitOutcome>(jobs.size());
    var root = folders.workdir();
    for (int from = 0; from < jobs.size(); from += settings.submitBatch()) {
      var batch = jobs.subList(from, Math.min(jobs.size(), from + settings.submitBatch()));
      try {
        outcomes.addAll(submitBatch(root, batch));
      } catch (BackendException e) {
        if (from == 0 && e.isRetryable()) {
          throw e; // nothing went to the schedd: the engine may retry the whole call
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
    for (var job : batch) {
      try {
        var tag = checkedTag(job);
        SubmitDescription.check(tag, job.spec());
        ready.put(tag, job);
      } catch (BackendException e) {
        outcomes.add(new SubmitOutcome.Rejected(job.jobId(), e));
      }
    }
    if (ready.isEmpty()) {
      return outcomes;
    }
    var prepare = prepareFolders(root, ready);
    var staged = ready.values().stream().anyMatch(j -> !j.spec().inputFiles().isEmpty());
    if (staged) {
      // inputs are uploaded between making the folders and submitting
      var out = run(Command.of("sh", "-s").withStdin(prepare), "prepare job folders");
      if (!out.succeeded()) {
        throw new BackendException(cluster + ": cannot create job folders under " + root
            + " on " + transport.describe() + ": " + out.summary(), true);
      }
      stageInputs(root, ready, outcomes);
    }
    var jobs = ready.entrySet().stream().map(e -> new Job(e.getKey(), e.getValue().spec()))
        .toList();
    // without inputs, folders and submission are one command: one round trip per batch
    submitJobs(root, jobs, ready, outcomes, staged ? "" : prepare);
    return outcomes;
  }

  /**
   * The shell text that makes the job folders and writes their wrappers: a few processes for the
   * whole batch (printf is a shell builtin), not a few per job; a busy login node notices.
   */
  private String prepareFolders(String root, Map<String, SubmitRequest> ready) {
    var folders = ready.keySet().stream().map(tag -> root + "/" + tag).toList();
    var sb = new StringBuilder("set -u\numask 022\n");
    for (int from = 0; from < folders.size(); from += FOLDER_CHUNK) {
      var chunk = folders.subList(from, Math.min(folders.size(), from + FOLDER_CHUNK));
      if (settings.sharedFolders()) {
        // the mode in the same mkdir, not a chmod after it: each process a submit starts costs
        // a loaded access point a good part of what condor_submit costs (folder and in/ alike)
        sb.append("mkdir -p -m 1777 --");
        chunk.forEach(f -> sb.append(' ').append(quote(f)).append(' ').append(quote(f + "/in")));
      } else {
        sb.append("mkdir -p --");
        chunk.forEach(f -> sb.append(' ').append(quote(f + "/in")));
      }
      sb.append(" || exit 1\n");
    }
    for (var e : ready.entrySet()) {
      var folder = root + "/" + e.getKey();
      sb.append("printf '%s' ").append(quote(SubmitDescription.wrapper(e.getKey(), folder,
          e.getValue().spec()))).append(" > ").append(quote(folder + "/job.sh"))
          .append(" || exit 1\n");
    }
    for (int from = 0; from < folders.size(); from += FOLDER_CHUNK) {
      sb.append("chmod 755 --");
      folders.subList(from, Math.min(folders.size(), from + FOLDER_CHUNK))
          .forEach(f -> sb.append(' ').append(quote(f + "/job.sh")));
      sb.append(" || exit 1\n");
    }
    return sb.toString();
  }

  /** Uploads input files into the folders' {@code in/}; a job whose upload fails is refused. */
  private void stageInputs(String root, Map<String, SubmitRequest> ready,
      List<SubmitOutcome> outcomes) throws BackendException {
    for (var it = ready.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      try {
        for (var input : e.getValue().spec().inputFiles()) {
          transport.upload(Path.of(input.source()),
              root + "/" + e.getKey() + "/in/" + input.destination());
        }
      } catch (TransportException ex) {
        if (ex.isRetryable()) {
          throw BackendException.unavailable(cluster + ": cannot upload the inputs of job "
              + e.getKey() + " to " + transport.describe() + ": " + ex.getMessage(), ex);
        }
        outcomes.add(new SubmitOutcome.Rejected(e.getValue().jobId(),
            BackendException.rejected(cluster + ": job " + e.getKey() + ": cannot stage an "
                + "input file: " + ex.getMessage())));
        it.remove();
      }
    }
  }

  /**
   * Submits the jobs, one condor_submit per shape, all in one command. condor_submit queues a
   * description whole or not at all, so a refused description is split in halves and tried again
   * until the jobs it refuses are alone: only they are rejected.
   */
  private void submitJobs(String root, List<Job> jobs, Map<String, SubmitRequest> ready,
      List<SubmitOutcome> outcomes, String prepare) throws BackendException {
    if (jobs.isEmpty()) {
      return;
    }
    var groups = SubmitDescription.groups(root, jobs);
    var script = new StringBuilder();
    if (!prepare.isEmpty()) {
      // a folder that cannot be made stops the script before any condor_submit
      script.append("(\n").append(prepare).append(") || { echo '").append(PREPARE_FAILED)
          .append("'; exit 1; }\n");
    }
    script.append("cd ").append(quote(root)).append(" || exit 1\n");
    var delimiter = "JOBYARD_" + UUID.randomUUID().toString().replace("-", "");
    for (int i = 0; i < groups.size(); i++) {
      script.append("o=$(").append(quote(settings.tool("condor_submit")))
          .append(" -terse - 2>&1 <<'").append(delimiter).append("'\n")
          .append(groups.get(i).description()).append(delimiter).append("\n)\n")
          .append("printf '@@jobyard group %s %s\\n' ").append(i).append(" $?\n")
          // each line marked as condor_submit's by shell builtins: no sed process per call
          .append("while IFS= read -r l; do printf '|%s\\n' \"$l\"; done <<").append(delimiter)
          .append("\n$o\n").append(delimiter).append("\n");
    }
    var timeout = settings.commandTimeout().plus(Duration.ofMillis(50L * jobs.size()));
    var sent = commands.send(Command.of("sh", "-s").withStdin(script.toString())
        .withTimeout(timeout), "condor_submit");
    if (sent instanceof ClusterCommands.Sent.Lost lost) {
      // sent: any condor_submit of it may have queued its jobs before the answer was lost
      log.info("cluster {}: the answer to submitting {} job(s) was lost ({}); they are in doubt",
          cluster, jobs.size(), lost.message());
      for (var job : jobs) {
        outcomes.add(SubmitVerdict.IN_DOUBT.outcome(ready.get(job.tag()).jobId(),
            lost.message()));
      }
      return;
    }
    var result = ((ClusterCommands.Sent.Answered) sent).result();
    if (result.stdout().lines().anyMatch(PREPARE_FAILED::equals)) {
      throw new BackendException(cluster + ": cannot create job folders under " + root + " on "
          + transport.describe() + ": " + result.summary(), true);
    }
    var runs = CondorListings.parseSubmitScript(result.stdout());
    var byTag = jobs.stream().collect(Collectors.toMap(Job::tag, j -> j));
    for (int i = 0; i < groups.size(); i++) {
      var group = groups.get(i);
      var run = runs.get(i);
      if (run == null) {
        inDoubt(group.tags(), ready, outcomes, "the submit script stopped before reporting "
            + "this job's condor_submit (" + result.summary() + ")");
      } else if (run.exitCode() == 0 && run.ids().size() == group.tags().size()) {
        for (int k = 0; k < group.tags().size(); k++) {
          var tag = group.tags().get(k);
          outcomes.add(new SubmitOutcome.Accepted(ref(ready.get(tag), root, run.ids().get(k))));
        }
      } else if (run.exitCode() == 0) {
        inDoubt(group.tags(), ready, outcomes, "condor_submit printed " + run.ids().size()
            + " job id(s) for " + group.tags().size() + " job(s): " + run.output().strip());
      } else {
        refused(root, group.tags(), byTag, ready, outcomes, run);
      }
    }
  }

  private void refused(String root, List<String> tags, Map<String, Job> byTag,
      Map<String, SubmitRequest> ready, List<SubmitOutcome> outcomes,
      CondorListings.SubmitRun run) throws BackendException {
    var output = run.output();
    switch (CondorListings.classifySubmit(run.exitCode(), output)) {
      case UNAVAILABLE -> {
        var e = BackendException.unavailable(cluster + ": the schedd did not take the jobs: "
            + CondorListings.firstError(output), null);
        tags.forEach(t -> outcomes.add(new SubmitOutcome.Rejected(ready.get(t).jobId(), e)));
      }
      case NOT_RUN -> {
        var e = BackendException.rejected(cluster + ": condor_submit could not be run (exit "
            + run.exitCode() + ": " + output.strip() + "); is bin_dir right, and condor_submit "
            + "on the PATH of the access point's login shell?");
        tags.forEach(t -> outcomes.add(new SubmitOutcome.Rejected(ready.get(t).jobId(), e)));
      }
      case REFUSED -> {
        if (tags.size() == 1) {
          var tag = tags.getFirst();
          outcomes.add(new SubmitOutcome.Rejected(ready.get(tag).jobId(),
              BackendException.rejected(cluster + ": condor_submit refused job " + tag + " (exit "
                  + run.exitCode() + "): " + CondorListings.firstError(output))));
          return;
        }
        log.info("cluster {}: condor_submit refused {} job(s) together ({}); finding the bad "
            + "one(s)", cluster, tags.size(), CondorListings.firstError(output));
        int half = tags.size() / 2;
        for (var part : List.of(tags.subList(0, half), tags.subList(half, tags.size()))) {
          submitJobs(root, part.stream().map(byTag::get).toList(), ready, outcomes, "");
        }
      }
    }
  }

  private static void inDoubt(List<String> tags, Map<String, SubmitRequest> ready,
      List<SubmitOutcome> outcomes, String reason) {
    for (var tag : tags) {
      outcomes.add(new SubmitOutcome.InDoubt(ready.get(tag).jobId(), reason));
    }
  }

  // ----------------------------------------------------------------------------------- poll ---

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
    var result = new HashMap<String, JobStatus>();
    var asked = new ArrayList<JobRef>();
    for (var job : jobs) {
      if (NATIVE_ID.matcher(job.nativeId()).matches()) {
        asked.add(job);
      } else {
        result.put(job.jobId(), new JobStatus.Unknown("'" + job.nativeId()
            + "' is not an HTCondor job id (cluster.proc)"));
      }
    }
    if (asked.isEmpty()) {
      return result;
    }
    // condor_q first (every Jobyard job of the user: one call whatever their number), then
    // condor_history for the jobs that left the queue
    var failedHolds = new ArrayList<Ad>();
    result.putAll(StatusChain.of(open -> statuses(open, byId(ads("condor_q",
        List.of("-constraint", SubmitDescription.ID_ATTRIBUTE + " =!= undefined"))),
        failedHolds), open -> statuses(open, history(open), failedHolds)).poll(asked));
    removeFailed(failedHolds);
    return result;
  }

  /** The ads of the jobs that left the queue: by id, or beyond a command line, by attribute. */
  private Map<String, Ad> history(List<JobRef> open) throws BackendException {
    var gone = open.stream().map(JobRef::nativeId).distinct().toList();
    if (gone.size() <= LIST_CHUNK) {
      return byId(adsOf("condor_history", gone, List.of()));
    }
    return byId(adsOf("condor_history", List.of(), List.of("-constraint",
        SubmitDescription.ID_ATTRIBUTE + " =!= undefined", "-limit",
        Integer.toString(gone.size() * 2))));
  }

  /**
   * The statuses of the jobs whose ad is in {@code ads}; a job whose id now carries another
   * {@code JobyardId} (a schedd whose spool was wiped numbers from 1 again) is not ours: Unknown.
   * Jobs held for a failure are added to {@code failedHolds}.
   */
  private static Map<String, JobStatus> statuses(List<JobRef> open, Map<String, Ad> ads,
      List<Ad> failedHolds) {
    var settled = new HashMap<String, JobStatus>();
    for (var job : open) {
      var ad = ads.get(job.nativeId());
      if (ad == null) {
        continue;
      }
      var tag = job.attribute(JobFolder.ATTR_TAG);
      if (tag != null && ad.tag() != null && !tag.equals(ad.tag())) {
        settled.put(job.jobId(), new JobStatus.Unknown("HTCondor job " + job.nativeId()
            + " carries JobyardId '" + ad.tag() + "', not '" + tag + "'"));
        continue;
      }
      if (CondorStates.failingHold(ad)) {
        failedHolds.add(ad);
      }
      settled.put(job.jobId(), CondorStates.of(ad));
    }
    return settled;
  }

  /** A job held for a failure stays in the queue until removed: remove it, saying why. */
  private void removeFailed(List<Ad> ads) {
    for (var ad : ads) {
      try {
        var reason = CondorStates.FAILED_REMOVAL + CondorStates.holdText(ad.holdReason(),
            ad.holdReasonCode(), ad.holdReasonSubCode());
        var out = run(Command.of(settings.tool("condor_rm"), "-reason", reason, ad.id()),
            "condor_rm");
        if (!out.succeeded()) {
          log.warn("cluster {}: could not remove failed job {}: {}", cluster, ad.id(),
              out.summary());
        }
      } catch (BackendException e) {
        log.warn("cluster {}: could not remove failed job {}: {}", cluster, ad.id(),
            e.getMessage());
      }
    }
  }

  private List<Ad> ads(String tool, List<String> selection) throws BackendException {
    return adsOf(tool, List.of(), selection);
  }

  /** One condor_q/condor_history with JSON output of the attributes the backend reads. */
  private List<Ad> adsOf(String tool, List<String> ids, List<String> options)
      throws BackendException {
    var argv = new ArrayList<String>();
    argv.add(settings.tool(tool));
    argv.addAll(ids);
    argv.addAll(options);
    argv.add("-json");
    argv.add("-attributes");
    argv.add(String.join(",", CondorListings.ATTRIBUTES));
    var out = run(Command.of(argv), tool);
    if (!out.succeeded()) {
      throw BackendException.unavailable(cluster + ": " + tool + " on " + transport.describe()
          + " failed: " + out.summary(), null);
    }
    try {
      return CondorListings.parseAds(out.stdout());
    } catch (IllegalArgumentException e) {
      throw BackendException.unavailable(cluster + ": " + tool + " on " + transport.describe()
          + " printed what Jobyard cannot read: " + e.getMessage(), e);
    }
  }

  private static Map<String, Ad> byId(List<Ad> ads) {
    var map = new HashMap<String, Ad>();
    ads.forEach(a -> map.put(a.id(), a));
    return map;
  }

  // ------------------------------------------------------------------ cancel, hold, release ---

  @Override
  public void cancel(List<JobRef> jobs) throws BackendException {
    action("condor_rm", jobs);
  }

  @Override
  public void hold(List<JobRef> jobs) throws BackendException {
    action("condor_hold", jobs);
  }

  @Override
  public void release(List<JobRef> jobs) throws BackendException {
    action("condor_release", jobs);
  }

  /** condor_rm/hold/release of the ids; jobs already gone or already there are no error. */
  private void action(String tool, List<JobRef> jobs) throws BackendException {
    var ids = jobs.stream().map(JobRef::nativeId).filter(id -> NATIVE_ID.matcher(id).matches())
        .distinct().toList();
    for (int from = 0; from < ids.size(); from += LIST_CHUNK) {
      var argv = new ArrayList<String>();
      argv.add(settings.tool(tool));
      argv.addAll(ids.subList(from, Math.min(ids.size(), from + LIST_CHUNK)));
      var out = run(Command.of(argv), tool);
      if (out.succeeded()) {
        continue;
      }
      var text = out.stderr() + "\n" + out.stdout();
      if (CondorListings.unavailable(text)) {
        throw BackendException.unavailable(cluster + ": " + tool + " on " + transport.describe()
            + " failed: " + out.summary(), null);
      }
      if (!CondorListings.onlyGoneJobs(out.stderr())) {
        throw BackendException.rejected(cluster + ": " + tool + " refused: " + out.summary());
      }
    }
  }

  // --------------------------------------------------------------------------------- lookup ---

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
    var byTag = new LinkedHashMap<String, SubmitRequest>();
    for (var attempt : attempts) {
      try {
        byTag.put(checkedTag(attempt), attempt);
      } catch (BackendException e) {
        // a tag that cannot name an HTCondor job was never submitted here
      }
    }
    var found = new HashMap<String, JobRef>();
    if (byTag.isEmpty()) {
      return found;
    }
    var root = folders.workdir();
    var tags = List.copyOf(byTag.keySet());
    for (int from = 0; from < tags.size(); from += LIST_CHUNK) {
      var chunk = tags.subList(from, Math.min(tags.size(), from + LIST_CHUNK));
      var constraint = "member(" + SubmitDescription.ID_ATTRIBUTE + ", {"
          + chunk.stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(",")) + "})";
      var ads = new ArrayList<>(ads("condor_q", List.of("-constraint", constraint)));
      var inQueue = ads.stream().map(Ad::tag).collect(Collectors.toSet());
      var missing = chunk.stream().filter(t -> !inQueue.contains(t)).toList();
      if (!missing.isEmpty()) {
        var rest = "member(" + SubmitDescription.ID_ATTRIBUTE + ", {"
            + missing.stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(",")) + "})";
        ads.addAll(ads("condor_history", List.of("-constraint", rest, "-limit",
            Integer.toString(missing.size()))));
      }
      for (var ad : ads) {
        var attempt = ad.tag() == null ? null : byTag.get(ad.tag());
        if (attempt != null && !found.containsKey(attempt.jobId())) {
          found.put(attempt.jobId(), ref(attempt, root, ad.id()));
        }
      }
    }
    return found;
  }

  // -------------------------------------------------------------------------------- helpers ---

  private static JobRef ref(SubmitRequest job, String root, String nativeId) {
    return JobFolder.ref(job, root + "/" + job.tag(), nativeId,
        SubmitDescription.merged(job.spec()));
  }

  static String checkedTag(SubmitRequest request) throws BackendException {
    return JobFolder.checkedTag(request, "an HTCondor job");
  }
}
