package org.jobyard.testkit;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;

/**
 * Counts the commands a backend sends through a transport, to prove batching: one command for a
 * poll of many jobs, one {@code squeue} per cycle. Open for tests that make it misbehave.
 */
public class CountingTransport implements Transport {
  private final Transport delegate;
  private final List<String> sent = new ArrayList<>();

  public CountingTransport(Transport delegate) {
    this.delegate = delegate;
  }

  public Transport delegate() {
    return delegate;
  }

  /** Commands run or started since the last {@link #reset()}. */
  public synchronized int commands() {
    return sent.size();
  }

  /** How often {@code word} appears in the commands sent (arguments and stdin). */
  public synchronized int occurrences(String word) {
    int n = 0;
    for (var text : sent) {
      for (int i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + word.length())) {
        n++;
      }
    }
    return n;
  }

  public synchronized void reset() {
    sent.clear();
  }

  private synchronized void record(Command command) {
    sent.add(String.join(" ", command.argv()) + "\n"
        + new String(command.stdin(), StandardCharsets.UTF_8));
  }

  @Override
  public CommandResult run(Command command) throws TransportException {
    record(command);
    return delegate.run(command);
  }

  @Override
  public CompletableFuture<CommandResult> start(Command command) throws TransportException {
    record(command);
    return delegate.start(command);
  }

  @Override
  public void upload(Path local, String remotePath) throws TransportException {
    delegate.upload(local, remotePath);
  }

  @Override
  public void download(String remotePath, Path local) throws TransportException {
    delegate.download(remotePath, local);
  }

  @Override
  public boolean sharesFilesystem() {
    return delegate.sharesFilesystem();
  }

  @Override
  public String describe() {
    return delegate.describe();
  }
}
