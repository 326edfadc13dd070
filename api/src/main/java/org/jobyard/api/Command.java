package org.jobyard.api;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A command for a {@link Transport}.
 *
 * @param argv program and arguments, passed unchanged (quoted by the transport where needed)
 * @param environment extra environment variables
 * @param stdin bytes written to the command's standard input, then closed
 * @param timeout how long to wait before the command is killed and a retryable {@link
 *     TransportException} thrown
 */
public record Command(List<String> argv, Map<String, String> environment, byte[] stdin,
    Duration timeout) {

  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  public Command {
    argv = List.copyOf(requireNonNull(argv, "argv is null"));
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("argv is empty");
    }
    environment = Map.copyOf(requireNonNull(environment, "environment is null"));
    stdin = stdin == null ? new byte[0] : stdin.clone();
    requireNonNull(timeout, "timeout is null");
  }

  public static Command of(String... argv) {
    return new Command(List.of(argv), Map.of(), null, DEFAULT_TIMEOUT);
  }

  public static Command of(List<String> argv) {
    return new Command(argv, Map.of(), null, DEFAULT_TIMEOUT);
  }

  /** {@code sh -c script}: the script is shell text, so quote what you put into it. */
  public static Command shell(String script) {
    return of("sh", "-c", script);
  }

  public Command withStdin(String text) {
    return new Command(argv, environment, text.getBytes(StandardCharsets.UTF_8), timeout);
  }

  public Command withTimeout(Duration newTimeout) {
    return new Command(argv, environment, stdin, newTimeout);
  }

  public Command withEnvironment(Map<String, String> env) {
    return new Command(argv, env, stdin, timeout);
  }

  @Override
  public byte[] stdin() {
    return stdin.clone();
  }

  /** The command as one line of POSIX shell, every argument quoted. */
  public String toShellLine() {
    var sb = new StringBuilder();
    for (var e : environment.entrySet()) {
      sb.append(e.getKey()).append('=').append(ShellQuoting.quote(e.getValue())).append(' ');
    }
    return sb.append(ShellQuoting.join(argv)).toString();
  }

  @Override
  public String toString() {
    return toShellLine();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Command c && argv.equals(c.argv) && environment.equals(c.environment)
        && java.util.Arrays.equals(stdin, c.stdin) && timeout.equals(c.timeout);
  }

  @Override
  public int hashCode() {
    return argv.hashCode() * 31 + java.util.Arrays.hashCode(stdin);
  }
}
