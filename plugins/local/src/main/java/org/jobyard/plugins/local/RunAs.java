package org.jobyard.plugins.local;

import java.util.ArrayList;
import java.util.regex.Pattern;
import org.jobyard.api.BackendException;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;

/**
 * A job that runs as another OS account ({@code native: {local: {run_as: alice}}}, which the
 * engine sets for an API user from the configuration). The engine, as root, drops to that
 * account with {@code setpriv} for everything that touches the job's folder and files: the
 * launch, the job itself, polls, cancels, lookups, logs, staged inputs and collected outputs.
 * So a job cannot plant a link that makes root read or write a file for it.
 */
final class RunAs {
  static final String OPTION = "run_as";
  static final String ATTR = "run_as";
  private static final Pattern ACCOUNT = Pattern.compile("[a-z_][a-z0-9_.-]*");

  /**
   * Runs the rest of its arguments as account $1 with that account's groups and a fresh login
   * environment (HOME, USER, PATH): nothing of the engine's environment reaches the job.
   */
  static final String SHELL_FUNCTION = """
      as_user() {
        a=$1; shift
        g=$(id -g -- "$a" 2>/dev/null) || { echo "no OS account '$a' on this host" >&2; return 125; }
        setpriv --reuid="$a" --regid="$g" --init-groups --reset-env -- "$@"
      }
      """;

  private RunAs() {}

  /** The account a spec runs as, or null for the engine's own. */
  static String of(JobSpec spec) throws BackendException {
    var account = spec.nativeOptions("local").get(OPTION);
    if (account == null) {
      return null;
    }
    if (!ACCOUNT.matcher(account).matches()) {
      throw BackendException.rejected("native.local." + OPTION + ": '" + account
          + "' is not an OS account name");
    }
    return account;
  }

  /** The account an attempt runs as, as recorded with it, or null. */
  static String of(JobRef ref) {
    var account = ref.attributes().get(ATTR);
    return account == null || !ACCOUNT.matcher(account).matches() ? null : account;
  }

  /** {@code command} run as {@code account}, or unchanged for the engine's own account. */
  static Command wrap(String account, Command command) {
    if (account == null) {
      return command;
    }
    var argv = new ArrayList<String>();
    argv.add("sh");
    argv.add("-c");
    argv.add(SHELL_FUNCTION + "as_user \"$@\"");
    argv.add("sh");
    argv.add(account);
    argv.addAll(command.argv());
    return new Command(argv, command.environment(), command.stdin(), command.timeout());
  }

  /** Copies a file as {@code account}, creating the destination's folder. */
  static Command copy(String account, String from, String to) {
    return wrap(account, Command.of("sh", "-c",
        "mkdir -p -- \"$(dirname -- \"$2\")\" && cp -- \"$1\" \"$2\"", "sh", from, to));
  }
}
