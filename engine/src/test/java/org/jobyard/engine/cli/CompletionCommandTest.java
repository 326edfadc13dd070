package org.jobyard.engine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class CompletionCommandTest {
  @Test
  void printsABashScriptThatCompletesTheVerbsAndTheirOptions() {
    var out = new StringWriter();
    var err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "completion",
        "bash");
    assertThat(exit).as(err.toString()).isZero();
    assertThat(out.toString()).contains("complete -F").contains("submit").contains("backends")
        .contains("--config").contains("--home").contains("bashcompinit");
  }

  @Test
  void refusesAnotherShellNamingIt() {
    var err = new StringWriter();
    int exit = Main.execute(new PrintWriter(new StringWriter(), true),
        new PrintWriter(err, true), "completion", "fish");
    assertThat(exit).isEqualTo(Main.BAD_INPUT);
    assertThat(err.toString()).contains("'fish'").contains("bash or zsh");
  }
}
