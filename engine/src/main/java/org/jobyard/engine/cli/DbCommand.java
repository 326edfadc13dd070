package org.jobyard.engine.cli;

import java.util.concurrent.Callable;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.store.Database;
import org.jobyard.engine.store.StoreCopy;
import org.jobyard.engine.store.StoreException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jobyard db ...}: the job store itself. */
@Command(name = "db", mixinStandardHelpOptions = true,
    description = "The job store: move an installation's store to another database.",
    subcommands = DbCommand.Migrate.class)
final class DbCommand {

  @Command(name = "migrate", mixinStandardHelpOptions = true,
      description = {"Copies every job of this installation's store (finished and live, with "
          + "their attempts and pending clean-ups) into an empty store at --to, typically an "
          + "embedded H2 store to PostgreSQL, in one transaction: all or nothing. The source is "
          + "left as it was. Refused while an engine uses the source (stop it first).",
          "",
          "Then point database.url (conf/jobyard.yaml or JOBYARD_DATABASE_URL) at the new store "
              + "and start the engine(s): the first engine takes the live jobs on and carries "
              + "on with them."},
      footer = {"", "Exit status: 0 moved; 2 bad target or a target that already holds jobs; "
          + "3 the source is in use or a database does not answer.", "", "Examples:",
          "  jobyard db migrate --to jdbc:postgresql://db/jobyard --user jobyard "
              + "--password file:/etc/jobyard/db-password",
          "  jobyard db migrate --to jdbc:postgresql://db/jobyard --password env:PGPASSWORD"})
  static final class Migrate implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--to", required = true, paramLabel = "URL",
        description = "JDBC URL of the target store (an empty database or schema)")
    String to;

    @Option(names = "--user", paramLabel = "USER", defaultValue = "jobyard",
        description = "the target's user (default: ${DEFAULT-VALUE})")
    String user;

    @Option(names = "--password", paramLabel = "REF", defaultValue = "",
        description = "the target's password as file:PATH or env:NAME (or the value itself)")
    String password;

    @Override
    public Integer call() {
      var layout = Main.layout(null);
      var config = Main.configured(() -> layout.load(System.getenv()));
      var targetPassword = Main.configured(() -> ConfigLoader.secretRef(password, config.home(),
          "--password"));
      var source = config.database();
      if (source.url().equals(to)) {
        throw new CliException(Main.BAD_INPUT, "--to " + to + " is the store this installation "
            + "already uses; give another database");
      }
      var target = new EngineConfig.Database(to, user, targetPassword, 2);
      try (var from = open(source, "the source store (is an engine using it? stop it first)");
          var into = open(target, "the target store")) {
        var moved = StoreCopy.copy(from, into);
        var out = spec.commandLine().getOut();
        out.println("moved " + moved.jobs() + " job(s) (" + moved.live() + " live), "
            + moved.attempts() + " attempt(s) and " + moved.outbox() + " pending clean-up(s) from "
            + source.url() + " to " + to);
        out.println("next: set database.url to " + to + " (conf/jobyard.yaml or "
            + "JOBYARD_DATABASE_URL) and start the engine; " + source.url() + " is left as it was");
        out.flush();
        return Main.OK;
      } catch (StoreCopy.TargetNotEmpty e) {
        throw new CliException(Main.BAD_INPUT, e.getMessage());
      } catch (StoreException e) {
        throw new CliException(Main.ENGINE_FAILED, e.getMessage());
      }
    }

    private static Database open(EngineConfig.Database db, String what) {
      try {
        return new Database(db);
      } catch (StoreException e) {
        throw new CliException(Main.ENGINE_FAILED, "cannot open " + what + ": " + e.getMessage());
      }
    }
  }
}
