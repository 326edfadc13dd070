package org.jobyard.testkit;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;

/** Transports the kit wraps around a backend's: one that counts, one that never answers. */
public final class Transports {
  private Transports() {}

  /** A cluster whose host does not answer: every call fails with a retryable error. */
  public static Transport unavailable() {
    return new Transport() {
      private TransportException down() {
        return new TransportException("connection refused (conformance kit: cluster down)", true);
      }

      @Override
      public CommandResult run(Command command) throws TransportException {
        throw down();
      }

      @Override
      public CompletableFuture<CommandResult> start(Command command) throws TransportException {
        throw down();
      }

      @Override
      public void upload(Path local, String remotePath) throws TransportException {
        throw down();
      }

      @Override
      public void download(String remotePath, Path local) throws TransportException {
        throw down();
      }

      @Override
      public boolean sharesFilesystem() {
        return false;
      }

      @Override
      public String describe() {
        return "unavailable (conformance kit)";
      }
    };
  }
}
