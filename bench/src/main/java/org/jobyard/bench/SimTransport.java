package org.jobyard.bench;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.Transport;

/**
 * Counts the commands a backend sends and answers them without running anything: {@code squeue
 * --jobs=...} with every listed job RUNNING (Slurm's common case; without {@code --jobs}, every
 * known job), anything else with exit 0 and
 * no output. Enough to count the calls a poll of N jobs costs, whatever N.
 */
final class SimTransport implements Transport {
  final AtomicLong commands = new AtomicLong();
  final AtomicLong stdinBytes = new AtomicLong();
  /** The native ids the simulated batch system knows, for a listing without {@code --jobs}. */
  private final java.util.List<String> known;

  SimTransport(java.util.List<String> known) {
    this.known = java.util.List.copyOf(known);
  }

  @Override
  public CommandResult run(Command command) {
    commands.incrementAndGet();
    stdinBytes.addAndGet(command.stdin().length);
    var argv = command.argv();
    if (argv.getFirst().endsWith("squeue")) {
      for (var a : argv) {
        if (a.startsWith("--jobs=")) {
          var sb = new StringBuilder();
          for (var id : a.substring(7).split(",")) {
            sb.append(id).append("|RUNNING|None|0:0|\n");
          }
          return new CommandResult(0, sb.toString(), "");
        }
      }
      // the user's whole listing
      var sb = new StringBuilder();
      for (var id : known) {
        sb.append(id).append("|RUNNING|None|0:0|\n");
      }
      return new CommandResult(0, sb.toString(), "");
    }
    return new CommandResult(0, "", "");
  }

  @Override
  public CompletableFuture<CommandResult> start(Command command) {
    return CompletableFuture.completedFuture(run(command));
  }

  @Override
  public void upload(Path local, String remotePath) {}

  @Override
  public void download(String remotePath, Path local) {}

  @Override
  public boolean sharesFilesystem() {
    return false;
  }

  @Override
  public String describe() {
    return "simulated";
  }
}
