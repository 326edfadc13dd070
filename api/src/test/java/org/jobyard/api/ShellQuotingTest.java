package org.jobyard.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShellQuotingTest {
  static final List<String> HOSTILE = List.of("plain", "", "two words", "it's", "\"dq\"", "$(id)",
      "`id`", "a;b", "*", "?", "x\ny", "back\\slash", "${HOME}", "tab\there", "é ü 日本", "'",
      "''", "-n", "!bang", "a&b|c>d<e");

  @Test
  void quotedWordsReachTheProgramUnchanged() throws Exception {
    // printf prints each argument NUL-terminated, so what sh received can be compared byte for byte.
    var script = "printf '%s\\0' " + ShellQuoting.join(HOSTILE);
    var p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();
    var got = new ArrayList<>(List.of(out.split("\0", -1)));
    got.remove(got.size() - 1);
    assertThat(got).containsExactlyElementsOf(HOSTILE);
  }

  @Test
  void refusesNul() {
    assertThatThrownBy(() -> ShellQuoting.quote("a\0b")).hasMessageContaining("NUL");
  }

  @Test
  void leavesSafeWordsBare() {
    assertThat(ShellQuoting.quote("/usr/bin/env")).isEqualTo("/usr/bin/env");
    assertThat(ShellQuoting.quote("a b")).isEqualTo("'a b'");
  }
}
