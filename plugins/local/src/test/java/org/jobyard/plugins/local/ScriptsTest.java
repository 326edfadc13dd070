package org.jobyard.plugins.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

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

  private static void assertValidShell(String script) throws Exception {
    var p = new ProcessBuilder("sh", "-n").redirectErrorStream(true).start();
    p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("sh -n on\n%s\nsays: %s", script, out).isZero();
  }
}
