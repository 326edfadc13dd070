package org.jobyard.testkit;

import java.util.concurrent.CompletableFuture;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;

/**
 * A transport whose answers can be lost: while {@link #loseAnswers(boolean) armed}, every command
 * really runs to its end on the cluster, and then the caller gets a retryable {@link
 * TransportException} instead of the result, as when a connection drops after the command was
 * sent or a timeout fires while the batch system is still taking the job.
 */
public final class AnswerLosingTransport extends CountingTransport {
  private volatile boolean losing;

  public AnswerLosingTransport(Transport delegate) {
    super(delegate);
  }

  /** From now on, lose (or stop losing) the answer of every command. */
  public void loseAnswers(boolean lose) {
    losing = lose;
  }

  private TransportException lost(Command command) {
    return new TransportException("connection lost after '" + command.argv().getFirst()
        + "' was sent (the kit drops the answer; the command ran)", true);
  }

  @Override
  public CommandResult run(Command command) throws TransportException {
    var result = super.run(command);
    if (losing) {
      throw lost(command);
    }
    return result;
  }

  @Override
  public CompletableFuture<CommandResult> start(Command command) throws TransportException {
    var started = super.start(command);
    if (!losing) {
      return started;
    }
    return started.handle((r, e) -> {
      throw new java.util.concurrent.CompletionException(lost(command));
    });
  }
}
