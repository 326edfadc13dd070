package org.jobyard.plugins.arc;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.time.Duration;
import java.time.Instant;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.Condition;
import org.jobyard.api.CredentialExpiry;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.plugins.arc.ArcClient.ArcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ARC CE through A-REX's REST interface: bulk ADL submission with client-uploaded inputs,
 * one job listing per poll, kill, session downloads and clean. The job name carries the
 * attempt's tag, so lookup finds a job whose submission the engine did not record, and finishes
 * its uploads when a crash came between submit and upload.
 */
final class ArcBackend implements Backend {
  private static final Logger log = LoggerFactory.getLogger(ArcBackend.class);
  private static final Pattern ADL_NAME = Pattern.compile("<(?:\\w+:)?Name>([^<]*)</(?:\\w+:)?Name>");
  /** States in which A-REX still waits for client uploads. */
  private static final Set<String> AWAITING_INPUT = Set.of("ACCEPTING", "ACCEPTED", "PREPARING");
  private static final int UPLOADS_IN_FLIGHT = 8;
  static final String TAG = "tag";
  static final String DELEGATION = "delegated proxy";
  static final String URL = "url";

  private final String cluster;
  private final ArcClient client;
  private final Optional<Delegation> delegation;
  private final String queue;
  /** Ends already seen: the CE's answers never move a job out of its end. */
  private final Map<String, JobStatus> ended = new HashMap<>();
  /**
   * Jobs asked to restart, with when: A-REX takes the request up at its next scan, and until it
   * does the listing still says FAILED, which must not end the job again (for at most this long).
   */
  private final Map<String, Instant> resuming = new java.util.concurrent.ConcurrentHashMap<>();
  static final Duration RESUME_GRACE = Duration.ofMinutes(5);
  /**
   * When a restart was asked, kept in the job's attributes too (the first poll after it carries
   * it): an engine started again within the grace still reads the job as restarting, not as the
   * old failure. Emptied once the CE has taken the restart up.
   */
  static final String RESUME_ASKED = "resume_asked";

  private final BackendContext.Events events;
  private final Duration maintenance;

  /**
   * @param maintenance how often {@link #maintain()} renews the delegation (a quarter of its
   *     lifetime, so a renewal is never missed)
   */
  ArcBackend(String cluster, ArcClient client, Optional<Delegation> delegation, String queue,
      BackendContext.Events events, Duration maintenance) {
    this.cluster = cluster;
    this.client = client;
    this.delegation = delegation;
    this.queue = queue;
    this.events = events;
    this.maintenance = maintenance;
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(Capability.BULK_SUBMIT, Capability.STAGING, Capability.STEPS,
        Capability.RESUME, Capability.URL_INPUTS);
  }

  /** The delegated proxy's expiry, for {@code jobyard backends}. */
  Optional<Instant> delegationExpiry() {
    return delegation.flatMap(Delegation::expiry);
  }

  Optional<String> delegationId() {
    return delegation.flatMap(Delegation::id);
  }

  /** The REST client, whose request count tests read. */
  ArcClient client() {
    return client;
  }

  @Override
  public Optional<Duration> maintenanceInterval() {
    return delegation.isPresent() ? Optional.of(maintenance) : Optional.empty();
  }

  /** Renews the delegated proxy before it expires; says when it expires. */
  @Override
  public List<Condition> maintain() throws BackendException {
    if (delegation.isEmpty()) {
      return List.of();
    }
    try {
      delegation.get().ensure();
    } catch (ArcException e) {
      throw error("cannot renew the proxy delegated to the CE", e);
    }
    var expiry = delegation.get().expiry().orElseThrow();
    events.credentialExpires(new CredentialExpiry(DELEGATION, expiry));
    return List.of(Condition.ok(DELEGATION, "delegation " + delegation.get().id().orElse("?")
        + " valid until " + expiry));
  }

  // ---- submit -----------------------------------------------------------------------------------

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    var outcomes = new ArrayList<SubmitOutcome>();
    var sendable = new ArrayList<SubmitRequest>();
    var descriptions = new ArrayList<ArcJobDescription>();
    String delegationId = null;
    if (delegation.isPresent()) {
      try {
        delegationId = delegation.get().ensure();
        delegation.get().expiry().ifPresent(x -> events.credentialExpires(
            new CredentialExpiry(DELEGATION, x)));
      } catch (ArcException e) {
        throw error("cannot delegate a proxy to the CE", e);
      }
    }
    for (var request : jobs) {
      try {
        for (var in : request.spec().inputFiles()) {
          if (!in.fromUrl() && !Files.isReadable(Path.of(in.source()))) {
            throw new IllegalArgumentException("input file '" + in.source() + "' cannot be read "
                + "on the engine's machine");
          }
        }
        descriptions.add(ArcJobDescription.of(request, queue, delegationId));
        sendable.add(request);
      } catch (IllegalArgumentException e) {
        outcomes.add(new SubmitOutcome.Rejected(request.jobId(), BackendException.rejected(
            cluster + ": job " + request.jobId() + " cannot go to an ARC CE: " + e.getMessage())));
      }
    }
    if (sendable.isEmpty()) {
      return outcomes;
    }
    List<JsonNode> entries;
    try {
      entries = client.submit(ArcJobDescription.bulk(descriptions));
    } catch (ArcException e) {
      if (e.maybeSent && e.status < 0) {
        sendable.forEach(r -> outcomes.add(new SubmitOutcome.InDoubt(r.jobId(), e.getMessage())));
        return outcomes;
      }
      throw error("submit refused", e);
    }
    // uploads go several at a time: A-REX spends most of a PUT on its side, not on the wire
    var uploads = new ArrayList<java.util.concurrent.Future<SubmitOutcome>>();
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(UPLOADS_IN_FLIGHT)) {
      for (int i = 0; i < sendable.size(); i++) {
        var request = sendable.get(i);
        if (i >= entries.size()) {
          outcomes.add(new SubmitOutcome.InDoubt(request.jobId(), "the CE answered for "
              + entries.size() + " of " + sendable.size() + " jobs"));
          continue;
        }
        var entry = entries.get(i);
        var code = ArcJson.text(entry, "status-code").orElse("");
        var id = ArcJson.text(entry, "id");
        if (!code.equals("201") || id.isEmpty()) {
          outcomes.add(new SubmitOutcome.Rejected(request.jobId(), BackendException.rejected(
              cluster + ": the CE refused job " + request.jobId() + ": " + code + " "
                  + ArcJson.text(entry, "reason").orElse("(no reason given)"))));
          continue;
        }
        var description = descriptions.get(i);
        uploads.add(pool.submit(() -> {
          try {
            upload(id.get(), description);
            return new SubmitOutcome.Accepted(ref(request, id.get()));
          } catch (ArcException e) {
            // the CE has the job; lookup finds it by its tag and finishes the uploads
            return new SubmitOutcome.InDoubt(request.jobId(), "accepted by the CE as "
                + id.get() + " but its inputs are not all uploaded: " + e.getMessage());
          }
        }));
      }
      for (var u : uploads) {
        outcomes.add(u.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw BackendException.unavailable(cluster + ": interrupted while uploading inputs", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(cluster + ": an upload failed unexpectedly", e.getCause());
    }
    return outcomes;
  }

  private JobRef ref(SubmitRequest request, String id) {
    return new JobRef(request.jobId(), id, Map.of(TAG, request.tag(),
        URL, client.base() + "/jobs/" + id));
  }

  private void upload(String id, ArcJobDescription description) throws ArcException {
    for (var u : description.inputs()) {
      if (u.source() == null) {
        client.put(id, u.sessionName(), description.script().getBytes(StandardCharsets.UTF_8));
      } else {
        client.put(id, u.sessionName(), Path.of(u.source()));
      }
    }
  }

  // ---- poll, cancel -----------------------------------------------------------------------------

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
    var result = new HashMap<String, JobStatus>();
    var open = new ArrayList<JobRef>();
    for (var job : jobs) {
      var end = ended.get(job.nativeId());
      if (end != null) {
        result.put(job.jobId(), end);
      } else {
        open.add(job);
      }
    }
    if (open.isEmpty()) {
      return result;
    }
    Map<String, String> states;
    try {
      states = client.states();
    } catch (ArcException e) {
      throw error("cannot list the jobs", e);
    }
    confirmMissing(open, states);
    for (var job : open) {
      var state = states.get(job.nativeId());
      var asked = resuming.getOrDefault(job.nativeId(), resumeAsked(job));
      var forget = Map.<String, String>of();
      if (asked != null) {
        if (state != null && ArcStates.ended(state)
            && Instant.now().isBefore(asked.plus(RESUME_GRACE))) {
          result.put(job.jobId(), new JobStatus.Pending(state, "restart requested; the CE has "
              + "not taken it up yet", Map.of(RESUME_ASKED, asked.toString())));
          continue;
        }
        resuming.remove(job.nativeId()); // taken up (or never, after the grace: its end stands)
        if (job.attributes().containsKey(RESUME_ASKED)) {
          forget = Map.of(RESUME_ASKED, "");
        }
      }
      if (state != null && ArcStates.ended(state)) {
        try {
          var end = ArcStates.end(state, client.diagnose(job.nativeId(), "diag").orElse(null),
              client.diagnose(job.nativeId(), "failed").orElse(null));
          ended.put(job.nativeId(), end);
          result.put(job.jobId(), forget.isEmpty() ? end : end.withAttributeUpdates(forget));
        } catch (ArcException e) {
          result.put(job.jobId(), new JobStatus.Unknown("ended (" + state + ") but its exit "
              + "code could not be read: " + e.getMessage()));
        }
      } else {
        var live = ArcStates.live(state);
        result.put(job.jobId(), forget.isEmpty() ? live : live.withAttributeUpdates(forget));
      }
    }
    renewQuietly();
    return result;
  }

  /**
   * The listing reads A-REX's control folders while A-REX moves a job's status file between
   * them, so a job can be missing from one listing (seen once among 200 fresh jobs under load).
   * Those few are asked by id before anyone calls them gone.
   */
  private void confirmMissing(List<JobRef> open, Map<String, String> states) {
    var missing = open.stream().map(JobRef::nativeId).filter(id -> !states.containsKey(id))
        .toList();
    if (missing.isEmpty()) {
      return;
    }
    try {
      for (var entry : client.jobs("status", missing)) {
        var id = ArcJson.text(entry, "id").orElse(null);
        var state = ArcJson.text(entry, "state").orElse(null);
        if (id != null && state != null
            && ArcJson.text(entry, "status-code").orElse("").equals("200")) {
          states.put(id, state);
        }
      }
    } catch (ArcException e) {
      log.warn("{}: cannot ask A-REX about {} job(s) its listing missed: {}", cluster,
          missing.size(), e.getMessage());
    }
  }

  /** Between the engine's periodic hooks (and before it has them), polls keep the proxy fresh. */
  private void renewQuietly() {
    if (delegation.isPresent() && delegation.get().id().isPresent()) {
      try {
        delegation.get().ensure();
      } catch (ArcException e) {
        log.warn("{}: cannot renew the delegated proxy: {}", cluster, e.getMessage());
      }
    }
  }

  @Override
  public void cancel(List<JobRef> jobs) throws BackendException {
    if (jobs.isEmpty()) {
      return;
    }
    try {
      // per-job 404 (unknown) and 505 (already ended) are fine: the next poll shows the end
      client.jobs("kill", jobs.stream().map(JobRef::nativeId).toList());
    } catch (ArcException e) {
      throw error("cannot kill jobs", e);
    }
  }

  /**
   * A-REX's {@code restart}: each failed job runs again from the step it failed at, on the same
   * CE job. Only a FAILED job that failed staging its files can (see below); any other is
   * refused, naming its state, before anything is asked, and the engine runs it as a new attempt.
   */
  @Override
  public void resume(List<JobRef> jobs) throws BackendException {
    if (jobs.isEmpty()) {
      return;
    }
    var ids = jobs.stream().map(JobRef::nativeId).toList();
    try {
      // the listing, not action=status: status reads what the information system last wrote
      // and lags (a failed job still read SUBMITTING or ACCEPTED there)
      var states = client.states();
      var refused = new ArrayList<String>();
      for (var id : ids) {
        var state = states.getOrDefault(id, "not known to the CE");
        if (!state.equals("FAILED")) {
          refused.add(id + " is " + state);
        }
      }
      if (!refused.isEmpty()) {
        throw new BackendException(cluster + ": the CE restarts only FAILED jobs, and "
            + String.join(", ", refused) + "; nothing was restarted", false);
      }
      for (var id : ids) {
        var failedIn = failedState(client.diagnose(id, "local").orElse(""));
        if (!failedIn.equals("PREPARING") && !failedIn.equals("FINISHING")) {
          // seen on A-REX 6.17: a job restarted after failing in the batch system keeps its
          // first LRMS id (the .grami file), so A-REX skips the submission and the job "dies
          // unexpectedly" without running; only staging failures really run again
          throw new BackendException(cluster + ": job " + id + " failed in "
              + (failedIn.isEmpty() ? "an unknown state" : failedIn) + " on the CE, and A-REX "
              + "re-runs only jobs that failed staging their files (PREPARING, FINISHING); "
              + "nothing was restarted", false);
        }
      }
      var problems = new ArrayList<String>();
      for (var entry : client.jobs("restart", ids)) {
        var id = ArcJson.text(entry, "id").orElse("?");
        var code = ArcJson.text(entry, "status-code").orElse("");
        if (code.equals("202")) {
          ended.remove(id);
          resuming.put(id, Instant.now());
        } else {
          problems.add(id + ": " + code + " " + ArcJson.text(entry, "reason").orElse(""));
        }
      }
      if (!problems.isEmpty()) {
        throw new BackendException(cluster + ": the CE did not restart " + problems, false);
      }
    } catch (ArcException e) {
      throw error("cannot restart jobs", e);
    }
  }

  /** When a restart of the job was asked, from its attributes; null if none is pending. */
  private static Instant resumeAsked(JobRef job) {
    var value = job.attributes().getOrDefault(RESUME_ASKED, "");
    try {
      return value.isEmpty() ? null : Instant.parse(value);
    } catch (java.time.format.DateTimeParseException e) {
      return null; // not ours to read: the CE's own state decides
    }
  }

  /** The state A-REX recorded a job failing in ({@code failedstate=} of its .local file). */
  static String failedState(String local) {
    var m = java.util.regex.Pattern.compile("(?m)^failedstate=(\\S*)\\s*$").matcher(local);
    return m.find() ? m.group(1) : "";
  }

  // ---- lookup -----------------------------------------------------------------------------------

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
    var wanted = new HashMap<String, SubmitRequest>();
    attempts.forEach(a -> wanted.put(ArcJobDescription.nameOf(a.tag()), a));
    var found = new HashMap<String, JobRef>();
    try {
      var states = client.states();
      var ids = new ArrayList<>(states.keySet());
      for (int from = 0; from < ids.size() && found.size() < wanted.size(); from += 500) {
        var chunk = ids.subList(from, Math.min(ids.size(), from + 500));
        for (var entry : client.jobs("info", chunk)) {
          var id = ArcJson.text(entry, "id").orElse(null);
          if (id == null || !ArcJson.text(entry, "status-code").orElse("").equals("200")) {
            continue;
          }
          var info = entry.path("info_document").path("ComputingActivity");
          var name = ArcJson.text(info, "Name").orElse(null);
          if (name == null) {
            // info not written yet (a job just accepted): the description has the name
            name = client.diagnose(id, "description").map(d -> {
              var m = ADL_NAME.matcher(d);
              return m.find() ? m.group(1) : null;
            }).orElse(null);
          }
          var request = name == null ? null : wanted.get(name);
          if (request != null && !found.containsKey(request.jobId())) {
            found.put(request.jobId(), ref(request, id));
            if (AWAITING_INPUT.contains(states.get(id))) {
              finishUploads(request, id);
            }
          }
        }
      }
    } catch (ArcException e) {
      throw error("cannot look jobs up", e);
    }
    return found;
  }

  /** A crash between submit and upload leaves the job waiting for its inputs: send them. */
  private void finishUploads(SubmitRequest request, String id) throws ArcException {
    var status = client.diagnose(id, "status").orElse("").strip();
    if (status.endsWith("ACCEPTED") || status.endsWith("PREPARING")) {
      log.info("{}: job {} ({}) still waits for its inputs: uploading them", cluster,
          request.jobId(), id);
      upload(id, ArcJobDescription.of(request, queue, delegation.flatMap(Delegation::id)
          .orElse(null)));
    }
  }

  // ---- collect, clean ---------------------------------------------------------------------------

  @Override
  public void collect(JobRef job, JobSpec spec) throws BackendException {
    var tag = job.attribute(TAG);
    if (tag == null) {
      throw new BackendException(cluster + ": job " + job.jobId() + " has no '" + TAG
          + "' attribute; it was not submitted by the ARC backend", false);
    }
    var attempt = tag.substring(tag.lastIndexOf('.') + 1);
    var request = new SubmitRequest(job.jobId(), Integer.parseInt(attempt), spec);
    var description = ArcJobDescription.of(request, queue, null);
    var problems = new ArrayList<String>();
    for (var d : description.outputs()) {
      if (d.destination() == null || d.destination().isBlank()) {
        continue;
      }
      try {
        if (!client.get(job.nativeId(), d.sessionName(), Path.of(d.destination()))
            && !d.optional()) {
          problems.add(d.destination() + ": the job did not leave it on the CE");
        }
      } catch (ArcException e) {
        if (e.unavailable()) {
          throw error("cannot download outputs of job " + job.jobId(), e);
        }
        problems.add(d.destination() + ": " + e.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw new BackendException(cluster + ": job " + job.jobId() + ": some outputs could not "
          + "be fetched: " + String.join("; ", problems), false);
    }
  }

  @Override
  public void clean(JobRef job) throws BackendException {
    ended.remove(job.nativeId());
    try {
      client.jobs("clean", List.of(job.nativeId()));
    } catch (ArcException e) {
      throw error("cannot clean job " + job.jobId(), e);
    }
  }

  private BackendException error(String what, ArcException e) {
    if (e.unavailable()) {
      return BackendException.unavailable(cluster + ": " + what + ": " + e.getMessage()
          + " (the cluster counts as unavailable; Jobyard retries)", e);
    }
    return new BackendException(cluster + ": " + what + ": " + e.getMessage(), false, e);
  }
}
