package org.jobyard.plugins.slurm;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Locale;
import org.jobyard.api.BackendContext;
import org.jobyard.api.ConfigurationException;

/**
 * The Slurm backend's settings, checked once when the cluster is created.
 *
 * @param partition {@code partition}: the partition for jobs whose spec names no queue, or null
 *     for the cluster's default
 * @param account {@code account}: the account for jobs whose spec names none, or null
 * @param workdir {@code workdir}: root of the job folders on the cluster; must be visible from the
 *     compute nodes. Relative paths are relative to the transport's starting folder (the remote
 *     home over SSH). Default: a folder under the engine's work dir with a transport that shares
 *     the engine's filesystem, else {@value #REMOTE_DEFAULT_WORKDIR}
 * @param binDir {@code bin_dir}: where {@code sbatch}, {@code squeue}... are, or null for the
 *     remote {@code PATH}
 * @param submitBatch {@code submit_batch}: the most jobs one submit command carries (default 50)
 * @param submitParallel {@code submit_parallel}: how many {@code sbatch} calls of one submit
 *     command run at once (default 4; 1 submits one after the other). slurmctld serves submissions from
 *     several threads, so a few at once beat a sequential loop; more only queue at its locks.
 * @param commandTimeout {@code command_timeout}: how long a Slurm command may take before the
 *     cluster counts as unavailable (default 60s; a submit batch gets more per job)
 * @param accounting {@code accounting}: {@code auto} (use {@code sacct} until it says accounting
 *     is disabled), {@code true} or {@code false}
 */
record SlurmSettings(String partition, String account, String workdir, String binDir,
    int submitBatch, int submitParallel, Duration commandTimeout, Accounting accounting) {

  /** Where job folders go over a transport that does not share the engine's filesystem. */
  static final String REMOTE_DEFAULT_WORKDIR = ".jobyard/slurm";

  enum Accounting { AUTO, TRUE, FALSE }

  SlurmSettings {
    requireNonNull(workdir, "workdir is null");
    requireNonNull(commandTimeout, "commandTimeout is null");
    requireNonNull(accounting, "accounting is null");
  }

  static SlurmSettings from(BackendContext context) throws ConfigurationException {
    var settings = context.settings();
    var owner = settings.owner();
    var partition = settings.string("partition").map(String::strip).orElse(null);
    if (partition != null && !partition.matches("[A-Za-z0-9_.,-]+")) {
      throw new ConfigurationException(owner + ": setting 'partition' must be a Slurm partition "
          + "name (letters, digits, '_', '.', '-', ',' between several), got '" + partition + "'");
    }
    var account = settings.string("account").map(String::strip).orElse(null);
    if (account != null && !account.matches("[A-Za-z0-9_.-]+")) {
      throw new ConfigurationException(owner + ": setting 'account' must be a Slurm account name, "
          + "got '" + account + "'");
    }
    var fallback = context.transport().sharesFilesystem()
        ? context.workDir().toAbsolutePath().resolve("slurm").toString()
        : REMOTE_DEFAULT_WORKDIR;
    var workdir = trimSlashes(settings.string("workdir", fallback).strip(), owner, "workdir");
    // sbatch expands %j, %u... in --output/--error; a literal % there would be rewritten
    if (workdir.indexOf('%') >= 0) {
      throw new ConfigurationException(owner + ": setting 'workdir' must not contain '%' "
          + "(sbatch expands it in output file names), got '" + workdir + "'");
    }
    var binDir = settings.string("bin_dir").map(String::strip).orElse(null);
    if (binDir != null) {
      binDir = trimSlashes(binDir, owner, "bin_dir");
    }
    int batch = settings.integer("submit_batch", 50);
    if (batch < 1 || batch > 1000) {
      throw new ConfigurationException(owner + ": setting 'submit_batch' must be between 1 and "
          + "1000, got " + batch);
    }
    int parallel = settings.integer("submit_parallel", 4);
    if (parallel < 1 || parallel > 32) {
      throw new ConfigurationException(owner + ": setting 'submit_parallel' must be between 1 "
          + "and 32, got " + parallel);
    }
    var timeout = settings.duration("command_timeout", Duration.ofSeconds(60));
    if (timeout.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigurationException(owner + ": setting 'command_timeout' must be at least 1s, "
          + "got " + timeout);
    }
    var raw = settings.string("accounting", "auto").strip().toLowerCase(Locale.ROOT);
    var accounting = switch (raw) {
      case "auto" -> Accounting.AUTO;
      case "true", "yes", "on" -> Accounting.TRUE;
      case "false", "no", "off" -> Accounting.FALSE;
      default -> throw new ConfigurationException(owner + ": setting 'accounting' must be auto, "
          + "true or false, got '" + raw + "'");
    };
    return new SlurmSettings(partition, account, workdir, binDir, batch, parallel, timeout,
        accounting);
  }

  /** The command to run for a Slurm tool: bare (found in PATH) or under {@code bin_dir}. */
  String tool(String name) {
    return binDir == null ? name : binDir + "/" + name;
  }

  private static String trimSlashes(String path, String owner, String key)
      throws ConfigurationException {
    if (path.isEmpty() || path.indexOf('\n') >= 0 || path.indexOf('\0') >= 0) {
      throw new ConfigurationException(owner + ": setting '" + key + "' must be a path on one "
          + "line, got '" + path + "'");
    }
    while (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return path;
  }
}
