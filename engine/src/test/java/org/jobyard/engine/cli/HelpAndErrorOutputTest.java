package org.jobyard.engine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the command line prints besides results: help, errors for scripts, table cells. */
class HelpAndErrorOutputTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  @Test
  void runHelpShowsTheSweepPlaceholdersAsWritten() {
    assertThat(run("run", "--help")).isZero();
    assertThat(out.toString().replace("\n", "")).contains("expands ${x}").contains("name: 'square-${n}'")
        .contains("'echo $((${n}*${n}))'").doesNotContain("null");
  }

  @Test
  void helpNamesTheOrderInWhichTheCodeFindsTheEngine() {
    assertThat(run("ps", "--help")).isZero();
    var help = out.toString().replaceAll("\\s+", " ");
    assertThat(help.indexOf("--engine URL")).isLessThan(help.indexOf("else JOBYARD_ENGINE"));
    assertThat(help.indexOf("else JOBYARD_ENGINE"))
        .isLessThan(help.indexOf("run/engine.url of the state folder"));
  }

  @Test
  void withJsonOutputAnErrorIsJsonOnStdout() throws Exception {
    var exit = run("ps", "-o", "json", "--engine", "not a url");
    assertThat(exit).isEqualTo(Main.BAD_INPUT);
    var error = new ObjectMapper().readTree(out.toString()).path("error");
    assertThat(error.path("code").asText()).isEqualTo("invalid");
    assertThat(error.path("exit").asInt()).isEqualTo(Main.BAD_INPUT);
    assertThat(error.path("message").asText()).contains("not a URL");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void withTableOutputAnErrorStaysOneLineOnStderr() {
    assertThat(run("ps", "--engine", "not a url")).isEqualTo(Main.BAD_INPUT);
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString()).startsWith("jobyard ps: --engine: not a URL");
  }

  @Test
  void tableCellsCannotForgeRowsOrDriveTheTerminal() {
    var table = new StringWriter();
    JobCommands.Table.print(new PrintWriter(table, true), List.of("ID", "SESSION", "STATE"),
        List.of(List.of("jy-1", "s\u001b[31mred\njy-2  forged", "running")));
    assertThat(table.toString().lines()).hasSize(2);
    assertThat(table.toString()).doesNotContain("\u001b").contains("s\\e[31mred\\njy-2");
  }
}
