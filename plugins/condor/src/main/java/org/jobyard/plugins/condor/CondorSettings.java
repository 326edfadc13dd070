package org.jobyard.plugins.condor;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jobyard.api.BackendContext;
import org.jobyard.api.ConfigurationException;

/**
 * The HTCondor backend's settings, checked once when the cluster is created.
 *
 * @param workdir {@code workdir}: root of the job folders on the access point (submit files,
 *     wrappers, inputs, stdout/stderr/log, outputs brought back). Relative paths are relative to
 *     the transport's starting folder (the remote home over SSH). Default: a folder under the
 *     engine's work dir with a transport that shares the engine's filesystem, else {@value
 *     #REMOTE_DEFAULT_WORKDIR}
 * @param binDir {@code bin_dir}: where {@code condor_submit}, {@code condor_q}... are, or null for
 *     the remote {@code PATH}
 * @param submitBatch {@code submit_batch}: the most jobs one {@code condor_submit} carries
 *     (default 500)
 * @param commandTimeout {@code command_timeout}: how long an HTCondor command may take before the
 *     access point counts as unavailable (default 60s; a submit batch gets more per job)
 * @param sharedFolders {@code shared_folders}: make job folders writable by every account
 *     (default false). Only for an engine whose account is not the one HTCondor runs the jobs as,
 *     such as root driving wrappers that submit as another user (the testbed)
 */
record CondorSettings(String workdir, String binDir, int submitBatch, Duration commandTimeout,
    boolean sharedFolders) {

  /** Where job folders go over a transport that does not share the engine's filesystem. */
  static final String REMOTE_DEFAULT_WORKDIR = ".jobyard/condor";

  CondorSettings {
    requireNonNull(workdir, "workdir is null");
    requireNonNull(commandTimeout, "commandTimeout is null");
  }

  static CondorSettings from(BackendContext context) throws ConfigurationException {
    var settings = context.settings();
    var owner = settings.owner();
    var fallback = context.transport().sharesFilesystem()
        ? context.workDir().toAbsolutePath().resolve("condor").toString()
        : REMOTE_DEFAULT_WORKDIR;
    var workdir = path(settings.string("workdir", fallback).strip(), owner, "workdir");
    var binDir = settings.string("bin_dir").map(String::strip).orElse(null);
    if (binDir != null) {
      binDir = path(binDir, owner, "bin_dir");
    }
    int batch = settings.integer("submit_batch", 500);
    if (batch < 1 || batch > 10_000) {
      throw new ConfigurationException(owner + ": setting 'submit_batch' must be between 1 and "
          + "10000, got " + batch);
    }
    var timeout = settings.duration("command_timeout", Duration.ofSeconds(60));
    if (timeout.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigurationException(owner + ": setting 'command_timeout' must be at least 1s, "
          + "got " + timeout);
    }
    return new CondorSettings(workdir, binDir, batch, timeout,
        settings.bool("shared_folders", false));
  }

  /** The command to run for an HTCondor tool: bare (found in PATH) or under {@code bin_dir}. */
  String tool(String name) {
    return binDir == null ? name : binDir + "/" + name;
  }

  /**
   * A path that can go into a submit description as it is: submit files expand {@code $(...)},
   * end values at a newline and take {@code #} at a line start as a comment.
   */
  private static String path(String path, String owner, String key)
      throws ConfigurationException {
    if (path.isEmpty() || path.indexOf('\n') >= 0 || path.indexOf('\r') >= 0
        || path.indexOf('\0') >= 0 || path.indexOf('$') >= 0 || path.indexOf(',') >= 0) {
      throw new ConfigurationException(owner + ": setting '" + key + "' must be a path on one "
          + "line without '$' or ',' (HTCondor submit files give them a meaning), got '" + path
          + "'");
    }
    while (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return path;
  }
}
