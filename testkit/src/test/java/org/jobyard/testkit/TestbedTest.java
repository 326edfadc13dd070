package org.jobyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What counts as CI, and that CI runs cannot quietly leave the testbed tests out. */
class TestbedTest {

  @Test
  void anyTruthyCiValueCountsAsCi() {
    for (var ci : new String[] {"true", "TRUE", "1", "yes", "on", "github"}) {
      assertThat(Testbed.isTruthy(ci)).as("CI=%s", ci).isTrue();
    }
    for (var notCi : new String[] {null, "", " ", "0", "false", "False", "no", "off"}) {
      assertThat(Testbed.isTruthy(notCi)).as("CI=%s", notCi).isFalse();
    }
  }

  @Test
  void theTestScriptRefusesToDropTestbedTestsUnderCi() throws Exception {
    var repo = Testbed.repository().orElseThrow(() -> new AssertionError("no repository"));
    for (var dropping : new String[] {"-Dsurefire.excludedGroups=testbed", "-DskipTests",
        "-Dgroups=fast"}) {
      var builder = new ProcessBuilder(repo.resolve("test").toString(), "-q", dropping)
          .directory(repo.toFile());
      builder.environment().put("CI", "1");
      // no commands on the PATH: should the guard let it through, the build cannot start
      builder.environment().put("PATH", repo.resolve("testkit/target/no-such-bin").toString());
      var p = builder.start();
      String err;
      try {
        err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      } finally {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      assertThat(p.exitValue()).as("./test %s with CI=1: %s", dropping, err).isEqualTo(2);
      assertThat(err).contains("refusing '" + dropping + "'");
    }
  }
}
