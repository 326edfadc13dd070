package org.jobyard.engine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jobyard run --report FILE.html} with an embedded engine and the scripted backend. */
class RunReportTest {
  @TempDir
  Path home;
  Path conf;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @BeforeEach
  void configure() throws Exception {
    System.setProperty("jobyard.home", home.toString());
    conf = home.resolve("jobyard.yaml");
    Files.writeString(conf, """
        engine: {poll_interval: 100ms, retry_backoff: 100ms}
        clusters:
          t: {backend: scripted}
        """);
  }

  @AfterEach
  void clear() {
    System.clearProperty("jobyard.home");
  }

  int run(String... args) {
    return Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  @Test
  void writesASelfContainedReportWithEveryJobItsStateAndItsTimeline() throws Exception {
    var jobs = home.resolve("jobs.yaml");
    Files.writeString(jobs, """
        - {name: first, session: r1, executable: ok}
        - {name: second, session: r1, executable: ok}
        - {name: "<script>alert(1)</script>", session: r1, executable: fail}
        """);
    var report = home.resolve("run.html");
    int exit = run("run", "--config", conf.toString(), "--progress", "none", "--report",
        report.toString(), jobs.toString());
    assertThat(exit).as(err.toString()).isEqualTo(Main.JOBS_FAILED);
    assertThat(err.toString()).contains("report written to " + report);

    var html = Files.readString(report);
    // three rows in the timeline and three in the table, one per job
    assertThat(Pattern.compile("<tr data-job-id=\"jy-").matcher(html).results().count())
        .isEqualTo(6);
    assertThat(html).contains("<b>2</b>succeeded").contains("<b>1</b>failed")
        .contains("<b>0</b>unfinished");
    assertThat(html).contains(">first</td>").contains(">second</td>");
    // each job's time in its states is drawn as bars on the run's time axis
    // (the scripted backend ends jobs straight from pending)
    assertThat(html).contains("class=\"seg QUEUED\"").contains("class=\"seg PENDING\"");
    assertThat(Pattern.compile("class=\"seg QUEUED\"").matcher(html).results().count())
        .isEqualTo(3);
    // the hostile name is text, and the page reaches for nothing outside itself
    assertThat(html).contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        .doesNotContain("<script").doesNotContain("src=").doesNotContain("href=")
        .doesNotContain("http");
  }

  @Test
  void writesATraceWithOneLinePerJobAndAttempt() throws Exception {
    var jobs = home.resolve("traced.yaml");
    Files.writeString(jobs, """
        - {name: fine, executable: ok}
        - {name: flaky, executable: fail, retries: 1}
        """);
    var trace = home.resolve("trace.tsv");
    int exit = run("run", "--config", conf.toString(), "--progress", "none", "--trace",
        trace.toString(), jobs.toString());
    assertThat(exit).as(err.toString()).isEqualTo(Main.JOBS_FAILED);
    assertThat(err.toString()).contains("trace written to " + trace);

    var lines = Files.readAllLines(trace);
    assertThat(lines.getFirst()).isEqualTo("id\tname\tattempt\tcluster\tnative_id\tstate\t"
        + "submitted\tstarted\tended\texit\twall_seconds\treason");
    var rows = lines.subList(1, lines.size()).stream().map(l -> l.split("\t", -1)).toList();
    assertThat(rows).hasSize(3).allSatisfy(r -> {
      assertThat(r).hasSize(12);
      assertThat(r[3]).isEqualTo("t");
      assertThat(r[4]).isEqualTo(r[0] + "." + r[2]); // the scripted backend's native id
      assertThat(java.time.Instant.parse(r[8])).isAfterOrEqualTo(java.time.Instant.parse(r[6]));
      assertThat(Double.parseDouble(r[10])).isNotNegative();
    });
    assertThat(rows).extracting(r -> r[1] + "#" + r[2] + ":" + r[9])
        .containsExactlyInAnyOrder("fine#1:0", "flaky#1:3", "flaky#2:3");
    // the summary says where output went when a job named no stdout
    assertThat(out.toString()).contains("output: 2 job(s) named no stdout");
  }

  @Test
  void refusesAReportInAFolderThatDoesNotExistBeforeRunningAnything() throws Exception {
    var jobs = home.resolve("one.yaml");
    Files.writeString(jobs, "{name: never, executable: ok}\n");
    int exit = run("run", "--config", conf.toString(), "--progress", "none", "--report",
        home.resolve("missing/run.html").toString(), jobs.toString());
    assertThat(exit).isEqualTo(Main.BAD_INPUT);
    assertThat(err.toString()).contains("--report").contains("missing").contains("does not exist");
    assertThat(home.resolve("var/db")).doesNotExist();
  }

  @Test
  void escapesEveryCharacterThatCouldEndTextOrAnAttribute() {
    assertThat(RunReport.esc("a<b>&\"c\"'d'")).isEqualTo("a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  }
}
