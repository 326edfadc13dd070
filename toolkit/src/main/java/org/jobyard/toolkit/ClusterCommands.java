package org.jobyard.toolkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jobyard.api.BackendException;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;

/**
 * Runs a backend's commands on its cluster through the engine's transport, with the cluster's
 * command timeout, and turns what goes wrong into what the engine understands: a cluster that
 * does not answer is a retryable {@link BackendException} naming the cluster, the command and the
 * host; the answer to a command that changes the cluster (a submit) may be lost, which {@link
 * #send} reports as {@link Sent.Lost} so that the jobs become {@code InDoubt}.
 */
public final class ClusterCommands {
  private final String cluster;
  private final Transport transport;
  private final Duration timeout;

  /**
   * @param cluster how messages name the cluster, e.g. {@code "cluster 'hpc'"}
   * @param transport the engine's transport to the cluster
   * @param timeout for commands that do not set their own
   */
  public ClusterCommands(String cluster, Transport transport, Duration timeout) {
    this.cluster = requireNonNull(cluster, "cluster is null");
    this.transport = requireNonNull(transport, "transport is null");
    this.timeout = requireNonNull(timeout, "timeout is null");
  }

  public Transport transport() {
    return transport;
  }

  public String cluster() {
    return cluster;
  }

  /**
   * Runs a command that only reads (a listing, a job folder). Its exit code is the caller's to
   * judge; a transport failure that may pass (a host that does not answer) becomes {@link
   * BackendException#unavailable}, anything else is thrown as it is.
   *
   * @param what the command in words, for messages ("squeue", "read job folders")
   */
  public CommandResult run(Command command, String what) throws BackendException {
    try {
      return transport.run(withTimeout(command));
    } catch (TransportException e) {
      if (e.isRetryable()) {
        throw BackendException.unavailable(cluster + ": " + what + " on "
            + transport.describe() + " failed: " + e.getMessage(), e);
      }
      throw e;
    }
  }

  /**
   * As {@link #run}, and a non-zero exit is the cluster not answering either: for commands that
   * must work whenever the cluster is up (a script of builtins).
   */
  public CommandResult runOrUnavailable(Command command, String what) throws BackendException {
    var result = run(command, what);
    if (!result.succeeded()) {
      throw BackendException.unavailable(cluster + ": " + what + " on " + transport.describe()
          + " failed: " + result.summary(), null);
    }
    return result;
  }

  /**
   * Sends a command that changes the cluster (submits jobs). Once the command may have left,
   * a transport failure does not say whether the cluster acted on it: the answer is {@link
   * Sent.Lost}, and the jobs it carried are in doubt until looked up by their tags. A failure
   * that is not retryable (a refused host key: a configuration error) means nothing was sent,
   * and is thrown as it is.
   */
  public Sent send(Command command, String what) throws TransportException {
    try {
      return new Sent.Answered(transport.run(withTimeout(command)));
    } catch (TransportException e) {
      if (!e.isRetryable()) {
        throw e;
      }
      return new Sent.Lost(cluster + ": " + what + " on " + transport.describe()
          + " failed after it was sent: " + e.getMessage());
    }
  }

  private Command withTimeout(Command command) {
    return command.timeout().equals(Command.DEFAULT_TIMEOUT) ? command.withTimeout(timeout)
        : command;
  }

  /** What came of a command that changes the cluster. */
  public sealed interface Sent {
    /** The command ran and answered: its exit code and output say what happened. */
    record Answered(CommandResult result) implements Sent {}

    /** The answer was lost: the cluster may or may not have acted on the command. */
    record Lost(String message) implements Sent {}
  }
}
