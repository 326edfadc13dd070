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
 * built on its own (its Maven wrapper, offline, against the SPI and kit in the local repository,
 * running its conformance test), its {@code target/plugin/} is dropped into an unpacked tarball as
 * {@code plugins/hello/}, and {@code bin/jobyard run} runs jobs on a cluster of that backend.
 */
class ExamplePluginIT {
  static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);
  static final Duration TIMEOUT = Duration.ofMinutes(3);

  @TempDir
  Path tmp;

  @Test
  void theExamplePluginBuiltOutOfTreeIsLoadedFromPluginsAndRunsJobs() throws Exception {
    var plugin = buildExample(tmp.resolve("plugin-hello"));
    try (var files = Files.list(plugin)) {
      assertThat(files.map(p -> p.getFileName().toString()).toList())
          .as("target/plugin/ holds the plugin's jar and no copy of the SPI (it is provided)")
          .singleElement().asString().startsWith("jobyard-plugin-hello-").endsWith(".jar");
    }
    var tarball = Tarball.unpack(Files.createDirectory(tmp.resolve("dist")));
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

  /** Copies the example out of the repository, builds it there and returns its plugin folder. */
  private static Path buildExample(Path copy) throws Exception {
    var source = Path.of(System.getProperty("jobyard.repo"), "examples/plugin-hello");
    try (Stream<Path> files = Files.walk(source)) {
      for (var f : files.filter(p -> !source.relativize(p).startsWith("target")).toList()) {
        var to = copy.resolve(source.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    var log = copy.resolve("build.log");
    var pb = new ProcessBuilder(List.of("./mvnw", "-B", "-o", "package")).directory(copy.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().remove("MAVEN_PROJECTBASEDIR"); // set by the outer build's launcher
    var p = pb.start();
    if (!p.waitFor(BUILD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw new AssertionError("building the example plugin took over " + BUILD_TIMEOUT);
    }
    assertThat(p.exitValue()).as("./mvnw -o package of the example plugin (it runs the "
        + "conformance kit; the SPI and kit must be installed: ./mvnw install)\n%s",
        Files.readString(log, StandardCharsets.UTF_8)).isZero();
    return copy.resolve("target/plugin");
  }
}
