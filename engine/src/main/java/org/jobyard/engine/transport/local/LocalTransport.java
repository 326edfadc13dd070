package org.jobyard.engine.transport.local;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.concurrent.CompletableFuture;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecuteResultHandler;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.Executor;
import org.apache.commons.exec.PumpStreamHandler;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;
import org.jobyard.api.TransportException;

/**
 * Runs commands on the engine's own machine through Apache Commons Exec. Arguments go to the
 * program as they are: no shell is involved unless the command asks for one.
 */
public final class LocalTransport implements Transport {

  @Override
  public CommandResult run(Command command) throws TransportException {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    var watchdog = ExecuteWatchdog.builder().setTimeout(command.timeout()).get();
    var executor = executor(command, out, err, watchdog);
    int exit;
    try {
      exit = executor.execute(commandLine(command), environment(command));
    } catch (ExecuteException e) {
      exit = e.getExitValue();
    } catch (IOException e) {
      throw new TransportException("cannot start '" + command.argv().getFirst() + "': "
          + e.getMessage(), false, e);
    }
    if (watchdog.killedProcess()) {
      throw new TransportException("command timed out after " + command.timeout().toSeconds()
          + "s and was killed: " + abbreviate(command), true);
    }
    return new CommandResult(exit, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Override
  public CompletableFuture<CommandResult> start(Command command) throws TransportException {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    var watchdog = ExecuteWatchdog.builder().setTimeout(command.timeout()).get();
    var executor = executor(command, out, err, watchdog);
    var future = new CompletableFuture<CommandResult>();
    var handler = new DefaultExecuteResultHandler() {
      @Override
      public void onProcessComplete(int exitValue) {
        future.complete(new CommandResult(exitValue, out.toString(StandardCharsets.UTF_8),
            err.toString(StandardCharsets.UTF_8)));
      }

      @Override
      public void onProcessFailed(ExecuteException e) {
        if (watchdog.killedProcess()) {
          future.completeExceptionally(new TransportException(
              "command timed out and was killed: " + abbreviate(command), true, e));
        } else {
          future.complete(new CommandResult(e.getExitValue(), out.toString(StandardCharsets.UTF_8),
              err.toString(StandardCharsets.UTF_8)));
        }
      }
    };
    try {
      executor.execute(commandLine(command), environment(command), handler);
    } catch (IOException e) {
      throw new TransportException("cannot start '" + command.argv().getFirst() + "': "
          + e.getMessage(), false, e);
    }
    return future;
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
    return "local";
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
    } catch (java.nio.file.NoSuchFileException e) {
      throw new TransportException("cannot copy " + from + " to " + to + ": no such file "
          + e.getFile(), false, e);
    } catch (IOException e) {
      throw new TransportException("cannot copy " + from + " to " + to + ": " + e, false, e);
    }
  }

  private static Executor executor(Command command, ByteArrayOutputStream out,
      ByteArrayOutputStream err, ExecuteWatchdog watchdog) {
    var executor = DefaultExecutor.builder().get();
    executor.setExitValues(null); // a non-zero exit is a result, not an error
    executor.setWatchdog(watchdog);
    executor.setStreamHandler(
        new PumpStreamHandler(out, err, new ByteArrayInputStream(command.stdin())));
    return executor;
  }

  private static CommandLine commandLine(Command command) {
    var line = new CommandLine(command.argv().getFirst());
    for (var arg : command.argv().subList(1, command.argv().size())) {
      line.addArgument(arg, false); // false: Commons Exec must not add or strip quotes
    }
    return line;
  }

  private static java.util.Map<String, String> environment(Command command) {
    if (command.environment().isEmpty()) {
      return null; // inherit
    }
    var env = new HashMap<>(System.getenv());
    env.putAll(command.environment());
    return env;
  }

  private static String abbreviate(Command command) {
    var line = command.toShellLine();
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
