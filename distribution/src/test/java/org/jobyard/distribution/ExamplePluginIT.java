package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin author's path end to end: the out-of-tree example {@code examples/plugin-hello} is
 * copied to an empty folder and built on its own (its Maven wrapper, running its conformance
 * test) against the SDK of an unpacked tarball ({@code -Djobyard.home}), with an empty local
 * repository; its {@code target/plugin/} is dropped into the tarball as {@code plugins/hello/},
 * and {@code bin/jobyard run} runs jobs on a cluster of that backend.
 */
class ExamplePluginIT {
  static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);
  static final Duration TIMEOUT = Duration.ofMinutes(3);

  @TempDir
  Path tmp;

  @Test
  void theExamplePluginBuiltOutOfTreeIsLoadedFromPluginsAndRunsJobs() throws Exception {
    var tarball = Tarball.unpack(Files.createDirectory(tmp.resolve("dist")));
    var plugin = buildExample(tmp.resolve("plugin-hello"), tarball.home);
    try (var files = Files.list(plugin)) {
      assertThat(files.map(p -> p.getFileName().toString()).toList())
          .as("target/plugin/ holds the plugin's jar and the toolkit's it runs on, and no copy "
              + "of the SPI (it is provided)")
          .hasSize(2).anyMatch(n -> n.startsWith("jobyard-plugin-hello-"))
          .anyMatch(n -> n.startsWith("jobyard-plugin-toolkit-"))
          .noneMatch(n -> n.startsWith("jobyard-api"));
    }
    var folder = Files.createDirectories(tarball.home.resolve("plugins/hello"));
    try (var jars = Files.list(plugin)) {
      for (var jar : jars.toList()) {
        Files.copy(jar, folder.resolve(jar.getFileName()));
      }
    }
    var work = Files.createDirectory(tmp.resolve("work"));
    Files.writeString(work.resolve("conf.yaml"), "clusters:\n  greet: {backend: hello}\n");
    Files.writeString(work.resolve("jobs.yaml"), """
        - name: greeting
          executable: /bin/sh
          arguments: [-c, 'printf "hello, %s and %s\\n" "$1" "$WHO"', sh, "it's a 'b c' $(id)"]
          environment: {WHO: "`id` ; ${HOME}"}
          stdout: greeting.out
        - name: steps
          steps:
            - {executable: printf, arguments: ['one,']}
            - {executable: sh, arguments: [-c, 'exit 5']}
            - {executable: printf, arguments: ['never']}
          stdout: steps.out
        - name: limited
          executable: 'true'
          resources: {walltime: 1m}
        """);

    var r = tarball.run(work, TIMEOUT, "run", "--config", "conf.yaml", "--progress", "none",
        "jobs.yaml");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.stdout()).as(r.toString())
        .contains("3 job(s)").contains("1 succeeded, 2 failed, 0 cancelled")
        .containsPattern("FAILED\\s+steps\\s+jy-\\S+\\s+5")
        .containsPattern("FAILED\\s+limited\\s+jy-\\S+\\s+-\\s+rejected by cluster 'greet'.*"
            + "enforces no walltime");
    assertThat(work.resolve("greeting.out")).as(r.toString())
        .hasContent("hello, it's a 'b c' $(id) and `id` ; ${HOME}");
    assertThat(work.resolve("steps.out")).hasContent("one,");
    try (var dirs = Files.list(tarball.home.resolve("var/clusters/greet/jobs"))) {
      assertThat(dirs.map(d -> d.getFileName().toString()).toList())
          .as("the hello backend's job folders, named after each attempt's tag")
          .hasSize(2).allMatch(name -> name.matches("jy-[a-z2-9]{12}\\.1"));
    }
  }

  /**
   * Copies the example out of the repository and builds it there against the tarball's SDK, with
   * an empty local repository; returns its plugin folder. Maven's own plugins and the kit's
   * libraries (JUnit, AssertJ...) come, offline, from a read-only copy of this build's local
   * repository without any org.jobyard artifact, so Jobyard's can only come from {@code sdk/}.
   */
  private Path buildExample(Path copy, Path home) throws Exception {
    var source = Path.of(System.getProperty("jobyard.repo"), "examples/plugin-hello");
    copyTree(source, copy, p -> !source.relativize(p).startsWith("target"));
    var outer = Path.of(System.getProperty("jobyard.m2"));
    var thirdParty = tmp.resolve("m2-without-jobyard");
    copyTree(outer, thirdParty, p -> !outer.relativize(p).startsWith("org/jobyard"));
    var empty = Files.createDirectory(tmp.resolve("m2-empty"));
    var log = copy.resolve("build.log");
    var pb = new ProcessBuilder(List.of("./mvnw", "-B", "-o", "package",
        "-Djobyard.home=" + home, "-Dmaven.repo.local=" + empty,
        "-Dmaven.repo.local.tail=" + thirdParty, "-Daether.offline.protocols=file"))
        .directory(copy.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().remove("MAVEN_PROJECTBASEDIR"); // set by the outer build's launcher
    pb.environment().remove("MAVEN_OPTS"); // may name the outer build's local repository
    var p = pb.start();
    if (!p.waitFor(BUILD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw new AssertionError("building the example plugin took over " + BUILD_TIMEOUT);
    }
    assertThat(p.exitValue()).as("./mvnw -o package -Djobyard.home=... of the example plugin "
        + "with an empty local repository (it runs the conformance kit; the SPI, toolkit and kit "
        + "must come from the tarball's sdk/)\n%s",
        Files.readString(log, StandardCharsets.UTF_8)).isZero();
    assertThat(empty.resolve("org/jobyard/jobyard-api")).as("the SPI, fetched from sdk/ into "
        + "the empty local repository").isDirectory();
    return copy.resolve("target/plugin");
  }

  /** Copies files; a local repository is linked file by file (it is large, and only read). */
  private static void copyTree(Path from, Path to, java.util.function.Predicate<Path> keep)
      throws Exception {
    boolean link = !from.endsWith("plugin-hello");
    try (Stream<Path> files = Files.walk(from)) {
      for (var f : files.filter(keep).toList()) {
        var target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else if (link) {
          Files.createSymbolicLink(target, f);
        } else {
          Files.copy(f, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }
}
