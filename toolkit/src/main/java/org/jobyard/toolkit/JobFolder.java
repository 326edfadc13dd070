package org.jobyard.toolkit;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jobyard.api.BackendException;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.LogStream;
import org.jobyard.api.OutputFetch;
import org.jobyard.api.SubmitRequest;

/**
 * The job folders of a folder-based backend (Slurm, HTCondor, ...): each attempt gets a folder
 * under the cluster's workdir named after its tag, holding its stdout and stderr under fixed
 * names and, unless its spec names a directory, its working directory. The engine's record of an
 * attempt carries the folder as attribute {@value #ATTR_DIR}; from it come {@link #tail}, {@link
 * #collect} and {@link #clean}, which are the same for every such backend.
 */
public final class JobFolder {
  /** The attempt's tag, as the engine gave it. */
  public static final String ATTR_TAG = "tag";
  /** The attempt's folder on the cluster (absolute). */
  public static final String ATTR_DIR = "dir";
  /** {@code "true"} when stderr goes to the stdout file. */
  public static final String ATTR_MERGED = "merged";

  /** Tags become folder names and native job names; engine ids fit in this. */
  private static final Pattern SAFE_TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]*");

  private final ClusterCommands commands;
  private final String setting;
  private final String stdout;
  private final String stderr;
  // absolute, resolved on first use; volatile as a backend may use its folders from two threads
  // (see Backend: transfers run next to polls); resolving twice gives the same answer
  private volatile String workdir;

  /**
   * @param commands the cluster's commands
   * @param workdir the setting {@code workdir}: absolute, or relative to the login directory
   * @param stdout the name of the stdout file inside a job folder
   * @param stderr the name of the stderr file inside a job folder
   */
  public JobFolder(ClusterCommands commands, String workdir, String stdout, String stderr) {
    this.commands = requireNonNull(commands, "commands is null");
    this.setting = requireNonNull(workdir, "workdir is null");
    this.stdout = requireNonNull(stdout, "stdout is null");
    this.stderr = requireNonNull(stderr, "stderr is null");
    this.workdir = workdir.startsWith("/") ? workdir : null;
  }

  /**
   * The attempt's tag, checked to be usable as a folder and job name.
   *
   * @param system the batch system in words, for the message ("a Slurm job")
   */
  public static String checkedTag(SubmitRequest request, String system) throws BackendException {
    var tag = request.tag();
    if (!SAFE_TAG.matcher(tag).matches() || tag.length() > 200) {
      throw BackendException.rejected("job id '" + request.jobId() + "' cannot name " + system
          + " and its folder: use letters, digits, '.', '_' and '-'");
    }
    return tag;
  }

  /**
   * The absolute workdir on the cluster, created and resolved once: a relative setting is taken
   * from the login directory of the transport's user.
   */
  public String workdir() throws BackendException {
    if (workdir != null) {
      return workdir;
    }
    var out = commands.run(Command.of("sh", "-c",
        "mkdir -p -- \"$1\" && cd -- \"$1\" && pwd -P", "sh", setting), "workdir");
    var resolved = out.stdout().strip();
    if (!out.succeeded() || !resolved.startsWith("/") || resolved.contains("\n")) {
      throw new BackendException(commands.cluster() + ": cannot create the workdir '" + setting
          + "' (setting 'workdir') on " + commands.transport().describe() + ": "
          + out.summary(), false);
    }
    workdir = resolved;
    return workdir;
  }

  /** The record of an attempt in folder {@code dir}, as the engine keeps it. */
  public static JobRef ref(SubmitRequest job, String dir, String nativeId, boolean merged) {
    var attributes = new HashMap<String, String>();
    attributes.put(ATTR_TAG, job.tag());
    attributes.put(ATTR_DIR, dir);
    if (merged) {
      attributes.put(ATTR_MERGED, "true");
    }
    return new JobRef(job.jobId(), nativeId, attributes);
  }

  /** The job's working directory on the cluster: its spec's, or its folder. */
  public static String cwd(String dir, JobSpec spec) {
    var directory = spec.directory();
    if (directory == null || directory.isBlank()) {
      return dir;
    }
    return directory.startsWith("/") ? directory : dir + "/" + directory;
  }

  /** Where the stream is written (the stdout file for both when they are merged). */
  public String outputFile(JobRef job, LogStream stream) {
    boolean merged = "true".equals(job.attribute(ATTR_MERGED));
    return job.attribute(ATTR_DIR) + "/" + (stream == LogStream.STDOUT || merged ? stdout
        : stderr);
  }

  /** The last lines of a stream; empty when the job has no folder or the file is not there. */
  public Optional<String> tail(JobRef job, LogStream stream, int lines) throws BackendException {
    if (job.attribute(ATTR_DIR) == null) {
      return Optional.empty();
    }
    var out = commands.run(Command.of("tail", "-n", Integer.toString(Math.max(0, lines)), "--",
        outputFile(job, stream)), "tail");
    return out.succeeded() ? Optional.of(out.stdout()) : Optional.empty();
  }

  /** Brings stdout, stderr and the declared outputs home to the paths the spec names. */
  public void collect(JobRef job, JobSpec spec) throws BackendException {
    var dir = job.attribute(ATTR_DIR);
    if (dir == null) {
      throw BackendException.rejected(commands.cluster() + ": cannot collect job "
          + job.jobId() + ": the engine's record has no job folder (attribute '" + ATTR_DIR
          + "')");
    }
    var fetch = new OutputFetch(commands.transport(), commands.cluster());
    // a job cancelled before it started has no stdout or stderr: that is not a failure
    fetch.fetch(outputFile(job, LogStream.STDOUT), spec.stdout(), true);
    if (!"true".equals(job.attribute(ATTR_MERGED))) {
      fetch.fetch(outputFile(job, LogStream.STDERR), spec.stderr(), true);
    }
    fetch.declaredOutputs(spec, cwd(dir, spec));
    fetch.finish(job.jobId());
  }

  /** Removes the job's folder; a failure may pass (retryable). */
  public void clean(JobRef job) throws BackendException {
    var dir = job.attribute(ATTR_DIR);
    if (dir == null) {
      return;
    }
    var out = commands.run(Command.of("rm", "-rf", "--", dir), "clean");
    if (!out.succeeded()) {
      throw new BackendException(commands.cluster() + ": cannot remove " + dir + ": "
          + out.summary(), true);
    }
  }

  /** The folders of those jobs whose record names one, in order. */
  public static List<String> dirs(List<JobRef> jobs) {
    return jobs.stream().map(j -> j.attribute(ATTR_DIR)).filter(d -> d != null).toList();
  }
}
