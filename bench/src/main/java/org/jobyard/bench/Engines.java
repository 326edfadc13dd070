package org.jobyard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.manager.JobEvent;
import org.jobyard.engine.manager.JobListener;

/** An engine in this JVM, configured like an installation: a home with conf and plugins. */
final class Engines {
  private Engines() {}

  /** The unpacked tarball (its plugins are the ones under test). */
  static Path dist() {
    return Path.of(System.getProperty("jobyard.dist", "bench/target/dist"));
  }

  /** Makes {@code home} an installation whose plugins are the tarball's, with this config. */
  static Path home(Path home, String yaml) throws IOException {
    Files.createDirectories(home.resolve("conf"));
    var plugins = home.resolve("plugins");
    if (!Files.exists(plugins, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      Files.createSymbolicLink(plugins, dist().resolve("plugins").toAbsolutePath());
    }
    var conf = home.resolve("conf/jobyard.yaml");
    Files.writeString(conf, yaml);
    return conf;
  }

  static Engine start(Path home, String yaml) throws IOException {
    var conf = home(home, yaml);
    return Engine.create(ConfigLoader.load(home, conf)).start();
  }

  /** The engine's default H2 file URL; {@code -Djobyard.bench.h2=;OPTS} appends H2 settings. */
  static String h2(Path dir) {
    return "jdbc:h2:file:" + dir.toAbsolutePath().resolve("db/jobyard")
        + System.getProperty("jobyard.bench.h2", "");
  }

  static List<JobSpec> trivial(String prefix, int n) {
    var specs = new ArrayList<JobSpec>(n);
    for (int i = 0; i < n; i++) {
      specs.add(JobSpec.of(prefix + i, "/bin/true"));
    }
    return specs;
  }

  /** The latest state of every job the engine reported on, from its events. */
  static final class States implements JobListener {
    final Map<String, JobState> latest = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    /** What {@link #await} waits for, and how many jobs match it now (under {@code lock}). */
    private Predicate<JobState> watched;
    private long matching;

    @Override
    public void changed(JobEvent e) {
      synchronized (lock) {
        var before = latest.put(e.jobId(), e.to());
        if (watched != null) {
          if (before != null && watched.test(before)) {
            matching--;
          }
          if (watched.test(e.to())) {
            matching++;
          }
          lock.notifyAll();
        }
      }
    }

    long count(Predicate<JobState> p) {
      return latest.values().stream().filter(p).count();
    }

    /**
     * Waits until {@code n} jobs satisfy p, woken by the engine's events (counted as they come,
     * so a wait for 100,000 jobs costs no rescans); returns false on timeout.
     */
    boolean await(Predicate<JobState> p, long n, long timeoutMillis) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
      synchronized (lock) {
        watched = p;
        matching = count(p);
        try {
          while (matching < n) {
            long left = end - System.nanoTime();
            if (left <= 0) {
              return false;
            }
            TimeUnit.NANOSECONDS.timedWait(lock, left);
          }
          return true;
        } finally {
          watched = null;
        }
      }
    }
  }

  static boolean pastSubmission(JobState s) {
    return s != JobState.QUEUED && s != JobState.SUBMITTING;
  }

  static long usedHeapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    var mem = java.lang.management.ManagementFactory.getMemoryMXBean();
    return mem.getHeapMemoryUsage().getUsed();
  }

  static long processCpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
  }
}
