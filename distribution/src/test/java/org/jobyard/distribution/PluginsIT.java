package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plugin folders of the unpacked tarball: broken ones are reported, new ones picked up. */
class PluginsIT {
  static final Duration TIMEOUT = Duration.ofMinutes(3);

  @TempDir
  Path tmp;
  Tarball tarball;
  Path work;

  @BeforeEach
  void unpack() throws Exception {
    tarball = Tarball.unpackWithWork(tmp);
    work = tarball.work;
    Files.writeString(work.resolve("job.yaml"), "{name: a, executable: 'true'}\n");
  }

  @Test
  void aBrokenPluginIsReportedByNameAndTheOthersStillRun() throws Exception {
    var broken = Files.createDirectories(tarball.home.resolve("plugins/broken"));
    Files.writeString(broken.resolve("broken.jar"), "this is not a jar");
    var services = Files.createDirectories(tmp.resolve("svc/META-INF/services"));
    Files.writeString(services.resolve("org.jobyard.api.BackendProvider"), "no.such.Provider\n");
    jar(tarball.home.resolve("plugins/missing-class/missing.jar"), tmp.resolve("svc"));
    var r = tarball.run(work, TIMEOUT, "run", "--progress", "none", "job.yaml");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).contains("plugin missing-class").contains("no.such.Provider")
        .contains("plugin broken");
    assertThat(r.stdout()).contains("1 succeeded");
  }

  @Test
  void aPluginJarDroppedIntoPluginsAfterTheBuildIsLoadedAndRunsJobs() throws Exception {
    var src = Files.createDirectories(tmp.resolve("src/example"));
    Files.writeString(src.resolve("InstantProvider.java"), """
        package example;

        import java.util.*;
        import org.jobyard.api.*;

        public final class InstantProvider implements BackendProvider {
          public String name() { return "instant"; }

          public Backend create(BackendContext context) {
            return new Backend() {
              final Map<String, Integer> exits = new HashMap<>();

              public Set<Capability> capabilities() { return Set.of(); }

              public List<SubmitOutcome> submit(List<SubmitRequest> jobs) {
                var out = new ArrayList<SubmitOutcome>();
                for (var j : jobs) {
                  exits.put(j.tag(), j.spec().steps().get(0).executable().equals("true") ? 0 : 1);
                  out.add(new SubmitOutcome.Accepted(new JobRef(j.jobId(), j.tag(), Map.of())));
                }
                return out;
              }

              public Map<String, JobStatus> poll(List<JobRef> jobs) {
                var out = new HashMap<String, JobStatus>();
                for (var r : jobs) {
                  var e = exits.get(r.nativeId());
                  out.put(r.jobId(), e == null ? new JobStatus.Unknown("gone")
                      : new JobStatus.Exited(e, "DONE", null));
                }
                return out;
              }

              public void cancel(List<JobRef> jobs) {}

              public Map<String, JobRef> lookup(List<SubmitRequest> attempts) { return Map.of(); }
            };
          }
        }
        """);
    var classes = Files.createDirectories(tmp.resolve("classes"));
    var apiJar = findJar(tarball.home.resolve("lib"), "jobyard-api");
    var compiler = ToolProvider.getSystemJavaCompiler();
    var rc = compiler.run(null, null, null, "--release", "21", "-cp", apiJar.toString(), "-d",
        classes.toString(), src.resolve("InstantProvider.java").toString());
    assertThat(rc).as("the example plugin compiles against the tarball's SPI jar").isZero();
    var services = Files.createDirectories(classes.resolve("META-INF/services"));
    Files.writeString(services.resolve("org.jobyard.api.BackendProvider"),
        "example.InstantProvider\n");
    jar(tarball.home.resolve("plugins/instant/instant.jar"), classes);
    Files.writeString(work.resolve("conf.yaml"), "clusters:\n  fast: {backend: instant}\n");
    Files.writeString(work.resolve("jobs.yaml"), """
        - {name: yes, executable: 'true'}
        - {name: no, executable: 'false'}
        """);
    var r = tarball.run(work, TIMEOUT, "run", "--config", "conf.yaml", "-o", "json",
        "--progress", "none", "jobs.yaml");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.stdout()).contains("\"succeeded\" : 1").contains("\"failed\" : 1");
  }

  static Path findJar(Path dir, String prefix) throws Exception {
    try (var s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith(prefix)).findFirst()
          .orElseThrow(() -> new AssertionError(prefix + " jar not in " + dir));
    }
  }

  static void jar(Path jar, Path root) throws Exception {
    Files.createDirectories(jar.getParent());
    try (var out = new JarOutputStream(Files.newOutputStream(jar));
        var files = Files.walk(root)) {
      for (var f : files.filter(Files::isRegularFile).toList()) {
        out.putNextEntry(new JarEntry(root.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
  }

}
