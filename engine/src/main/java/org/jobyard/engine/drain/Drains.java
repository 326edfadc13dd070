package org.jobyard.engine.drain;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jobyard.engine.config.ClusterConfig.Downtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which clusters take no new submissions: those an operator drained ({@code jobyard drain}, kept
 * in the state folder so a restart keeps them), and those inside a scheduled downtime window of
 * the configuration. A closed cluster's live jobs are tracked to their end as usual; its queued
 * jobs go to the next of their clusters that is open, or wait. Read by the job manager's thread
 * each turn, written by the API's threads.
 */
public final class Drains implements Admission {
  private static final Logger LOG = LoggerFactory.getLogger(Drains.class);
  private static final ObjectMapper JSON = new ObjectMapper()
      .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
      .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
  private static final TypeReference<Map<String, Drain>> STORED = new TypeReference<>() {};

  /** An operator's drain of one cluster. */
  public record Drain(String by, Instant since, String reason) {
    public Drain {
      requireNonNull(by, "by is null");
      requireNonNull(since, "since is null");
    }
  }

  private final Path file;
  private final Clock clock;
  private final Map<String, Drain> drained = new ConcurrentHashMap<>();
  private volatile Map<String, List<Downtime>> downtime;

  /**
   * @param file where drains are kept (read now if it exists)
   * @param downtime each cluster's scheduled downtime windows, from the configuration
   */
  public Drains(Path file, Map<String, List<Downtime>> downtime, Clock clock) {
    this.file = requireNonNull(file, "file is null");
    this.clock = requireNonNull(clock, "clock is null");
    downtime(downtime);
    if (Files.exists(file)) {
      try {
        drained.putAll(JSON.readValue(file.toFile(), STORED));
      } catch (IOException e) {
        throw new IllegalStateException(file + ": the drained clusters cannot be read ("
            + e.getMessage() + "); fix or remove the file, then start again", e);
      }
    }
  }

  /** The configuration's downtime windows, replaced whole (at start and at a reload). */
  public void downtime(Map<String, List<Downtime>> windows) {
    var copy = new LinkedHashMap<String, List<Downtime>>();
    windows.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    downtime = Map.copyOf(copy);
  }

  /** Drains the cluster (again: the reason is updated); kept across restarts. */
  public synchronized Drain drain(String cluster, String by, String reason) {
    var d = new Drain(by, clock.instant(), reason == null || reason.isBlank() ? null : reason);
    var next = new LinkedHashMap<>(drained);
    next.put(cluster, d);
    save(next); // first on disk: a drain that cannot be kept is refused, not half-done
    drained.put(cluster, d);
    LOG.info("cluster {} drained by {}{}", cluster, by, d.reason() == null ? ""
        : ": " + d.reason());
    return d;
  }

  /** Opens the cluster again; whether it was drained. */
  public synchronized boolean undrain(String cluster, String by) {
    var next = new LinkedHashMap<>(drained);
    var was = next.remove(cluster) != null;
    if (was) {
      save(next);
      drained.remove(cluster);
      LOG.info("cluster {} undrained by {}", cluster, by);
    }
    return was;
  }

  @Override
  public Optional<String> closed(String cluster) {
    var d = drained.get(cluster);
    if (d != null) {
      return Optional.of("cluster '" + cluster + "' is drained" + (d.reason() == null ? ""
          : " (" + d.reason() + ")"));
    }
    return window(cluster).map(w -> "cluster '" + cluster + "' is in scheduled downtime until "
        + w.to());
  }

  /** The operator's drain of the cluster, if any. */
  public Optional<Drain> drained(String cluster) {
    return Optional.ofNullable(drained.get(cluster));
  }

  /** The downtime window the cluster is in now, if any. */
  public Optional<Downtime> window(String cluster) {
    var now = clock.instant();
    return downtime.getOrDefault(cluster, List.of()).stream().filter(w -> w.covers(now))
        .findFirst();
  }

  /** The cluster's windows that have not ended yet. */
  public List<Downtime> upcoming(String cluster) {
    var now = clock.instant();
    return downtime.getOrDefault(cluster, List.of()).stream().filter(w -> w.to().isAfter(now))
        .toList();
  }

  /** Written to a temporary file and moved into place, so a crash leaves the old or the new. */
  private void save(Map<String, Drain> state) {
    try {
      Files.createDirectories(file.getParent());
      var tmp = file.resolveSibling(file.getFileName() + ".tmp");
      JSON.writeValue(tmp.toFile(), state);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot record the drained clusters: "
          + e.getMessage(), e);
    }
  }
}
