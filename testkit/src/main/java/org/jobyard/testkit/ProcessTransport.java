package org.jobyard.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;

/**
 * A minimal transport to this machine on {@link ProcessBuilder}, so that a plugin can run the
 * conformance kit without the engine on its class path. The engine's own transports are what run
 * in production; this one only has to be correct.
 */
public final class ProcessTransport implements Transport {

  @Override
  public CommandResult run(Command command) throws TransportException {
    Process process;
    try {
      var builder = new ProcessBuilder(command.argv());
      builder.environment().putAll(command.environment());
      process = builder.start();
    } catch (IOException e) {
      throw new TransportException("cannot start '" + command.argv().getFirst() + "': "
          + e.getMessage(), false, e);
    }
    var out = drain(process.getInputStream());
    var err = drain(process.getErrorStream());
    try (var stdin = process.getOutputStream()) {
      stdin.write(command.stdin());
    } catch (IOException e) {
      // the command did not read all its input; its result says what happened
    }
    try {
      if (!process.waitFor(command.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new TransportException("command timed out after " + command.timeout()
            + ": " + command.argv().getFirst(), true);
      }
      return new CommandResult(process.exitValue(), out.join(), err.join());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new TransportException("interrupted while running " + command.argv().getFirst(),
          true, e);
    }
  }

  @Override
  public CompletableFuture<CommandResult> start(Command command) throws TransportException {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return run(command);
      } catch (TransportException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
  }

  @Override
  public void upload(Path local, String remotePath) throws TransportException {
    copy(local, Path.of(remotePath));
  }

  @Override
  public void download(String remotePath, Path local) throws TransportException {
    copy(Path.of(remotePath), local);
  }

  @Override
  public boolean sharesFilesystem() {
    return true;
  }

  @Override
  public String describe() {
    return "local (testkit)";
  }

  private static void copy(Path from, Path to) throws TransportException {
    try {
      var parent = to.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (!(Files.exists(to) && Files.isSameFile(from, to))) {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new TransportException("cannot copy " + from + " to " + to + ": " + e, false, e);
    }
  }

  private static CompletableFuture<String> drain(InputStream in) {
    var future = new CompletableFuture<String>();
    Thread.ofVirtual().start(() -> {
      try (in) {
        var buffer = new ByteArrayOutputStream();
        in.transferTo(buffer);
        future.complete(buffer.toString(StandardCharsets.UTF_8));
      } catch (IOException e) {
        future.completeExceptionally(new UncheckedIOException(e));
      }
    });
    return future;
  }
}
