package org.jobyard.engine.cli;

import java.nio.file.Path;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.config.Layout;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code bin/jobyard}: the command line. */
@Command(name = "jobyard", mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {"Runs batch jobs on local processes, Slurm, HTCondor and ARC through one engine.",
        "",
        "Start with:  jobyard run examples/hello.yaml   (an engine just for these jobs)",
        "Or keep one running:  jobyard engine   and, from another terminal:",
        "  jobyard submit examples/hello.yaml",
        "  jobyard ps",
        "  jobyard logs -f <id>",
        "",
        "'jobyard help VERB' or 'jobyard VERB --help' explains a verb with examples."},
    footer = {"", "Selecting jobs (ps, kill, restart, flush, logs, pause, resume): job ids, "
        + "--id, --name, --user, --session (any of them matches), narrowed by --state.",
        "Every verb prints a table, or JSON with -o json.",
        "", "Exit status: 0 done (for run: all jobs succeeded); 1 some job failed or was "
        + "cancelled, nothing matched, or the jobs' state refused the request; 2 invalid input, "
        + "configuration or credentials; 3 the engine is unreachable or failed.",
        "", "Environment: JOBYARD_ENGINE (engine URL), JOBYARD_TOKEN (API token), "
        + "JOBYARD_LOG_LEVEL (console log level), JOBYARD_JAVA_OPTS (JVM options), "
        + "JOBYARD_HOME (state folder, as --home), JOBYARD_CONFIG (configuration file); "
        + "'jobyard config' shows what is in force and why."})
public final class Main {
  /** Exit codes scripts can rely on. */
  public static final int OK = 0;
  public static final int JOBS_FAILED = 1;
  public static final int BAD_INPUT = 2;
  public static final int ENGINE_FAILED = 3;

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("engine") && System.getenv("JOBYARD_LOG_LEVEL") == null
        && System.getProperty("JOBYARD_LOG_LEVEL") == null) {
      // the daemon's console shows what it does; the other verbs keep it for their own output
      System.setProperty("JOBYARD_LOG_LEVEL", "INFO");
    }
    // logback reads the log folder once, when the first logger is made: before picocli parses
    Path home = null;
    for (int i = 0; i < args.length && !args[i].equals("--"); i++) {
      if (args[i].equals("--home") && i + 1 < args.length) {
        home = Path.of(args[i + 1]);
      } else if (args[i].startsWith("--home=")) {
        home = Path.of(args[i].substring("--home=".length()));
      }
    }
    try {
      System.setProperty("jobyard.state", Layout.discover(home, null).state().toString());
    } catch (RuntimeException e) {
      // the verb reports the bad value in its own words
    }
    System.exit(execute(args));
  }

  public static int execute(String... args) {
    return execute(null, null, args);
  }

  /** Runs a command with its output and errors going to the given writers (null: the console). */
  public static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
    var cli = new CommandLine(new Main());
    for (var name : verbsFor(args)) {
      cli.addSubcommand(verb(name));
    }
    if (out != null) {
      cli.setOut(out);
    }
    if (err != null) {
      cli.setErr(err);
    }
    cli.setExecutionExceptionHandler(new Failures());
    return cli.execute(args);
  }

  /**
   * A verb's failure as one line (or, with -o json, as the API's error document) and its exit
   * code. A class, not a lambda: no lambda of Main is spun at the start of every call.
   */
  private static final class Failures implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cmd,
        CommandLine.ParseResult parsed) {
      if (e instanceof CliException c) {
        if (wantsJson(parsed)) {
          // scripts that asked for JSON get the error as JSON on stdout, as the API answers it
          cmd.getOut().println(errorJson(c.exitCode, c.getMessage()));
          cmd.getOut().flush();
          return c.exitCode;
        }
        cmd.getErr().println("jobyard " + cmd.getCommandName() + ": " + c.getMessage());
        cmd.getErr().flush();
        debug(cmd.getErr(), c);
        return c.exitCode;
      }
      cmd.getErr().println("jobyard: " + e.getMessage());
      debug(cmd.getErr(), e);
      return ENGINE_FAILED;
    }
  }

  /**
   * Every verb, in the order help lists them. A verb is made only when it is registered, and
   * picocli makes each registered verb at once: so that a client verb ({@code ps}, {@code logs},
   * ...) does not load the engine, the store, Guice or logback, only the verb asked for is
   * registered when the first word names one; help, completion and a mistyped verb see all.
   */
  static final java.util.List<String> VERBS = java.util.List.of("run", "engine", "submit", "ps",
      "show", "kill", "restart", "flush", "logs", "pause", "resume", "backends", "drain",
      "undrain", "reload", "config", "db", "completion", "help");

  /**
   * The command object of one verb. A switch, not a table of lambdas or constructor references:
   * a branch loads its class only when it runs, and each lambda would be a class the JVM spins
   * at every start (20 of them were a visible part of a client call's CPU; ClientStartupTest
   * fails if a lambda of Main is spun for {@code ps}).
   */
  static Object verb(String name) {
    return switch (name) {
      case "run" -> new RunCommand();
      case "engine" -> new EngineCommand();
      case "submit" -> new JobCommands.Submit();
      case "ps" -> new JobCommands.Ps();
      case "show" -> new ShowCommand();
      case "kill" -> new JobCommands.Kill();
      case "restart" -> new JobCommands.Restart();
      case "flush" -> new JobCommands.Flush();
      case "logs" -> new JobCommands.Logs();
      case "pause" -> new JobCommands.Pause();
      case "resume" -> new JobCommands.Resume();
      case "backends" -> new JobCommands.Backends();
      case "drain" -> new JobCommands.Drain();
      case "undrain" -> new JobCommands.Undrain();
      case "reload" -> new JobCommands.Reload();
      case "config" -> new ConfigCommand();
      case "db" -> new DbCommand();
      case "completion" -> new CompletionCommand();
      case "help" -> new CommandLine.HelpCommand();
      default -> throw new IllegalArgumentException("no verb '" + name + "'");
    };
  }

  /** The names of the verbs to register for {@code args}: the one it names, else all of them. */
  static java.util.List<String> verbsFor(String... args) {
    String first = null;
    for (int i = 0; i < args.length && first == null; i++) {
      if (args[i].equals("--home")) {
        i++; // its value
      } else if (!args[i].startsWith("--home=") && !args[i].equals("--debug")) {
        first = args[i];
      }
    }
    // help and completion describe every verb
    if (first != null && VERBS.contains(first) && !first.equals("help")
        && !first.equals("completion")) {
      return java.util.List.of(first);
    }
    return VERBS;
  }

  private static boolean wantsJson(CommandLine.ParseResult parsed) {
    for (var p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("-o") && "json".equals(p.matchedOptionValue("-o", ""))) {
        return true;
      }
    }
    return false;
  }

  /** {@code {"error": {"code", "exit", "message"}}}: the code names the exit status's meaning. */
  static String errorJson(int exit, String message) {
    var code = switch (exit) {
      case BAD_INPUT -> "invalid";
      case ENGINE_FAILED -> "unavailable";
      default -> "refused";
    };
    var body = new java.util.LinkedHashMap<String, Object>();
    body.put("code", code);
    body.put("exit", exit);
    body.put("message", message);
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper()
          .writeValueAsString(java.util.Map.of("error", body));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code --home}: a folder of state (its var/) and, optionally, conf/jobyard.yaml. */
  @Option(names = "--home", paramLabel = "DIR", scope = ScopeType.INHERIT,
      description = "keep state (store, logs, run files) in DIR/var and read DIR/conf/jobyard.yaml "
          + "if present (default: JOBYARD_HOME, else the installation's var/ when writable, "
          + "else $XDG_STATE_HOME/jobyard or ~/.local/state/jobyard)")
  void setHome(Path dir) {
    homeOption = dir;
  }

  @Option(names = "--debug", scope = ScopeType.INHERIT,
      description = "print the stack trace of a failure (start-up problems are one line without)")
  void setDebug(boolean on) {
    debug = on;
  }

  private static volatile Path homeOption;
  private static volatile boolean debug;

  /** Where the installation, the state and the configuration are (see {@link Layout}). */
  static Layout layout(Path configOption) {
    try { // not through configured(): every client call comes here, and that takes a lambda
      return Layout.discover(homeOption, configOption);
    } catch (ConfigException e) {
      throw new CliException(BAD_INPUT, e.getMessage());
    }
  }

  /**
   * What {@code reading} makes of the configuration (the layout, the settings, a secret it
   * names): a configuration error is exit 2 with the error's message, which names file and key.
   */
  static <T> T configured(java.util.function.Supplier<T> reading) {
    try {
      return reading.get();
    } catch (ConfigException e) {
      throw new CliException(BAD_INPUT, e.getMessage());
    }
  }

  /** The state folder of this run: the engine's var/run files are in its {@code run/}. */
  static Path state() {
    return layout(null).state();
  }

  /** The configuration found by {@link Layout}, with the environment's overrides. */
  static EngineConfig config(Path explicit) {
    return Layout.discover(homeOption, explicit).load(System.getenv());
  }

  /** With --debug, the whole stack trace of a failure already reported in one line. */
  static void debug(java.io.PrintWriter err, Throwable e) {
    if (debug) {
      e.printStackTrace(err);
      err.flush();
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      var v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"jobyard " + (v == null ? "(development build)" : v),
          "Java " + Runtime.version() + " (" + System.getProperty("java.home") + ")"};
    }
  }
}
