package org.jobyard.plugins.local;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jobyard.api.BackendContext;
import org.jobyard.api.ConfigurationException;

/**
 * The local backend's settings, checked once.
 *
 * @param slots how many jobs the engine should run at once
 * @param workdir root of the job folders on the execution host; relative paths are relative to the
 *     transport's starting directory (the remote home over SSH)
 * @param killGrace how long a cancelled or timed-out job gets between TERM and KILL
 * @param queueAhead how many jobs beyond {@code slots} the engine hands to the runner ahead of
 *     free slots ({@code queue_ahead}; default 4 × slots, at least 64), so that the runner starts
 *     the next job the moment one ends, without waiting for the engine
 * @param javaRunner whether the runner may be the Java one ({@code runner: auto}, the default: when
 *     the execution host has a Java 11+) rather than always the shell one ({@code runner: shell})
 */
record LocalSettings(int slots, String workdir, Duration killGrace, int queueAhead,
    boolean javaRunner) {

  /** Where job folders go over a transport that does not share the engine's filesystem. */
  static final String REMOTE_DEFAULT_WORKDIR = ".jobyard/jobs";

  LocalSettings {
    requireNonNull(workdir, "workdir is null");
    requireNonNull(killGrace, "killGrace is null");
  }

  static LocalSettings from(BackendContext context) throws ConfigurationException {
    var settings = context.settings();
    int slots = settings.integer("slots", Runtime.getRuntime().availableProcessors());
    if (slots < 1) {
      throw new ConfigurationException(settings.owner() + ": setting 'slots' must be at least 1, got "
          + slots);
    }
    var fallback = context.transport().sharesFilesystem()
        ? context.workDir().toAbsolutePath().toString()
        : REMOTE_DEFAULT_WORKDIR;
    var workdir = settings.string("workdir", fallback).strip();
    if (workdir.indexOf('\n') >= 0 || workdir.indexOf('\0') >= 0) {
      throw new ConfigurationException(settings.owner()
          + ": setting 'workdir' must be a path on one line, got '" + workdir + "'");
    }
    while (workdir.length() > 1 && workdir.endsWith("/")) {
      workdir = workdir.substring(0, workdir.length() - 1);
    }
    var grace = settings.duration("kill-grace", Duration.ofSeconds(5));
    int ahead = settings.integer("queue_ahead", Math.max(64, 4 * slots));
    if (ahead < 0) {
      throw new ConfigurationException(settings.owner()
          + ": setting 'queue_ahead' must be 0 or more, got " + ahead);
    }
    var runner = settings.string("runner", "auto").strip();
    if (!runner.equals("auto") && !runner.equals("shell")) {
      throw new ConfigurationException(settings.owner() + ": setting 'runner' must be 'auto' (the "
          + "Java runner where the host has Java 11+, else the shell one) or 'shell', got '"
          + runner + "'");
    }
    return new LocalSettings(slots, workdir, grace, ahead, runner.equals("auto"));
  }
}
