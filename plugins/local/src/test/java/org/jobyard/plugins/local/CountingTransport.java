package org.jobyard.plugins.local;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;

/** Counts the commands a backend sends, to prove batching. */
final class CountingTransport implements Transport {
  final AtomicInteger runs = new AtomicInteger();
  private final Transport delegate;

  CountingTransport(Transport delegate) {
    this.delegate = delegate;
  }

  @Override
  public CommandResult run(Command command) throws TransportException {
    runs.incrementAndGet();
    return delegate.run(command);
  }

  @Override
  public CompletableFuture<CommandResult> start(Command command) throws TransportException {
    runs.incrementAndGet();
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
    return "counting " + delegate.describe();
  }
}
