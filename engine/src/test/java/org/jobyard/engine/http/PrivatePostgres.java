package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Assumptions;

/**
 * A PostgreSQL of a test's own (initdb with the testbed's binaries into a temporary folder, on a
 * free port), for tests that stop and start it: never the shared testbed one, which other tests
 * and other engines use at the same time.
 */
final class PrivatePostgres implements AutoCloseable {
  private final String bin;
  private final Path data;
  final int port;

  private PrivatePostgres(String bin, Path data, int port) {
    this.bin = bin;
    this.data = data;
    this.port = port;
  }

  /** A new cluster, started; skips the test where the testbed's binaries are missing. */
  static PrivatePostgres start(String name) throws Exception {
    Testbed.require(Testbed.PG);
    var bins = Path.of("/usr/lib/postgresql");
    Assumptions.assumeTrue(Files.isDirectory(bins), "needs the testbed's PostgreSQL binaries");
    String bin;
    try (var versions = Files.list(bins)) {
      bin = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve(
          "initdb"))).max(Comparator.naturalOrder()).orElseThrow().toString();
    }
    var data = Files.createTempDirectory(Path.of("/var/tmp"), "jobyard-" + name + "-pg");
    run("true"); // runuser works: we are root
    new ProcessBuilder("chown", "postgres:postgres", data.toString()).start().waitFor();
    run(bin + "/initdb", "-D", data.toString(), "-U", "postgres", "-E", "UTF8", "--locale=C",
        "--auth=trust");
    var pg = new PrivatePostgres(bin, data, freePort());
    pg.start();
    return pg;
  }

  String url() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
  }

  void start() throws Exception {
    run(bin + "/pg_ctl", "-D", data.toString(), "-l", data.resolve("log").toString(), "-w",
        "-t", "60", "-o", "-p " + port + " -k " + data + " -c listen_addresses=127.0.0.1",
        "start");
  }

  /** Stops it at once, as a crash or a killed server would (no orderly shutdown). */
  void stop() throws Exception {
    run(bin + "/pg_ctl", "-D", data.toString(), "-m", "immediate", "-w", "stop");
  }

  @Override
  public void close() throws Exception {
    try {
      stop();
    } catch (AssertionError | Exception e) {
      // already stopped
    }
    try (var files = Files.walk(data)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static void run(String... args) throws Exception {
    var argv = new ArrayList<String>(List.of("runuser", "-u", "postgres", "--"));
    argv.addAll(List.of(args));
    var p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", args), out).isZero();
  }

  private static int freePort() throws IOException {
    try (var s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
