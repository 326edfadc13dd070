package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * From the unpacked tarball: bad job files are refused by field before anything runs, and a
 * damaged or busy store is reported at once and kept, never replaced (issue 13).
 */
class BadInputAndDamagedStateIT {
  static final Duration TIMEOUT = Duration.ofMinutes(2);

  @TempDir
  Path tmp;
  Tarball tarball;
  Path work;

  @BeforeEach
  void unpack() throws Exception {
    tarball = Tarball.unpackWithWork(tmp);
    work = tarball.work;
  }

  @Test
  void refusesFilesThatWereReadWronglyNamingTheFieldAndRunsNothing() throws Exception {
    Files.writeString(work.resolve("alias.yaml"), """
        - {name: a, executable: &exe /bin/echo, stdout: a.out}
        - {name: b, executable: *exe, stdout: b.out}
        """);
    Files.writeString(work.resolve("two.yaml"),
        "{name: c, executable: /bin/true}\n---\n{name: d, executable: /bin/true}\n");
    Files.writeString(work.resolve("values.json"), """
        [{"name": "e", "executable": "/bin/e\\u0000cho"},
         {"name": "f", "executable": "/bin/true", "resources": {"walltime": "99999999999999999999"}},
         {"name": "g", "executable": "/bin/true", "retries": 4294967297},
         {"name": "h", "executable": "/bin/true", "inputs": [{"source": "x", "destination": "../x"}]},
         {"name": "i", "executable": "/bin/true", "outputs": [{"source": "/"}]}]
        """);
    var r = tarball.run(work, TIMEOUT, "run", "alias.yaml", "two.yaml", "values.json");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr()).contains("rejected, nothing was run")
        .contains("alias.yaml:2: field '[1].executable': YAML aliases (*exe)")
        .contains("two.yaml:3: a second YAML document")
        .contains("job 1 ('e'), field 'executable': contains a NUL")
        .contains("job 2 ('f'), field 'resources.walltime'")
        .contains("job 3 ('g'), field 'retries'")
        .contains("job 4 ('h'), field 'inputs[0].destination'")
        .contains("job 5 ('i'), field 'outputs[0].source'")
        .doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(work.resolve("a.out")).doesNotExist();
  }

  @Test
  void withJsonOutputAnUnreachableEngineIsAJsonErrorOnStdout() throws Exception {
    var r = tarball.run(work, TIMEOUT, "ps", "-o", "json", "--engine", "http://127.0.0.1:1/");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(3);
    var error = new ObjectMapper().readTree(r.stdout()).path("error");
    assertThat(error.path("code").asText()).isEqualTo("unavailable");
    assertThat(error.path("message").asText()).contains("cannot reach the engine");
  }

  @Test
  void aStoreCutShortIsReportedAndKeptNeverReplaced() throws Exception {
    Files.writeString(work.resolve("one.yaml"), "{name: one, executable: /bin/true}\n");
    var first = tarball.run(work, TIMEOUT, "run", "--progress", "lines", "one.yaml");
    assertThat(first.exitCode()).as(first.toString()).isZero();
    var store = tarball.home.resolve("var/db/jobyard.mv.db");
    var trace = tarball.home.resolve("var/db/jobyard.trace.db");
    assertThat(Files.exists(trace) ? Files.readString(trace) : "")
        .as("a clean run leaves no trace of a closed database").doesNotContain("already closed");
    try (var f = new RandomAccessFile(store.toFile(), "rw")) {
      f.setLength(8192);
    }
    var started = System.nanoTime();
    var second = tarball.run(work, TIMEOUT, "run", "--progress", "lines", "one.yaml");
    assertThat(second.exitCode()).as(second.toString()).isEqualTo(3);
    assertThat(second.stderr()).contains(store.toString()).contains("is damaged")
        .contains("To recover").contains("jobyard.mv.db.last-good");
    assertThat(Files.size(store)).isEqualTo(8192);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(60));
  }

  @Test
  void runBesideARunningEngineSaysSoAtOnce() throws Exception {
    var console = tmp.resolve("engine.out");
    var pb = new ProcessBuilder(tarball.home.resolve("bin/jobyard").toString(), "engine")
        .directory(tarball.home.toFile()).redirectErrorStream(true)
        .redirectOutput(console.toFile());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    var engine = pb.start();
    try {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
          .failFast("the engine exited", () -> !engine.isAlive())
          .until(() -> Files.exists(tarball.home.resolve("var/run/engine.url")));
      Files.writeString(work.resolve("one.yaml"), "{name: one, executable: /bin/true}\n");
      var started = System.nanoTime();
      var r = tarball.run(work, TIMEOUT, "run", "one.yaml");
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(3);
      assertThat(r.stderr()).contains("an engine is running on this installation")
          .contains("jobyard submit").doesNotContain("\tat ");
      // it used to wait ~30 s for the lock; JVM start and the check take a few seconds
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(25));
    } finally {
      engine.destroy();
      engine.waitFor(60, TimeUnit.SECONDS);
      engine.destroyForcibly();
    }
  }

  @Test
  void aStateFolderThatIsNotWritableForTheUserIsRefusedInOneLineAtOnce() throws Exception {
    // A real read-only folder: owned by root, used by another account (chmod means nothing to
    // root). Without --home the same account gets a state folder of its own (SharedInstallIT).
    var user = OtherAccount.prepare(tmp, tarball);
    Files.writeString(user.work().resolve("one.yaml"), "{name: one, executable: /bin/true}\n");
    var started = System.nanoTime();
    var r = user.run(Duration.ofMinutes(2), "--home", tarball.home.toString(), "run",
        "--progress", "lines", "one.yaml");
    var said = r.stdout() + r.stderr();
    assertThat(r.exitCode()).as(said).isEqualTo(3);
    assertThat(said).contains(tarball.home.resolve("var").toString()).contains("--home")
        .doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(said.strip().lines().count()).as("one line, not a stack trace:%n%s", said)
        .isLessThanOrEqualTo(2);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
  }
}
