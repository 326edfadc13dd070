package org.jobyard.engine.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/jobyard}: the command line. */
@Command(name = "jobyard", mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {"Runs batch jobs on local processes, Slurm, HTCondor and ARC through one engine.",
        "", "Start with:  jobyard run examples/hello.yaml"},
    subcommands = {RunCommand.class, CommandLine.HelpCommand.class},
    footer = {"", "Exit status: 0 all jobs succeeded; 1 some job failed or was cancelled; "
        + "2 invalid input or configuration; 3 the engine failed."})
public final class Main {
  /** Exit codes scripts can rely on. */
  public static final int OK = 0;
  public static final int JOBS_FAILED = 1;
  public static final int BAD_INPUT = 2;
  public static final int ENGINE_FAILED = 3;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  public static int execute(String... args) {
    var cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("jobyard: " + e.getMessage());
      return ENGINE_FAILED;
    });
    return cli.execute(args);
  }

  /** The installation folder: {@code -Djobyard.home}, {@code JOBYARD_HOME}, or the current one. */
  static Path home() {
    var p = System.getProperty("jobyard.home");
    if (p == null || p.isBlank()) {
      p = System.getenv("JOBYARD_HOME");
    }
    return Path.of(p == null || p.isBlank() ? "." : p).toAbsolutePath().normalize();
  }

  /** The given file, else {@code conf/jobyard.yaml} of the home if present, else the defaults. */
  static EngineConfig config(Path explicit) {
    var home = home();
    if (explicit != null) {
      if (!Files.isRegularFile(explicit)) {
        throw new org.jobyard.engine.config.ConfigException(explicit
            + ": configuration file not found");
      }
      return ConfigLoader.load(home, explicit);
    }
    var standard = home.resolve("conf/jobyard.yaml");
    return Files.isRegularFile(standard) ? ConfigLoader.load(home, standard)
        : ConfigLoader.defaults(home);
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
