package org.jobyard.engine.manager;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.dependency.JobGraph;
import org.jobyard.engine.spec.Placements;
import org.jobyard.engine.store.Change;
import org.jobyard.engine.store.JobRow;
import org.jobyard.engine.store.JobStore;
import org.jobyard.engine.store.StoredJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What users ask of the job manager (issue 15): submit, cancel, restart, flush, pause, resume.
 * Each request is checked whole first (a refusal leaves nothing behind), then applied in the
 * manager's turn, and answered once its changes are committed. Runs on the manager's thread.
 */
final class UserCommands {
  // the manager's logger name, as before the split: log settings and filters keep working
  private static final Logger LOG = LoggerFactory.getLogger(JobManager.class);
  private final Actor actor;
  /** The cluster table of the moment: a reload replaces it whole. */
  private final Supplier<Map<String, Cluster>> clusterTable;
  private final List<String> defaultClusters;
  private final JobStore store;
  private final ResumeOnCluster resume;

  UserCommands(Actor actor, Supplier<Map<String, Cluster>> clusters, List<String> defaultClusters,
      JobStore store) {
    this.actor = java.util.Objects.requireNonNull(actor, "actor is null");
    this.clusterTable = java.util.Objects.requireNonNull(clusters, "clusters is null");
    this.defaultClusters = List.copyOf(defaultClusters);
    this.store = java.util.Objects.requireNonNull(store, "store is null");
    this.resume = new ResumeOnCluster(actor, clusters, store);
  }

  private Map<String, Cluster> clusters() {
    return clusterTable.get();
  }

  void onSubmit(Message.Submit m) {
    // Check everything first, so a bad request leaves nothing behind.
    for (int i = 0; i < m.specs().size(); i++) {
      var spec = m.specs().get(i);
      for (var name : spec.clusters()) {
        if (!clusters().containsKey(name)) {
          throw new RejectedException("job " + (i + 1) + " ('" + spec.name() + "'): field "
              + "'clusters': no cluster named '" + name + "'; configured: " + clusters().keySet());
        }
      }
      refuseUnsupportedPlacement(i, spec);
    }
    var now = Instant.now();
    var ids = new ArrayList<String>(m.specs().size());
    var newIds = m.specs().stream().map(x -> JobManager.newId()).toList();
    var after = resolveDependencies(m.specs(), newIds); // i20: names to ids; unknown refused
    var waiting = new ArrayList<Job>();
    for (var original : m.specs()) {
      var spec = original.withUser(m.owner()).withAfter(after.get(ids.size()));
      var job = new Job(newIds.get(ids.size()), actor.nextSeq(), m.owner(), spec.name(),
          spec.session(), spec, StoredJson.spec(spec), defaultClusters, now);
      job.desired = JobRow.Desired.RUN;
      job.state = JobState.QUEUED;
      job.retriesLeft = spec.retries();
      actor.admit(job);
      actor.change(new Change.InsertJob(job.row(now)));
      if (spec.after().isEmpty()) {
        clusters().get(job.currentCluster()).queue.add(job);
      } else {
        waiting.add(job); // gated once every job of the submission is known
      }
      actor.announce(job);
      ids.add(job.id);
    }
    waiting.forEach(actor::queue);
    LOG.info("accepted {} job(s) from {}", ids.size(), m.owner());
    actor.afterCommit(() -> m.reply().complete(List.copyOf(ids)));
  }

  /** A field the backend of one of the job's clusters cannot honour refuses the whole request. */
  private void refuseUnsupportedPlacement(int i, JobSpec spec) {
    var names = spec.clusters().isEmpty() ? defaultClusters : spec.clusters();
    for (var name : names) {
      var c = clusters().get(name);
      var fields = c == null ? List.<String>of() : Placements.unsupported(spec, c.capabilities);
      if (!fields.isEmpty()) {
        throw new RejectedException("job " + (i + 1) + " ('" + spec.name() + "'): field"
            + (fields.size() > 1 ? "s " : " ") + String.join(", ", fields) + " not supported "
            + "by cluster '" + name + "' (backend " + c.backendName + "); remove "
            + (fields.size() > 1 ? "them" : "it") + " or choose clusters whose backend maps "
            + (fields.size() > 1 ? "them" : "it") + " (see the job-format table in the README)");
      }
    }
  }

  void onCancel(Message.Cancel m) {
    var cancelled = new ArrayList<String>();
    var toSend = new HashMap<Cluster, List<JobRef>>();
    for (var id : m.jobIds()) {
      var job = actor.job(id);
      if (job == null || job.state.isTerminal()) {
        continue;
      }
      cancelled.add(id);
      job.desired = JobRow.Desired.CANCEL;
      switch (job.state) {
        case QUEUED -> {
          clusters().get(job.currentCluster()).queue.remove(job);
          actor.finish(job, Transitions.Event.CANCELLED, null, "cancelled before it was submitted");
        }
        case SUBMITTING -> {
          var c = clusters().get(job.cluster);
          if (c.toSubmit.remove(job)) {
            // committed intent, but the backend never saw it: nothing to undo there
            actor.endAttempt(c, job, JobState.CANCELLED, "cancelled before submission",
                Instant.now());
            actor.finish(job, Transitions.Event.CANCELLED, null,
                "cancelled before it was submitted");
          } else {
            actor.move(job, Transitions.Event.CANCEL_REQUESTED,
                "cancel requested during submission");
          }
        }
        case PENDING, RUNNING, PAUSED, CANCELLING -> {
          actor.move(job, Transitions.Event.CANCEL_REQUESTED, "cancel requested");
          if (job.ref != null) {
            toSend.computeIfAbsent(clusters().get(job.cluster), k -> new ArrayList<>())
                .add(job.ref);
          }
        }
        default -> { }
      }
    }
    toSend.forEach((cluster, refs) -> actor.afterCommit(() -> actor.dispatchCancel(cluster, refs)));
    actor.afterCommit(() -> m.reply().complete(List.copyOf(cancelled)));
  }

  void onRestart(Message.Restart m) {
    var row = m.row();
    if (actor.job(row.id()) != null || !row.state().isTerminal()) {
      throw new RejectedException("job " + row.id() + " is still " + row.state().name()
          .toLowerCase(java.util.Locale.ROOT) + "; only a finished job can be restarted (kill it "
          + "first)");
    }
    JobSpec spec = StoredJson.spec(row.id(), row.spec());
    var job = new Job(row.id(), row.seq(), row.owner(), row.name(), row.session(), spec,
        row.spec(), defaultClusters, row.createdAt());
    if (!clusters().containsKey(job.clusters().getFirst())) {
      throw new RejectedException("job " + row.id() + " names cluster '"
          + job.clusters().getFirst() + "', which is not configured; configured: "
          + clusters().keySet());
    }
    if (resume.tryResume(row, job)) { // #17: a failed attempt goes on where its cluster can
      actor.afterCommit(() -> m.reply().complete(job.id));
      return;
    }
    job.desired = JobRow.Desired.RUN;
    job.state = row.state();
    job.attempt = row.attempt();
    job.clusterIndex = 0;
    job.retriesLeft = spec.retries();
    actor.admit(job);
    actor.move(job, Transitions.Event.RESTARTED, "restarted");
    job.exitCode = null;
    clusters().get(job.currentCluster()).queue.add(job);
    actor.afterCommit(() -> m.reply().complete(job.id));
  }

  void onFlush(Message.Flush m) {
    var live = m.rows().stream()
        .filter(r -> actor.job(r.id()) != null || !r.state().isTerminal()).map(JobRow::id)
        .toList();
    if (!live.isEmpty()) {
      throw new RejectedException("flush removes finished jobs only; still live: " + live
          + " (kill them first); nothing was removed");
    }
    var ids = new ArrayList<String>();
    for (var row : m.rows()) {
      actor.change(new Change.DeleteJob(row.id()));
      ids.add(row.id());
      for (var a : m.attempts().getOrDefault(row.id(), List.of())) {
        if (a.nativeId() == null || !clusters().containsKey(a.cluster())) {
          continue;
        }
        // written with the removal, carried out after it: a crash in between re-runs it at start
        actor.cleanLater(row.id(), a.cluster(), a.nativeId(),
            a.attributes() == null ? "{}" : a.attributes());
      }
    }
    LOG.info("flushed {} job(s)", ids.size());
    actor.afterCommit(() -> m.reply().complete(List.copyOf(ids)));
  }

  void onPause(Message.Pause m) {
    var paused = new ArrayList<String>();
    var toHold = new HashMap<Cluster, List<JobRef>>();
    var toStop = new HashMap<Cluster, List<JobRef>>();
    for (var id : m.jobIds()) {
      var job = actor.job(id);
      if (job == null || job.state.isTerminal() || job.desired == JobRow.Desired.CANCEL
          || job.state == JobState.PAUSED) {
        continue;
      }
      switch (job.state) {
        case QUEUED -> {
          clusters().get(job.currentCluster()).queue.remove(job);
          job.desired = JobRow.Desired.PAUSE;
          actor.move(job, Transitions.Event.PAUSED_BY_USER, "paused before submission");
          paused.add(id);
        }
        case PENDING, RUNNING -> {
          if (job.ref == null) {
            continue;
          }
          var c = clusters().get(job.cluster);
          job.desired = JobRow.Desired.PAUSE;
          actor.change(new Change.UpdateJob(job.row(Instant.now())));
          if (job.state == JobState.PENDING
              && c.capabilities.contains(org.jobyard.api.Capability.HOLD_RELEASE)) {
            toHold.computeIfAbsent(c, k -> new ArrayList<>()).add(job.ref);
          } else {
            // a paused job holds no resources: stop it, and resume from the first step
            toStop.computeIfAbsent(c, k -> new ArrayList<>()).add(job.ref);
          }
          paused.add(id);
        }
        default -> { }
      }
    }
    toHold.forEach((c, refs) -> actor.afterCommit(() -> dispatchHold(c, refs, true)));
    toStop.forEach((c, refs) -> actor.afterCommit(() -> actor.dispatchCancel(c, refs)));
    actor.afterCommit(() -> m.reply().complete(List.copyOf(paused)));
  }

  void onResume(Message.Resume m) {
    var resumed = new ArrayList<String>();
    var toRelease = new HashMap<Cluster, List<JobRef>>();
    for (var id : m.jobIds()) {
      var job = actor.job(id);
      if (job == null || job.desired != JobRow.Desired.PAUSE && job.state != JobState.PAUSED) {
        continue;
      }
      job.desired = JobRow.Desired.RUN;
      resumed.add(id);
      if (job.ref != null && job.cluster != null && clusters().get(job.cluster).live.contains(id)) {
        actor.change(new Change.UpdateJob(job.row(Instant.now())));
        if (job.state == JobState.PAUSED) {
          toRelease.computeIfAbsent(clusters().get(job.cluster), k -> new ArrayList<>())
              .add(job.ref);
        }
      } else {
        job.adopt(null);
        actor.move(job, Transitions.Event.RESUMED, "resumed");
        actor.queue(job); // i20
      }
    }
    toRelease.forEach((c, refs) -> actor.afterCommit(() -> dispatchHold(c, refs, false)));
    actor.afterCommit(() -> m.reply().complete(List.copyOf(resumed)));
  }

  private void dispatchHold(Cluster c, List<JobRef> refs, boolean hold) {
    actor.callStarted();
    var inc = actor.incarnation();
    var ids = refs.stream().map(JobRef::jobId).toList();
    c.dispatch(hold ? Cluster.Call.HOLD : Cluster.Call.RELEASE, backend -> {
      if (hold) {
        backend.hold(refs);
      } else {
        backend.release(refs);
      }
      return null;
    }, (none, error) -> actor.report(new Message.CancelSent(inc, c.name, ids, error)));
  }

  /** Each spec's {@code after} as ids: names of this submission, or ids of existing jobs. */
  private List<List<JobSpec.Dependency>> resolveDependencies(List<JobSpec> specs,
      List<String> ids) {
    var out = new ArrayList<List<JobSpec.Dependency>>();
    var names = specs.stream().anyMatch(s -> !s.after().isEmpty()) ? new JobGraph.Names(specs)
        : null;
    for (int i = 0; i < specs.size(); i++) {
      var edges = new ArrayList<JobSpec.Dependency>();
      for (var d : specs.get(i).after()) {
        var targets = names.targets(i, d.job());
        if (targets.isEmpty()) {
          if (actor.job(d.job()) == null && store.job(d.job()).isEmpty()) {
            throw new RejectedException("job " + (i + 1) + " ('" + specs.get(i).name()
                + "'): field 'after': no job named or with id '" + d.job() + "'; nothing was "
                + "stored");
          }
          edges.add(d);
        }
        targets.forEach(t -> edges.add(new JobSpec.Dependency(ids.get(t), d.condition())));
      }
      out.add(edges);
    }
    return out;
  }
}
