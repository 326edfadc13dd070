package org.jobyard.toolkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.LogStream;
import org.jobyard.api.Transport;

/**
 * The base of a command-line backend whose attempts each live in a {@link JobFolder} (Slurm,
 * HTCondor, ...): it holds the cluster's transport and commands, and answers {@link #tail}, {@link
 * #collect} and {@link #clean} from the job folders, which is the same for every such backend. A
 * subclass brings the batch system's own part: submit, poll, cancel, hold, lookup.
 */
public abstract class FolderBackend implements Backend {
  /** The cluster's name as it appears in messages ("cluster 'hpc'"). */
  protected final String cluster;
  protected final Transport transport;
  protected final ClusterCommands commands;
  protected final JobFolder folders;

  /**
   * @param context the engine's context for this cluster
   * @param commandTimeout the longest one command may run
   * @param workdir the setting {@code workdir}: absolute, or relative to the login directory
   * @param stdout the name of the stdout file inside a job folder
   * @param stderr the name of the stderr file inside a job folder
   */
  protected FolderBackend(BackendContext context, Duration commandTimeout, String workdir,
      String stdout, String stderr) {
    requireNonNull(context, "context is null");
    this.cluster = context.cluster();
    this.transport = context.transport();
    this.commands = new ClusterCommands(cluster, transport, commandTimeout);
    this.folders = new JobFolder(commands, workdir, stdout, stderr);
  }

  @Override
  public final Optional<String> tail(JobRef job, LogStream stream, int lines)
      throws BackendException {
    return folders.tail(job, stream, lines);
  }

  @Override
  public final void collect(JobRef job, JobSpec spec) throws BackendException {
    folders.collect(job, spec);
  }

  @Override
  public final void clean(JobRef job) throws BackendException {
    folders.clean(job);
  }

  /** Runs one command on the cluster; {@code what} names it in errors ("submit"). */
  protected final CommandResult run(Command command, String what) throws BackendException {
    return commands.run(command, what);
  }
}
