package org.jobyard.toolkit;

import java.util.ArrayList;
import java.util.List;
import org.jobyard.api.BackendException;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;

/**
 * A backend's own shell functions on the cluster's host, run as {@code sh -c SCRIPT sh OP
 * ARGS...}: the script is constant and every value from a job arrives as an argument, so nothing
 * needs quoting and nothing from a user is ever parsed as shell text. The script dispatches on
 * its first argument ({@code case $1 in submit) ...}).
 */
public final class HostScript {
  private final String script;
  private final ClusterCommands commands;

  public HostScript(String script, ClusterCommands commands) {
    this.script = script;
    this.commands = commands;
  }

  /** The command for one operation, for {@link ClusterCommands#send}. */
  public Command command(String op, List<String> args) {
    var argv = new ArrayList<>(List.of("sh", "-c", script, "sh", op));
    argv.addAll(args);
    return Command.of(argv);
  }

  /** Runs an operation that reads; a cluster that does not answer throws retryably. */
  public CommandResult run(String op, List<String> args) throws BackendException {
    return commands.run(command(op, args), op);
  }

  /** Runs an operation whose failure means the host did not do its part (retryable). */
  public List<String> lines(String op, List<String> args) throws BackendException {
    return commands.runOrUnavailable(command(op, args), op).stdout().lines().toList();
  }
}
