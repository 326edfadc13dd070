package org.jobyard.engine.metrics;

import static java.util.Objects.requireNonNull;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.ToLongFunction;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobState;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.manager.JobEvent;
import org.jobyard.engine.store.StoreWriter;
import org.jobyard.engine.transport.ssh.SshStats;
import org.jobyard.engine.transport.ssh.SshTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's Prometheus metrics, on the Prometheus Java client. Events are counted where they
 * happen through three small hooks (backend calls, via a proxy around each cluster's backend;
 * store transactions, via {@link StoreWriter.CommitObserver}; job state changes, via a job
 * listener); levels (jobs by state, queues, SSH pools) are read when scraped, so they are never
 * stale and cost nothing between scrapes.
 */
public final class EngineMetrics {
  private static final Logger LOG = LoggerFactory.getLogger(EngineMetrics.class);
  /** The backend calls that are timed; the others (capabilities, slots, close) are not. */
  private static final Set<String> CALLS =
      Set.of("submit", "poll", "cancel", "lookup", "hold", "release", "tail");
  private static final String NO_CLUSTER = "none";

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final ExpositionFormats formats = ExpositionFormats.init();
  private final AllowList allow;

  private final Histogram backendSeconds = Histogram.builder()
      .name("jobyard_backend_call_seconds")
      .help("Time of one call to a cluster's backend (one call covers a whole batch of jobs)")
      .unit(io.prometheus.metrics.model.snapshots.Unit.SECONDS)
      .labelNames("cluster", "call")
      .classicOnly()
      .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
      .register(registry);
  private final Counter backendErrors = Counter.builder()
      .name("jobyard_backend_call_errors_total")
      .help("Backend calls that failed, by whether a retry can help")
      .labelNames("cluster", "call", "retryable")
      .register(registry);
  private final Counter submitted = Counter.builder()
      .name("jobyard_jobs_submitted_total")
      .help("Jobs a cluster's batch system accepted (one per attempt)")
      .labelNames("cluster")
      .register(registry);
  private final Counter rejected = Counter.builder()
      .name("jobyard_jobs_rejected_total")
      .help("Jobs a cluster's batch system refused at submission")
      .labelNames("cluster")
      .register(registry);
  private final Counter finished = Counter.builder()
      .name("jobyard_jobs_finished_total")
      .help("Jobs that reached an end state since the engine started")
      .labelNames("cluster", "state")
      .register(registry);
  private final Counter failures = Counter.builder()
      .name("jobyard_job_failures_total")
      .help("Jobs that failed for good, by kind: exit_code (the program failed), lost (the "
          + "batch system forgot it), rejected (no cluster took it), error (anything else)")
      .labelNames("cluster", "kind")
      .register(registry);
  private final Histogram commitSeconds = Histogram.builder()
      .name("jobyard_store_commit_seconds")
      .help("Time of one store transaction (a group commit of many job changes)")
      .unit(io.prometheus.metrics.model.snapshots.Unit.SECONDS)
      .classicOnly()
      .classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5)
      .register(registry);
  private final Histogram commitChanges = Histogram.builder()
      .name("jobyard_store_commit_changes")
      .help("Job changes written by one store transaction (the group-commit batch size)")
      .classicOnly()
      .classicUpperBounds(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 20000)
      .register(registry);
  private final Counter commitFailures = Counter.builder()
      .name("jobyard_store_commit_failures_total")
      .help("Store transactions that failed (the engine stops on the first)")
      .register(registry);

  private volatile boolean jvmMetrics;

  public EngineMetrics(EngineConfig.Metrics config) {
    this.allow = AllowList.parse(requireNonNull(config, "config is null").allow());
  }

  /**
   * The JVM's own metrics, registered at the first scrape rather than at start: 'jobyard run'
   * serves no /metrics, and their collectors (JMX beans, ~300 classes) were a tenth of its start.
   */
  private void registerJvmMetrics() {
    if (!jvmMetrics) {
      synchronized (this) {
        if (!jvmMetrics) {
          JvmMetrics.builder().register(registry);
          jvmMetrics = true;
        }
      }
    }
  }

  /** Whether a client at this address may read {@code /metrics}. */
  public boolean allows(InetAddress address) {
    return allow.allows(address);
  }

  /** The exposition and its content type, in the format the {@code Accept} header prefers. */
  public record Scrape(byte[] body, String contentType) {}

  public Scrape scrape(String accept) {
    registerJvmMetrics();
    var writer = formats.findWriter(accept);
    var out = new ByteArrayOutputStream();
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Scrape(out.toByteArray(), writer.getContentType());
  }

  /** Counts store transactions; give it to the {@link StoreWriter}. */
  public StoreWriter.CommitObserver storeObserver() {
    return (changes, nanos, committed) -> {
      if (committed) {
        commitSeconds.observe(nanos / 1e9);
        commitChanges.observe(changes);
      } else {
        commitFailures.inc();
      }
    };
  }

  /**
   * The backend the engine calls: every method goes to the plugin's backend unchanged (a proxy,
   * so methods added to the SPI later are passed on too); the batch calls are timed and their
   * errors and submit outcomes counted.
   */
  public Backend instrument(String cluster, Backend backend) {
    requireNonNull(cluster, "cluster is null");
    requireNonNull(backend, "backend is null");
    return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
        new Class<?>[] {Backend.class}, (proxy, method, args) -> {
          var call = method.getName();
          if (!CALLS.contains(call)) {
            return invoke(backend, method, args);
          }
          long t0 = System.nanoTime();
          try {
            var result = invoke(backend, method, args);
            if (result instanceof List<?> outcomes && call.equals("submit")) {
              for (var o : outcomes) {
                (o instanceof SubmitOutcome.Accepted ? submitted : rejected)
                    .labelValues(cluster).inc();
              }
            }
            return result;
          } catch (Throwable e) {
            var retryable = !(e instanceof BackendException b) || b.isRetryable();
            backendErrors.labelValues(cluster, call, String.valueOf(retryable)).inc();
            throw e;
          } finally {
            backendSeconds.labelValues(cluster, call).observe((System.nanoTime() - t0) / 1e9);
          }
        });
  }

  private static Object invoke(Backend backend, java.lang.reflect.Method method, Object[] args)
      throws Throwable {
    try {
      return method.invoke(backend, args);
    } catch (InvocationTargetException e) {
      throw e.getCause(); // the backend's own exception, as callers expect it
    }
  }

  /** Starts watching a running engine: its job events and, at each scrape, its levels. */
  public void watch(Engine engine) {
    engine.manager().addListener(this::changed);
    GaugeWithCallback.builder()
        .name("jobyard_jobs")
        .help("Jobs in the store by state and by the cluster of their current attempt "
            + "(cluster \"none\" before the first attempt)")
        .labelNames("state", "cluster")
        .callback(cb -> {
          try {
            for (var c : engine.store().countByStateAndCluster()) {
              cb.call(c.count(), lower(c.state()), c.cluster() == null ? NO_CLUSTER : c.cluster());
            }
          } catch (RuntimeException e) {
            LOG.debug("metrics: cannot count jobs: {}", e.toString()); // jobyard_store_up says it
          }
        })
        .register(registry);
    GaugeWithCallback.builder()
        .name("jobyard_store_up")
        .help("1 if the job store answered a query within 2 seconds at this scrape, else 0")
        .callback(cb -> cb.call(Readiness.storeAnswers(engine) ? 1 : 0))
        .register(registry);
    GaugeWithCallback.builder()
        .name("jobyard_cluster_queue_depth")
        .help("Jobs the engine holds for a cluster and has not handed to it yet")
        .labelNames("cluster")
        .callback(cb -> engine.manager().stats().waitingByCluster()
            .forEach((name, n) -> cb.call(n, name)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("jobyard_cluster_live_jobs")
        .help("Jobs handed to a cluster and not finished")
        .labelNames("cluster")
        .callback(cb -> engine.manager().stats().liveByCluster()
            .forEach((name, n) -> cb.call(n, name)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("jobyard_cluster_up")
        .help("1 if the cluster's last submit or poll succeeded, else 0")
        .labelNames("cluster")
        .callback(cb -> engine.clusters().forEach(c ->
            cb.call(c.health().lastError() == null ? 1 : 0, c.name())))
        .register(registry);
    CounterWithCallback.builder()
        .name("jobyard_cluster_collect_tasks_total")
        .help("Collect tasks handed to a cluster's workers: one per poll that saw jobs end, "
            + "however many ended (jobs ended per task is the size of the engine's rounds)")
        .labelNames("cluster")
        .callback(cb -> engine.clusters().forEach(c -> cb.call(c.collectTasks(), c.name())))
        .register(registry);
    sshGauge(engine, "jobyard_ssh_connections", "SSH connections open (draining ones included)",
        SshStats::connectionsOpen);
    sshGauge(engine, "jobyard_ssh_channels_in_use", "SSH commands and transfers running now",
        SshStats::channelsInUse);
    sshCounter(engine, "jobyard_ssh_handshakes_total", "SSH connections established",
        SshStats::handshakes);
    sshCounter(engine, "jobyard_ssh_waits_total", "Callers that waited for a free SSH channel",
        SshStats::waits);
    sshCounter(engine, "jobyard_ssh_connect_failures_total", "SSH connection attempts that failed",
        SshStats::failures);
    sshCounter(engine, "jobyard_ssh_reconnects_total", "Times an SSH host came back after an "
        + "outage", SshStats::reconnects);
    sshCounter(engine, "jobyard_ssh_rotations_total", "SSH connections retired at their maximum "
        + "age", SshStats::rotations);
  }

  private void sshGauge(Engine engine, String name, String help, ToLongFunction<SshStats> value) {
    GaugeWithCallback.builder().name(name).help(help).labelNames("cluster")
        .callback(cb -> ssh(engine).forEach(s -> cb.call(value.applyAsLong(s.stats()), s.name)))
        .register(registry);
  }

  private void sshCounter(Engine engine, String name, String help, ToLongFunction<SshStats> value) {
    CounterWithCallback.builder().name(name).help(help).labelNames("cluster")
        .callback(cb -> ssh(engine).forEach(s -> cb.call(value.applyAsLong(s.stats()), s.name)))
        .register(registry);
  }

  private record Ssh(String name, SshStats stats) {}

  private static List<Ssh> ssh(Engine engine) {
    return engine.clusters().stream().filter(c -> c.transport() instanceof SshTransport)
        .map(c -> new Ssh(c.name(), ((SshTransport) c.transport()).stats())).toList();
  }

  private void changed(JobEvent e) {
    if (!e.to().isTerminal()) {
      return;
    }
    var cluster = e.cluster() == null ? NO_CLUSTER : e.cluster();
    finished.labelValues(cluster, lower(e.to())).inc();
    if (e.to() == JobState.FAILED) {
      failures.labelValues(cluster, failureKind(e)).inc();
    }
  }

  /** A coarse, bounded kind for a failure (the reason itself is free text). */
  static String failureKind(JobEvent e) {
    var reason = e.reason() == null ? "" : e.reason();
    if (reason.startsWith("lost")) {
      return "lost";
    }
    if (reason.startsWith("rejected")) {
      return "rejected";
    }
    if (e.exitCode() != null && e.exitCode() != 0) {
      return "exit_code";
    }
    return "error";
  }

  private static String lower(JobState s) {
    return s.name().toLowerCase(Locale.ROOT);
  }

}
