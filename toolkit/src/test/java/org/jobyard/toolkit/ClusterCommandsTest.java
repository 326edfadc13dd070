package org.jobyard.toolkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.jobyard.api.BackendException;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.TransportException;
import org.jobyard.testkit.AnswerLosingTransport;
import org.jobyard.testkit.CountingTransport;
import org.jobyard.testkit.ProcessTransport;
import org.jobyard.testkit.Transports;
import org.junit.jupiter.api.Test;

class ClusterCommandsTest {
  private final ProcessTransport host = new ProcessTransport();

  @Test
  void aClusterThatDoesNotAnswerIsRetryableAndNamedInTheMessage() {
    var commands = new ClusterCommands("cluster 'hpc'", Transports.unavailable(),
        Duration.ofSeconds(5));

    assertThatThrownBy(() -> commands.run(Command.of("true"), "squeue"))
        .isInstanceOfSatisfying(BackendException.class,
            e -> assertThat(e.isRetryable()).isTrue())
        .hasMessageContaining("cluster 'hpc': squeue on");
  }

  @Test
  void aFailedCommandThatMustWorkIsRetryableWithItsOutput() throws Exception {
    var commands = new ClusterCommands("cluster 'hpc'", host, Duration.ofSeconds(30));

    assertThat(commands.run(Command.of("sh", "-c", "exit 3"), "probe").exitCode()).isEqualTo(3);
    assertThatThrownBy(() -> commands.runOrUnavailable(
        Command.of("sh", "-c", "echo broken >&2; exit 3"), "read job folders"))
        .isInstanceOfSatisfying(BackendException.class,
            e -> assertThat(e.isRetryable()).isTrue())
        .hasMessageContaining("read job folders").hasMessageContaining("broken");
  }

  @Test
  void aSubmitWhoseAnswerIsLostIsReportedLostAndOneThatAnsweredCarriesItsResult()
      throws Exception {
    var lossy = new AnswerLosingTransport(host);
    var commands = new ClusterCommands("cluster 'hpc'", lossy, Duration.ofSeconds(30));

    assertThat(commands.send(Command.of("echo", "42"), "sbatch"))
        .isInstanceOfSatisfying(ClusterCommands.Sent.Answered.class,
            a -> assertThat(a.result().stdout().strip()).isEqualTo("42"));
    lossy.loseAnswers(true);
    assertThat(commands.send(Command.of("echo", "42"), "sbatch"))
        .isInstanceOfSatisfying(ClusterCommands.Sent.Lost.class,
            l -> assertThat(l.message()).contains("sbatch").contains("after it was sent"));
  }

  @Test
  void aSubmitThatCouldNotBeSentAtAllIsThrownNotLost() {
    var refused = new CountingTransport(host) {
      @Override
      public CommandResult run(Command command) throws TransportException {
        throw new TransportException("host key refused", false);
      }
    };
    var commands = new ClusterCommands("cluster 'hpc'", refused, Duration.ofSeconds(30));

    assertThatThrownBy(() -> commands.send(Command.of("true"), "sbatch"))
        .isInstanceOf(TransportException.class).hasMessage("host key refused");
  }

  @Test
  void aHostScriptGetsEveryValueAsAnArgumentUnparsed() throws Exception {
    var commands = new ClusterCommands("cluster 'hpc'", host, Duration.ofSeconds(30));
    var script = new HostScript("op=$1; shift; case $op in echo) printf '%s\\n' \"$@\";; esac",
        commands);

    assertThat(script.lines("echo", List.of("$(id)", "a b", "'"))).containsExactly("$(id)",
        "a b", "'");
  }

  @Test
  void verdictsBecomeTheOutcomesTheEngineActsOn() {
    assertThat(SubmitVerdict.REFUSED.outcome("j", "bad"))
        .isInstanceOfSatisfying(SubmitOutcome.Rejected.class,
            r -> assertThat(r.error().isRetryable()).isFalse());
    assertThat(SubmitVerdict.NOT_NOW.outcome("j", "busy"))
        .isInstanceOfSatisfying(SubmitOutcome.Rejected.class,
            r -> assertThat(r.error().isRetryable()).isTrue());
    assertThat(SubmitVerdict.IN_DOUBT.outcome("j", "lost"))
        .isInstanceOf(SubmitOutcome.InDoubt.class);
    assertThat(SubmitVerdict.ofExitCode(127)).isEqualTo(SubmitVerdict.REFUSED);
    assertThat(SubmitVerdict.ofExitCode(1)).isEqualTo(SubmitVerdict.IN_DOUBT);
  }
}
