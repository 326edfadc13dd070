package org.jobyard.engine.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.EngineConfig;
import org.jobyard.engine.control.JobControl;
import org.jobyard.engine.http.ApiServer;
import org.jobyard.engine.http.Authenticator;
import org.jobyard.engine.security.Exposure;
import org.jobyard.engine.security.PemTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jobyard engine}: the long-running engine with its REST API, in the foreground. */
@Command(name = "engine", mixinStandardHelpOptions = true,
    description = {
        "Runs the engine in the foreground with its REST API, until SIGTERM or Ctrl-C.",
        "",
        "Its state folder is var/ of the installation when writable, else "
            + "~/.local/state/jobyard (or --home DIR / JOBYARD_HOME: DIR/var); below, var/ "
            + "stands for it and 'jobyard config' shows it.",
        "",
        "With no configuration it stores jobs in H2 under var/db, runs them as local processes, "
            + "and listens on 127.0.0.1 on a free port. It prints 'API listening on <URL>', "
            + "logs to var/log/jobyard.log and the console, and writes the URL to "
            + "var/run/engine.url and a fresh token for the local user (an admin) to "
            + "var/run/token, readable by that user only. The other verbs (submit, ps, logs, ...) "
            + "find both there, so on this machine they need no setup.",
        "",
        "Other users call the API with tokens from the configuration:",
        "  api:",
        "    listen: 0.0.0.0:8642",
        "    tls: {certificate: /etc/jobyard/cert.pem, key: /etc/jobyard/key.pem}",
        "    tokens:",
        "      - {user: alice, token_file: /etc/jobyard/alice.token, account: alice}",
        "      - {user: ops, token: 4f2c...e91a, admin: true}",
        "A cluster serves only the engine's owner unless its 'users' name others; beyond "
            + "loopback the API needs TLS or 'insecure: true'. See docs/security.md.",
        "",
        "SIGTERM or SIGINT stops in order: the API closes, the job manager finishes what it is "
            + "doing and commits, the store and clusters close, var/run is cleaned; exit 0. "
            + "Jobs keep running on their clusters and are picked up at the next start."},
    footer = {"", "Exit status: 0 stopped on request; 2 invalid configuration; 3 the engine "
        + "failed or another engine already runs from this installation.",
        "", "Examples:", "  bin/jobyard engine",
        "  bin/jobyard engine --config /etc/jobyard/jobyard.yaml",
        "  nohup bin/jobyard engine > var/log/console.out 2>&1 &"})
final class EngineCommand implements java.util.concurrent.Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(EngineCommand.class);

  @Spec
  CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE",
      description = "engine configuration (default: JOBYARD_CONFIG, "
          + "~/.config/jobyard/jobyard.yaml, conf/jobyard.yaml of the installation; "
          + "'jobyard config' shows which)")
  Path configFile;

  @Override
  public Integer call() {
    var out = spec.commandLine().getOut();
    var err = spec.commandLine().getErr();
    EngineConfig config;
    try {
      config = Main.config(configFile);
    } catch (ConfigException e) {
      err.println("jobyard engine: configuration: " + e.getMessage());
      return Main.BAD_INPUT;
    }
    String exposed;
    PemTls tls;
    try {
      exposed = Exposure.check(config.api());
      tls = config.api().tls() == null ? null
          : PemTls.load(config.api().tls().certificate(), config.api().tls().key());
    } catch (ConfigException e) {
      err.println("jobyard engine: configuration: " + e.getMessage());
      return Main.BAD_INPUT;
    }
    if (exposed != null) {
      LOG.warn("{}", exposed);
      err.println("jobyard engine: WARNING: " + exposed);
      err.flush();
    }
    var run = config.varDir().resolve("run");
    var urlFile = run.resolve("engine.url");
    var tokenFile = run.resolve("token");
    var running = Client.runningEngine(urlFile);
    if (running != null) {
      err.println("jobyard engine: an engine already runs from " + config.varDir() + " at "
          + running + "; stop it first (or give this one its own state folder: --home DIR)");
      return Main.ENGINE_FAILED;
    }

    Engine engine;
    try {
      engine = Engine.create(config).start();
    } catch (ConfigException e) {
      err.println("jobyard engine: configuration: " + e.getMessage());
      return Main.BAD_INPUT;
    } catch (RuntimeException e) {
      err.println("jobyard engine: the engine did not start: " + RunCommand.rootMessage(e));
      Main.debug(err, e);
      return Main.ENGINE_FAILED;
    }
    engine.reloadFrom(() -> Main.config(configFile));
    onHangup(engine);
    var localUser = System.getProperty("user.name");
    var localToken = Authenticator.newToken();
    var tokens = new ArrayList<>(config.api().tokens());
    tokens.add(new EngineConfig.Api.Token(localUser, localToken, true));
    ApiServer server;
    try {
      server = new ApiServer(new JobControl(engine), new Authenticator(tokens),
          config.api().listen(), ApiServer.DEFAULT_MAX_BODY, tls).start();
    } catch (RuntimeException e) {
      engine.close();
      err.println("jobyard engine: the API cannot listen on " + config.api().listen() + ": "
          + RunCommand.rootMessage(e));
      return Main.ENGINE_FAILED;
    }
    var url = server.url().toString();
    try {
      Files.createDirectories(run);
      writeAtomically(tokenFile, localToken + "\n", true);
      writeAtomically(urlFile, url + "\n", true); // var/ is the engine account's alone
    } catch (IOException e) {
      server.close();
      engine.close();
      err.println("jobyard engine: cannot write " + run + ": " + e.getMessage());
      return Main.ENGINE_FAILED;
    }

    var stop = new CountDownLatch(1);
    var reason = new AtomicReference<String>();
    var stopped = new CountDownLatch(1);
    Runnable shutdown = () -> {
      synchronized (stopped) {
        if (stopped.getCount() == 0) {
          return;
        }
        LOG.info("stopping: {}", reason.get() == null ? "requested" : reason.get());
        server.close();
        engine.close();
        deleteIfOurs(urlFile, url);
        deleteIfOurs(tokenFile, localToken);
        stopped.countDown();
      }
    };
    // SIGTERM/SIGINT end the wait below, so the engine stops in order on the main thread and
    // the process exits 0; the shutdown hook covers any other way the JVM is asked to exit.
    onSignal("TERM", stop);
    onSignal("INT", stop);
    var hook = Thread.ofPlatform().name("jobyard-shutdown").unstarted(shutdown);
    Runtime.getRuntime().addShutdownHook(hook);
    engine.fatal().thenAccept(r -> {
      reason.set(r);
      stop.countDown();
    });

    out.println("API listening on " + url);
    out.println("token for " + localUser + " in " + tokenFile + "; Ctrl-C stops the engine");
    out.flush();
    LOG.info("engine {} serving {} as local user '{}' (admin) and {} configured token(s)",
        config.home(), url, localUser, config.api().tokens().size());
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    shutdown.run();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down
    }
    out.println(reason.get() == null ? "engine stopped" : "engine failed: " + reason.get());
    out.flush();
    return reason.get() == null ? Main.OK : Main.ENGINE_FAILED;
  }

  /** SIGHUP reads the configuration again, as {@code jobyard reload} does; the log says how. */
  @SuppressWarnings("removal")
  private static void onHangup(Engine engine) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> Thread.ofPlatform()
          .name("jobyard-reload").start(() -> {
            try {
              engine.reload();
            } catch (RuntimeException e) {
              LOG.warn("SIGHUP: {}", e.getMessage()); // refused: the old configuration stays
            }
          }));
    } catch (IllegalArgumentException e) {
      LOG.debug("SIGHUP cannot be handled here: {}", e.getMessage());
    }
  }

  @SuppressWarnings("removal")
  private static void onSignal(String name, CountDownLatch stop) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
        if (stop.getCount() == 0) {
          // a second signal while stopping in order: the operator wants out now
          System.err.println("jobyard: second SIG" + s.getName() + ", exiting at once");
          Runtime.getRuntime().halt(130);
        }
        System.err.println("jobyard: SIG" + s.getName() + ", stopping in order (send it again "
            + "to exit at once)");
        stop.countDown();
      });
    } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
      LOG.debug("cannot handle SIG{} ({}); the shutdown hook stops the engine", name, e.toString());
    }
  }

  /**
   * Writes a file that readers see whole or not at all: a temporary file beside it (for a secret,
   * created with mode 0600 so it is never readable by others, not even for an instant), then an
   * atomic rename.
   */
  static void writeAtomically(Path file, String content, boolean secret) throws IOException {
    var dir = file.getParent();
    Path tmp;
    try {
      tmp = secret
          ? Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
          : Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    } catch (UnsupportedOperationException e) {
      throw new IOException("cannot restrict " + file + " to its owner on this file system", e);
    }
    try {
      Files.writeString(tmp, content, StandardCharsets.UTF_8);
      if (!secret) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Removes a var/run file unless another engine has written its own since. */
  private static void deleteIfOurs(Path file, String content) {
    try {
      if (Files.isRegularFile(file) && Files.readString(file).strip().equals(content.strip())) {
        Files.delete(file);
      }
    } catch (IOException e) {
      LOG.warn("cannot remove {}: {}", file, e.toString());
    }
  }
}
