package org.jobyard.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.EngineConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A store that exists is never replaced: damaged, in use, or kept (issue 13). */
class StoreCheckTest {
  @TempDir
  Path dir;

  private EngineConfig.Database config() {
    return new EngineConfig.Database("jdbc:h2:file:" + dir.resolve("jobyard"), "sa", "", 2);
  }

  private Path storeWithAJob() {
    try (var db = new Database(config())) {
      new JobStore(db).apply(List.of(new Change.InsertJob(
          JobStoreTest.job("kept", 1, "alice", null, JobState.QUEUED))));
    }
    return dir.resolve("jobyard.mv.db");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 4096, 8192, 12288})
  void refusesAStoreCutShortNamingItAndLeavesItAsItIs(int length) throws Exception {
    var file = storeWithAJob();
    try (var f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(length);
    }
    var before = Files.readAllBytes(file);
    var started = System.nanoTime();
    var e = catchThrowableOfType(StoreException.class, () -> new Database(config()).close());
    assertThat(e).as("refused").isNotNull();
    assertThat(e.getMessage()).contains(file.toString()).contains("is damaged")
        .contains("left as it is").contains("To recover");
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
  }

  @Test
  void keepsACopyOfAGoodStoreThatTheRecoveryAdviceNames() throws Exception {
    var file = storeWithAJob();
    try (var db = new Database(config())) {
      assertThat(new JobStore(db).job("kept")).isPresent();
    }
    var copy = dir.resolve("jobyard.mv.db" + StoreCheck.LAST_GOOD);
    assertThat(copy).exists();
    Files.write(file, new byte[0]);
    var e = catchThrowableOfType(StoreException.class, () -> new Database(config()).close());
    assertThat(e.getMessage()).contains("copy " + copy);
    Files.copy(copy, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    try (var db = new Database(config())) {
      assertThat(new JobStore(db).job("kept")).isPresent();
    }
  }

  @Test
  void saysAtOnceThatAnEngineRunsHereWhenTheStoreIsInUse() throws Exception {
    storeWithAJob();
    // another process holds the store, as a running engine does (in one JVM, H2 shares it)
    var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var h2 = Path.of(org.h2.Driver.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI()).toString();
    var holder = new ProcessBuilder(java, "-cp", h2,
        "org.h2.tools.Shell", "-url", "jdbc:h2:file:" + dir.resolve("jobyard"), "-user", "sa")
        .redirectErrorStream(true).redirectOutput(dir.resolve("holder.log").toFile())
        .start(); // the shell holds the store open while it waits on its standard input
    try {
      var log = dir.resolve("holder.log");
      await().atMost(Duration.ofSeconds(60)).failFast("the holder exited", () -> !holder.isAlive())
          .until(() -> Files.exists(log) && Files.readString(log).contains("sql>"));
      var started = System.nanoTime();
      var e = catchThrowableOfType(StoreException.class, () -> new Database(config()).close());
      assertThat(e).as("refused while another process holds the store").isNotNull();
      assertThat(e.getMessage()).contains("an engine is running on this installation")
          .contains("jobyard submit");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    } finally {
      holder.destroyForcibly().waitFor();
    }
  }

  @Test
  void refusesAtOnceAStoreFolderThatCannotBeWrittenNamingIt() throws Exception {
    // as root every folder is writable; a file where a folder should be fails the same check
    var notAFolder = Files.writeString(dir.resolve("var"), "");
    var started = System.nanoTime();
    var e = catchThrowableOfType(StoreException.class, () -> new Database(
        new EngineConfig.Database("jdbc:h2:file:" + notAFolder.resolve("db/jobyard"), "sa", "",
            2)).close());
    assertThat(e.getMessage()).startsWith("the job store's folder " + notAFolder.resolve("db")
        + " is not writable (" + notAFolder + " is not a folder)");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void aCleanCloseLeavesNoTraceOfAnAlreadyClosedDatabase() throws Exception {
    storeWithAJob();
    try (var db = new Database(config())) {
      new JobStore(db).job("kept");
    }
    var trace = dir.resolve("jobyard.trace.db");
    assertThat(Files.exists(trace) ? Files.readString(trace) : "")
        .doesNotContain("already closed");
  }
}
