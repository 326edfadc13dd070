package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The class-data caches that packaging trains into lib/cache/ (issue 19): the launcher uses
 * them with the JDK they were built with, and with any other JDK, or a cache that does not fit,
 * the verb starts plainly and prints exactly what it prints without one.
 */
class StartupCacheIT {
  static final Duration TIMEOUT = Duration.ofMinutes(2);
  /** Shows where each class came from: the cache ("shared objects file") or a jar. */
  static final Map<String, String> CLASS_LOG = Map.of("JOBYARD_JAVA_OPTS", "-Xlog:class+load");
  static final String FROM_CACHE = "org.jobyard.engine.cli.Main source: shared objects file";

  @TempDir
  Path tmp;
  Tarball tarball;
  Path cache;

  @BeforeEach
  void unpack() throws Exception {
    tarball = Tarball.unpackWithWork(tmp);
    cache = tarball.home.resolve("lib/cache");
  }

  @Test
  void theLauncherUsesTheCacheOfItsJdkAndStartsPlainlyWithAnotherJdkOrADamagedCache()
      throws Exception {
    assertThat(Files.readString(cache.resolve("jdk"))).as("the JDK the caches were built with")
        .contains(Files.readString(Path.of(System.getProperty("java.home"), "release"))
            .lines().filter(l -> l.startsWith("JAVA_RUNTIME_VERSION=")).findFirst()
            .orElseThrow());
    var version = tarball.run(tarball.work, TIMEOUT, CLASS_LOG, "--version");
    assertThat(version.exitCode()).as(version.toString()).isZero();
    assertThat(version.stdout()).as("a client verb starts from the client's cache")
        .contains(FROM_CACHE);
    var config = tarball.run(tarball.work, TIMEOUT, "--home", "h", "config");
    assertThat(config.exitCode()).as(config.toString()).isZero();

    // caches that do not fit the class path or the JVM: the JVM must drop them silently
    for (var name : new String[] {"client.aot", "engine.aot", "client.jsa", "engine.jsa"}) {
      if (Files.exists(cache.resolve(name))) {
        Files.writeString(cache.resolve(name), "not a class-data cache");
      }
    }
    var damaged = tarball.run(tarball.work, TIMEOUT, "--home", "h", "config");
    assertThat(damaged.exitCode()).as(damaged.toString()).isEqualTo(config.exitCode());
    assertThat(damaged.stdout()).as("stdout").isEqualTo(config.stdout());
    assertThat(damaged.stderr()).as("stderr").isEqualTo(config.stderr());

    // built by another JDK: the launcher does not even offer them
    Files.writeString(cache.resolve("jdk"), "IMPLEMENTOR=\"Someone Else\"\n"
        + "JAVA_RUNTIME_VERSION=\"21.0.1+12\"\nJAVA_VERSION=\"21.0.1\"\n");
    var other = tarball.run(tarball.work, TIMEOUT, CLASS_LOG, "--version");
    assertThat(other.exitCode()).as(other.toString()).isZero();
    assertThat(other.stderr()).as("stderr").isEqualTo(version.stderr());
    assertThat(other.stdout()).doesNotContain(FROM_CACHE)
        .contains(version.stdout().lines().filter(l -> l.startsWith("jobyard ")).findFirst()
            .orElseThrow());
  }
}
