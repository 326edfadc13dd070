package org.jobyard.plugins.local;

import static org.assertj.core.api.Assertions.assertThat;

import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScriptsTest {

  private static final List<String> UGLY_DIRS = List.of("/w/a.1", "/w/it's here/b.1",
      "/w/$(reboot)/`x`/c.1", "/w/ünï/d.1");

  @Test
  void theSubmitScriptIsValidShellForUglyPaths() throws Exception {
    assertValidShell(Scripts.submit("/w/it's", List.of("/out/$(x)"), List.of(
        new Scripts.Launch("a.1", "#!/bin/sh\necho 'hi'\n"),
        new Scripts.Launch("b.1", "EOF\n'\"$(x)\n"))));
  }

  @Test
  void thePollCancelAndLookupScriptsAreValidShell() throws Exception {
    assertValidShell(Scripts.poll(UGLY_DIRS));
    assertValidShell(Scripts.cancel(UGLY_DIRS, 5));
    assertValidShell(Scripts.lookup("/w/it's", List.of("a.1", "b.2")));
    assertValidShell(Scripts.prepare("/w/it's", List.of("a.1")));
  }

  @Test
  void asksForEveryJobInOneScript() {
    var script = Scripts.poll(UGLY_DIRS);

    assertThat(script).contains("p 0 /w/a.1\n").contains("p 1 '/w/it'\\''s here/b.1'\n")
        .contains("p 3 '/w/ünï/d.1'\n");
  }

  @Test
  void createsManyFoldersWithFewProcesses() {
    var launches = java.util.stream.IntStream.range(0, 600)
        .mapToObj(i -> new Scripts.Launch("j" + i + ".1", "true")).toList();

    var script = Scripts.submit("/w", List.of(), launches);

    assertThat(script.lines().filter(l -> l.startsWith("mkdir -p -- \"$W\"")).count())
        .isEqualTo(3);
  }

  @Test
  void aHostWithoutJavaGetsTheShellRunnerAndTheScriptSaysWhy(@TempDir Path tmp) throws Exception {
    // a PATH with every tool the starter uses but java
    var bin = Files.createDirectories(tmp.resolve("bin"));
    for (var tool : List.of("sh", "bash", "setsid", "mkdir", "mv", "mkfifo", "cat", "sed",
        "base64", "rm", "ls")) {
      var real = List.of("/usr/bin/", "/bin/").stream().map(d -> Path.of(d + tool))
          .filter(Files::isExecutable).findFirst().orElseThrow();
      Files.createSymbolicLink(bin.resolve(tool), real);
    }
    var root = Files.createDirectories(tmp.resolve("root"));
    var pb = new ProcessBuilder(bin.resolve("sh").toString(), "-s");
    pb.environment().put("PATH", bin.toString());
    var p = pb.start();
    p.getOutputStream().write(Scripts.ensureRunner(root.toString(), 1, true)
        .getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();

    assertThat(out).isEqualTo("R bash no java on the PATH\n");
    var pid = Path.of(root + "/.runner/pid");
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(pid)
        && Runner.isRunner(Files.readString(pid).strip()));
    var runner = Files.readString(pid).strip();
    assertThat(Files.readString(Path.of("/proc", runner, "cmdline"))).contains("/.runner/runner.sh");
    ProcessHandle.of(Long.parseLong(runner)).ifPresent(ProcessHandle::destroy); // started here
  }

  private static void assertValidShell(String script) throws Exception {
    var p = new ProcessBuilder("sh", "-n").redirectErrorStream(true).start();
    p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("sh -n on\n%s\nsays: %s", script, out).isZero();
  }
}
