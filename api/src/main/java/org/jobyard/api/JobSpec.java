package org.jobyard.api;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A backend-neutral job: what a user asked to run, as read from the job file or the REST API.
 *
 * <p>A job runs either one {@link #executable()} with {@link #arguments()}, or a list of {@link
 * #steps()} in sequence (the first failing step ends the job). All values are data: a backend
 * must quote them for any shell it passes them through (see {@link ShellQuoting}).
 *
 * @param name the user's name for the job (not unique)
 * @param session optional grouping label (drunc's session)
 * @param user the owner, filled in by the engine
 * @param steps the commands to run in order; never empty (a single executable is one step)
 * @param environment extra environment variables for every step
 * @param directory working directory on the execution host, or {@code null} for the job's sandbox
 * @param stdout where the job's standard output ends up on the engine's machine, or {@code null}
 * @param stderr where the job's standard error ends up on the engine's machine, or {@code null}
 * @param resources what the job needs
 * @param queue queue or partition, or {@code null} for the cluster's default
 * @param account account to charge, or {@code null}
 * @param inputFiles files staged to the job before it starts
 * @param outputFiles files fetched back after it ends
 * @param clusters clusters the job may run on, tried in order; empty means the engine's default
 * @param retries how many more attempts after a failed one
 * @param nativeOptions per-backend escape hatch: backend name to its own options
 * @param after jobs this one waits for: the engine's business (across clusters), not a backend's
 * @param retryRule which failures {@code retries} covers, or {@code null} for every failure
 * @param successExitCodes exit codes that count as success; empty means {@code [0]}
 * @param placement how the job's processes are laid out on nodes, and where; never null
 * @param stdin the file the job's standard input is read from: a path relative to the job's
 *     working directory, where the engine stages it as one of {@code inputFiles}; {@code null}
 *     for none (an empty input). Backends that run it declare {@link Capability#STDIN}
 * @param inheritEnvironment which variables of the submitting environment (where the batch
 *     system's submit command runs) the job sees besides {@code environment}: names, {@code *}
 *     matching any characters; empty (the default) means none, only the execution host's basics
 *     ({@code HOME}, {@code PATH}, ...) and the batch system's own; {@code ["*"]} means all.
 *     Backends that honour a non-empty list declare {@link Capability#INHERIT_ENVIRONMENT}
 * @param priority the order of the owner's queued jobs within a session: higher first (from
 *     {@value #MIN_PRIORITY} to {@value #MAX_PRIORITY}, default 0); between users and sessions
 *     the engine's fair share decides
 */
public record JobSpec(
    String name,
    String session,
    String user,
    List<Step> steps,
    Map<String, String> environment,
    String directory,
    String stdout,
    String stderr,
    Resources resources,
    String queue,
    String account,
    List<FileTransfer> inputFiles,
    List<FileTransfer> outputFiles,
    List<String> clusters,
    int retries,
    Map<String, Map<String, String>> nativeOptions,
    List<Dependency> after,
    RetryRule retryRule,
    List<Integer> successExitCodes,
    Placement placement,
    String stdin,
    List<String> inheritEnvironment,
    int priority) {

  /** {@link #inheritEnvironment()} for the whole submitting environment. */
  public static final List<String> INHERIT_ALL = List.of("*");
  public static final int MIN_PRIORITY = -1000;
  public static final int MAX_PRIORITY = 1000;

  public JobSpec {
    requireNonNull(name, "name is null");
    steps = List.copyOf(requireNonNull(steps, "steps is null"));
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a job needs at least one step");
    }
    environment = Map.copyOf(requireNonNull(environment, "environment is null"));
    resources = resources == null ? Resources.NONE : resources;
    inputFiles = List.copyOf(requireNonNull(inputFiles, "inputFiles is null"));
    outputFiles = List.copyOf(requireNonNull(outputFiles, "outputFiles is null"));
    clusters = List.copyOf(requireNonNull(clusters, "clusters is null"));
    if (retries < 0) {
      throw new IllegalArgumentException("retries must be >= 0, got " + retries);
    }
    nativeOptions = Map.copyOf(requireNonNull(nativeOptions, "nativeOptions is null"));
    after = after == null ? List.of() : List.copyOf(after); // null: stored before dependencies
    successExitCodes = successExitCodes == null ? List.of() : List.copyOf(successExitCodes);
    placement = placement == null ? Placement.NONE : placement; // null: stored before placement
    if (stdin != null && (stdin.isBlank() || stdin.indexOf('\0') >= 0)) {
      throw new IllegalArgumentException("stdin must name a file, got '" + stdin + "'");
    }
    // null: stored before inherit_environment, when no backend was told to clean the environment
    inheritEnvironment = inheritEnvironment == null ? List.of() : List.copyOf(inheritEnvironment);
    for (var pattern : inheritEnvironment) {
      if (!isVariablePattern(pattern)) {
        throw new IllegalArgumentException("inherit_environment: '" + pattern + "' is not a "
            + "variable name or a pattern of one (letters, digits, '_' and '*')");
      }
    }
    if (priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
      throw new IllegalArgumentException("priority must be from " + MIN_PRIORITY + " to "
          + MAX_PRIORITY + ", got " + priority);
    }
  }

  /** A job with no standard input, none of the submitting environment, the default priority. */
  public JobSpec(String name, String session, String user, List<Step> steps,
      Map<String, String> environment, String directory, String stdout, String stderr,
      Resources resources, String queue, String account, List<FileTransfer> inputFiles,
      List<FileTransfer> outputFiles, List<String> clusters, int retries,
      Map<String, Map<String, String>> nativeOptions, List<Dependency> after, RetryRule retryRule,
      List<Integer> successExitCodes, Placement placement) {
    this(name, session, user, steps, environment, directory, stdout, stderr, resources, queue,
        account, inputFiles, outputFiles, clusters, retries, nativeOptions, after, retryRule,
        successExitCodes, placement, null, List.of(), 0);
  }

  /** A job with the default priority (0). */
  public JobSpec(String name, String session, String user, List<Step> steps,
      Map<String, String> environment, String directory, String stdout, String stderr,
      Resources resources, String queue, String account, List<FileTransfer> inputFiles,
      List<FileTransfer> outputFiles, List<String> clusters, int retries,
      Map<String, Map<String, String>> nativeOptions, List<Dependency> after, RetryRule retryRule,
      List<Integer> successExitCodes, Placement placement, String stdin,
      List<String> inheritEnvironment) {
    this(name, session, user, steps, environment, directory, stdout, stderr, resources, queue,
        account, inputFiles, outputFiles, clusters, retries, nativeOptions, after, retryRule,
        successExitCodes, placement, stdin, inheritEnvironment, 0);
  }

  /** A job with no standard input that inherits none of the submitting environment. */
  public JobSpec(String name, String session, String user, List<Step> steps,
      Map<String, String> environment, String directory, String stdout, String stderr,
      Resources resources, String queue, String account, List<FileTransfer> inputFiles,
      List<FileTransfer> outputFiles, List<String> clusters, int retries,
      Map<String, Map<String, String>> nativeOptions, List<Dependency> after, RetryRule retryRule,
      List<Integer> successExitCodes, Placement placement, int priority) {
    this(name, session, user, steps, environment, directory, stdout, stderr, resources, queue,
        account, inputFiles, outputFiles, clusters, retries, nativeOptions, after, retryRule,
        successExitCodes, placement, null, List.of(), priority);
  }

  /**
   * Whether {@code pattern} may be an entry of {@link #inheritEnvironment()}: letters, digits,
   * {@code _} and {@code *}, so that it is safe as a shell {@code case} pattern.
   */
  public static boolean isVariablePattern(String pattern) {
    return pattern != null && pattern.matches("[A-Za-z_*][A-Za-z0-9_*]*");
  }

  /** A job with the default placement: one process, nodes shared, no reservation. */
  public JobSpec(String name, String session, String user, List<Step> steps,
      Map<String, String> environment, String directory, String stdout, String stderr,
      Resources resources, String queue, String account, List<FileTransfer> inputFiles,
      List<FileTransfer> outputFiles, List<String> clusters, int retries,
      Map<String, Map<String, String>> nativeOptions, List<Dependency> after, RetryRule retryRule,
      List<Integer> successExitCodes) {
    this(name, session, user, steps, environment, directory, stdout, stderr, resources, queue,
        account, inputFiles, outputFiles, clusters, retries, nativeOptions, after, retryRule,
        successExitCodes, Placement.NONE);
  }

  /** A job that waits for no other job. */
  public JobSpec(String name, String session, String user, List<Step> steps,
      Map<String, String> environment, String directory, String stdout, String stderr,
      Resources resources, String queue, String account, List<FileTransfer> inputFiles,
      List<FileTransfer> outputFiles, List<String> clusters, int retries,
      Map<String, Map<String, String>> nativeOptions) {
    this(name, session, user, steps, environment, directory, stdout, stderr, resources, queue,
        account, inputFiles, outputFiles, clusters, retries, nativeOptions, List.of(), null,
        List.of());
  }

  /** A job with one step and nothing else set: handy for tests and examples. */
  public static JobSpec of(String name, String executable, String... arguments) {
    return new JobSpec(name, null, null, List.of(new Step(executable, List.of(arguments))),
        Map.of(), null, null, null, Resources.NONE, null, null, List.of(), List.of(), List.of(), 0,
        Map.of());
  }

  /** The options given for one backend, empty if none. */
  public Map<String, String> nativeOptions(String backend) {
    return nativeOptions.getOrDefault(backend, Map.of());
  }

  public Optional<String> sessionName() {
    return Optional.ofNullable(session);
  }

  public JobSpec withUser(String newUser) {
    return new JobSpec(name, session, newUser, steps, environment, directory, stdout, stderr,
        resources, queue, account, inputFiles, outputFiles, clusters, retries, nativeOptions,
        after, retryRule, successExitCodes, placement, stdin, inheritEnvironment, priority);
  }

  public JobSpec withEnvironment(Map<String, String> newEnvironment) {
    return new JobSpec(name, session, user, steps, newEnvironment, directory, stdout, stderr,
        resources, queue, account, inputFiles, outputFiles, clusters, retries, nativeOptions,
        after, retryRule, successExitCodes, placement, stdin, inheritEnvironment, priority);
  }

  public JobSpec withAfter(List<Dependency> newAfter) {
    return new JobSpec(name, session, user, steps, environment, directory, stdout, stderr,
        resources, queue, account, inputFiles, outputFiles, clusters, retries, nativeOptions,
        newAfter, retryRule, successExitCodes, placement, stdin, inheritEnvironment, priority);
  }

  /**
   * Which failed attempts {@code retries} retries: those that exited with one of
   * {@code exitCodes}, and, if {@code lost}, those that ended without an exit code (lost, evicted,
   * node failure, killed); neither given means every failure. With {@code elsewhere}, each
   * retry goes to the next of the job's clusters (after the last, the first again). The first
   * retry is submitted {@code delay} after the failed attempt ended, each later one {@code
   * backoff} times as long after its predecessor (see the engine's RetryRules for the cap).
   */
  public record RetryRule(List<Integer> exitCodes, boolean lost, boolean elsewhere,
      Duration delay, double backoff) {
    public RetryRule {
      exitCodes = exitCodes == null ? List.of() : List.copyOf(exitCodes);
      delay = delay == null ? Duration.ZERO : delay; // null: stored before retry delays
      if (delay.isNegative()) {
        throw new IllegalArgumentException("retry delay must not be negative, got " + delay);
      }
      backoff = backoff == 0 ? 1 : backoff; // 0: stored before retry delays
      if (!(backoff >= 1)) {
        throw new IllegalArgumentException("retry backoff must be >= 1, got " + backoff);
      }
    }

    /** A rule whose retries start at once. */
    public RetryRule(List<Integer> exitCodes, boolean lost, boolean elsewhere) {
      this(exitCodes, lost, elsewhere, Duration.ZERO, 1);
    }
  }

  /** A copy with another placement. */
  public JobSpec withPlacement(Placement newPlacement) {
    return new JobSpec(name, session, user, steps, environment, directory, stdout, stderr,
        resources, queue, account, inputFiles, outputFiles, clusters, retries, nativeOptions,
        after, retryRule, successExitCodes, newPlacement, stdin, inheritEnvironment, priority);
  }

  /** A copy with other per-backend options. */
  public JobSpec withNativeOptions(Map<String, Map<String, String>> newOptions) {
    return new JobSpec(name, session, user, steps, environment, directory, stdout, stderr,
        resources, queue, account, inputFiles, outputFiles, clusters, retries, newOptions,
        after, retryRule, successExitCodes, placement, stdin, inheritEnvironment, priority);
  }

  /** A copy with another standard input file ({@code null}: none). */
  public JobSpec withStdin(String newStdin) {
    return new JobSpec(name, session, user, steps, environment, directory, stdout, stderr,
        resources, queue, account, inputFiles, outputFiles, clusters, retries, nativeOptions,
        after, retryRule, successExitCodes, placement, newStdin, inheritEnvironment, priority);
  }

  /** A copy with other paths on the engine's machine and working directory. */
  public JobSpec withPaths(String newDirectory, String newStdout, String newStderr,
      List<FileTransfer> newInputs, List<FileTransfer> newOutputs) {
    return new JobSpec(name, session, user, steps, environment, newDirectory, newStdout,
        newStderr, resources, queue, account, newInputs, newOutputs, clusters, retries,
        nativeOptions, after, retryRule, successExitCodes, placement, stdin, inheritEnvironment,
        priority);
  }

  /** Whether the job sees the whole submitting environment. */
  public boolean inheritsAllEnvironment() {
    return inheritEnvironment.contains("*");
  }

  /**
   * Where and how wide a job runs (Slurm's {@code --ntasks}, {@code --ntasks-per-node}, {@code
   * --exclusive}, {@code --reservation}, {@code --tmp}). A backend that cannot honour a field that
   * is set declares no {@link Capability} for it, and the engine refuses such jobs at submit.
   *
   * @param processes how many processes (tasks) to start; 0: the backend's default (one)
   * @param processesPerNode at most this many per node; 0: no limit
   * @param exclusive whether the job's nodes may run no other job
   * @param reservation the batch system's reservation to run in, or {@code null}
   * @param diskMb local scratch disk per node in MiB; 0: no request
   */
  public record Placement(int processes, int processesPerNode, boolean exclusive,
      String reservation, long diskMb) {
    public static final Placement NONE = new Placement(0, 0, false, null, 0);

    public Placement {
      if (processes < 0 || processesPerNode < 0 || diskMb < 0) {
        throw new IllegalArgumentException("processes, processes per node and disk must be >= 0"
            + ", got " + processes + ", " + processesPerNode + ", " + diskMb);
      }
    }
  }

  /** When a dependency counts as met: Slurm's afterok, afterany and afternotok. */
  public enum Condition {
    /** The job it waits for succeeded. */
    SUCCESS,
    /** The job it waits for ended, however. */
    ANY,
    /** The job it waits for failed or was cancelled. */
    FAILURE
  }

  /**
   * An edge of the job graph: wait for {@code job} (a name of the same submission as read; the
   * job's id once the engine has accepted it) to end as {@code condition} says.
   */
  public record Dependency(String job, Condition condition) {
    public Dependency {
      requireNonNull(job, "job is null");
      requireNonNull(condition, "condition is null");
    }
  }

  /** One command of a job. */
  public record Step(String executable, List<String> arguments) {
    public Step {
      requireNonNull(executable, "executable is null");
      if (executable.isEmpty()) {
        throw new IllegalArgumentException("executable is empty");
      }
      arguments = List.copyOf(requireNonNull(arguments, "arguments is null"));
    }

    /** The executable followed by its arguments. */
    public List<String> argv() {
      var argv = new java.util.ArrayList<String>(arguments.size() + 1);
      argv.add(executable);
      argv.addAll(arguments);
      return List.copyOf(argv);
    }
  }

  /**
   * A file to move between the engine's machine and the job: {@code source} is read, {@code
   * destination} written. For inputs the source is on the engine's machine and the destination
   * relative to the job's directory; for outputs the other way round. An input's source may
   * instead be a URL ({@code scheme://...}) that the cluster fetches itself (see {@link
   * #fromUrl()}).
   */
  public record FileTransfer(String source, String destination) {
    private static final java.util.regex.Pattern URL =
        java.util.regex.Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+://");

    public FileTransfer {
      requireNonNull(source, "source is null");
      requireNonNull(destination, "destination is null");
    }

    /**
     * Whether the source is a URL the cluster fetches itself rather than a path on the engine's
     * machine; only backends declaring {@link Capability#URL_INPUTS} are given such an input.
     */
    public boolean fromUrl() {
      return isUrl(source);
    }

    /** Whether an input's source names a URL ({@code scheme://...}) rather than a path. */
    public static boolean isUrl(String source) {
      return URL.matcher(source).lookingAt();
    }
  }
}
