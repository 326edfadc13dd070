package org.jobyard.engine.transport.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobyard.api.Command;
import org.jobyard.api.CommandResult;
import org.jobyard.api.TransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the testbed's real sshd (MaxSessions 10). */
@Tag("testbed")
class SshTransportTest {
  static final List<String> HOSTILE = List.of("two words", "it's", "\"dq\"", "$(id)", "`id`",
      "a;b", "*", "x\ny", "back\\slash", "${HOME}", "é 日本", "", "-n", "a\tb", "!bang", "~");

  private final List<SshTransport> opened = new ArrayList<>();

  @AfterEach
  void closeTransports() {
    opened.forEach(SshTransport::close);
  }

  private SshTransport open(SshSettings settings) throws TransportException {
    var t = SshTransport.open(settings);
    opened.add(t);
    return t;
  }

  @Test
  void aThousandCommandsFromFiftyThreadsCompleteOverAtMostMaxConnectionsHandshakes()
      throws Exception {
    var settings = SshTestbed.settings();
    var transport = open(settings);
    var done = new AtomicInteger();
    long t0 = System.nanoTime();
    try (var pool = Executors.newFixedThreadPool(50)) {
      var futures = new ArrayList<CompletableFuture<Void>>();
      for (int i = 0; i < 1000; i++) {
        var n = i;
        futures.add(CompletableFuture.runAsync(() -> {
          try {
            var r = transport.run(Command.of("echo", "job " + n));
            assertThat(r.stdout()).isEqualTo("job " + n + "\n");
            done.incrementAndGet();
          } catch (TransportException e) {
            throw new AssertionError(e);
          }
        }, pool));
      }
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    var stats = transport.stats();
    System.out.printf("1000 commands from 50 threads: %d ms, %s%n", ms, stats);
    assertThat(done).hasValue(1000);
    assertThat(stats.handshakes()).isBetween(1L, (long) settings.maxConnections());
    assertThat(stats.connectionsOpen()).isLessThanOrEqualTo(settings.maxConnections());
    assertThat(stats.channelsInUse()).isZero();
    assertThat(stats.failures()).isZero();
    // whether threads had to wait depends on timing; aConfiguredChannelLimit... counts waits
  }

  @Test
  void theProbeFindsTheServersMaxSessions() throws Exception {
    var transport = open(SshTestbed.settings());
    assertThat(transport.stats().probedMaxChannels()).isZero();
    transport.run(Command.of("true"));
    assertThat(transport.stats().probedMaxChannels()).isEqualTo(10); // sshd_config: MaxSessions 10
  }

  @Test
  void aConfiguredChannelLimitIsUsedWithoutProbing(@TempDir Path dir) throws Exception {
    var transport = open(SshTestbed.settings().withMaxChannelsPerConnection(3)
        .withMaxConnections(1));
    // the testbed's sshd is on this machine: the commands run until the test creates "go"
    var go = Files.createDirectories(dir.resolve("shared")).resolve("go");
    dir.toFile().setExecutable(true, false);
    go.getParent().toFile().setWritable(true, false);
    var futures = new ArrayList<CompletableFuture<CommandResult>>();
    try (var callers = Executors.newFixedThreadPool(6)) {
      for (int i = 0; i < 6; i++) {
        futures.add(CompletableFuture.supplyAsync(() -> {
          try {
            return transport.run(Command.of("sh", "-c",
                "while [ ! -e \"$1\" ]; do sleep 0.05; done", "sh", go.toString()));
          } catch (TransportException e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        }, callers));
      }
      // three run, three wait for a channel: both hold until "go"
      await().atMost(Duration.ofSeconds(30)).until(() -> transport.stats().channelsInUse() == 3
          && transport.stats().waits() >= 3);
      assertThat(futures).noneMatch(CompletableFuture::isDone);
      Files.createFile(go);
      for (var f : futures) {
        assertThat(f.get(30, TimeUnit.SECONDS).exitCode()).isZero();
      }
    }
    assertThat(transport.stats().probedMaxChannels()).isZero();
    assertThat(transport.stats().handshakes()).isEqualTo(1);
  }

  @Test
  void hostileArgumentsArriveByteForByte() throws Exception {
    var transport = open(SshTestbed.settings());
    var argv = new ArrayList<String>(List.of("printf", "%s\\0"));
    argv.addAll(HOSTILE);
    var result = transport.run(Command.of(argv));
    assertThat(result.exitCode()).isZero();
    var got = new ArrayList<>(List.of(result.stdout().split("\0", -1)));
    got.removeLast();
    assertThat(got).containsExactlyElementsOf(HOSTILE);
  }

  @Test
  void reportsExitCodeStdinAndStderr() throws Exception {
    var transport = open(SshTestbed.settings());
    var result = transport.run(Command.shell("cat; echo oops >&2; exit 3").withStdin("in put é"));
    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.stdout()).isEqualTo("in put é");
    assertThat(result.stderr()).isEqualTo("oops\n");
  }

  @Test
  void aMegabyteOfStdinRoundTrips() throws Exception {
    var transport = open(SshTestbed.settings());
    var bytes = new byte[1 << 20];
    new Random(7).nextBytes(bytes);
    var text = java.util.Base64.getEncoder().encodeToString(bytes);
    var result = transport.run(Command.of("cat").withStdin(text));
    assertThat(result.stdout()).isEqualTo(text);
  }

  @Test
  void passesEnvironment() throws Exception {
    var transport = open(SshTestbed.settings());
    var result = transport.run(Command.shell("printf %s \"$JY_X\"")
        .withEnvironment(Map.of("JY_X", "$(not run) 'q'")));
    assertThat(result.stdout()).isEqualTo("$(not run) 'q'");
  }

  @Test
  void aMissingProgramIsAResultNotAnException() throws Exception {
    var transport = open(SshTestbed.settings());
    var result = transport.run(Command.of("/no/such/program"));
    assertThat(result.exitCode()).isEqualTo(127);
    assertThat(result.stderr()).contains("/no/such/program");
  }

  @Test
  void killsACommandThatOverrunsItsTimeoutWithARetryableError() throws Exception {
    var transport = open(SshTestbed.settings());
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> transport.run(Command.of("sleep", "31.7")
        .withTimeout(Duration.ofMillis(500))))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("timed out")
        .matches(e -> ((TransportException) e).isRetryable());
    // ended by its timeout, long before the command would have ended by itself
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
    // the remote process is gone, not merely abandoned
    await().atMost(Duration.ofSeconds(5)).until(() ->
        transport.run(Command.of("pgrep", "-f", "sleep 31[.]7")).exitCode() == 1);
    assertThat(transport.run(Command.of("echo", "still fine")).stdout()).isEqualTo("still fine\n");
  }

  @Test
  void startCompletesWhenTheCommandEnds() throws Exception {
    var transport = open(SshTestbed.settings());
    var future = transport.start(Command.shell("echo done; exit 4"));
    var result = future.get(10, TimeUnit.SECONDS);
    assertThat(result.exitCode()).isEqualTo(4);
    assertThat(result.stdout()).isEqualTo("done\n");
  }

  @Test
  void aFileWithSpacesAndQuotesInItsNameRoundTripsThroughUploadAndDownload(@TempDir Path dir)
      throws Exception {
    var transport = open(SshTestbed.settings());
    var src = dir.resolve("a 'quoted' \"file\" $name.txt");
    var payload = "payload é 日本\n".repeat(1000);
    Files.writeString(src, payload);
    var remoteDir = ".jobyard/ssh-test " + System.nanoTime() + "/sub 'dir' é";
    var remote = remoteDir + "/b \"x\" 'y' *?.txt";
    transport.upload(src, remote); // relative: under the login home
    var listed = transport.run(Command.of("cat", remote));
    assertThat(listed.exitCode()).isZero();
    assertThat(listed.stdout()).isEqualTo(payload);
    var back = dir.resolve("back dir/c 'd'.txt");
    transport.download(remote, back);
    assertThat(Files.readString(back)).isEqualTo(payload);
    // an absolute path works too, and overwrites
    var home = transport.run(Command.shell("printf %s \"$HOME\"")).stdout();
    Files.writeString(src, "second");
    transport.upload(src, home + "/" + remote);
    transport.download(remote, back);
    assertThat(Files.readString(back, StandardCharsets.UTF_8)).isEqualTo("second");
    transport.run(Command.of("rm", "-rf", remoteDir.substring(0, remoteDir.indexOf("/sub"))));
  }

  @Test
  void downloadingAMissingFileIsNotRetryable(@TempDir Path dir) throws Exception {
    var transport = open(SshTestbed.settings());
    assertThatThrownBy(() -> transport.download("no/such/file here", dir.resolve("x")))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("no such file")
        .matches(e -> !((TransportException) e).isRetryable());
  }

  @Test
  void anUnknownHostIsRefusedWithAMessageSayingWhatToDo(@TempDir Path dir) throws Exception {
    var empty = Files.createFile(dir.resolve("known_hosts"));
    var settings = SshTestbed.settings().withKnownHosts(empty);
    var transport = open(settings);
    assertThatThrownBy(() -> transport.run(Command.of("true")))
        .isInstanceOf(TransportException.class)
        .matches(e -> !((TransportException) e).isRetryable())
        .hasMessageContaining(settings.host())
        .hasMessageContaining(empty.toString())
        .hasMessageContaining("ssh-keyscan -p " + settings.port() + " " + settings.host()
            + " >> " + empty);
    assertThat(transport.stats().connectionsOpen()).isZero();
  }

  @Test
  void aChangedHostKeyIsRefusedWithAMessageSayingWhatToDo(@TempDir Path dir) throws Exception {
    var settings = SshTestbed.settings();
    var other = new String(getClass().getResourceAsStream("/ssh-other-host-key.pub")
        .readAllBytes(), StandardCharsets.UTF_8).strip();
    var file = dir.resolve("known_hosts");
    Files.writeString(file, "[" + settings.host() + "]:" + settings.port() + " " + other + "\n");
    var transport = open(settings.withKnownHosts(file));
    assertThatThrownBy(() -> transport.run(Command.of("true")))
        .isInstanceOf(TransportException.class)
        .matches(e -> !((TransportException) e).isRetryable())
        .hasMessageContaining("does not match")
        .hasMessageContaining(settings.host())
        .hasMessageContaining(file.toString())
        .hasMessageContaining("ssh-keyscan");
  }

  @Test
  void anUnreachablePortFailsWithinItsConnectTimeout() throws Exception {
    int closedPort;
    try (var s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort(); // free again once closed: nothing listens there
    }
    var settings = SshTestbed.settings().withPort(closedPort)
        .withConnectTimeout(Duration.ofSeconds(2));
    var transport = open(settings);
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> transport.run(Command.of("true")))
        .isInstanceOf(TransportException.class)
        .matches(e -> ((TransportException) e).isRetryable())
        .hasMessageContaining("unreachable")
        .hasMessageContaining(String.valueOf(closedPort));
    var took = Duration.ofNanos(System.nanoTime() - t0);
    System.out.println("closed port failed after " + took.toMillis() + " ms; " + transport.stats());
    // bounded by the connect timeout, with room for a loaded machine; retried meanwhile
    assertThat(took).isLessThan(Duration.ofSeconds(20));
    assertThat(transport.stats().failures()).isGreaterThan(1);
  }

  @Test
  void logsInWithAnRsaKey() throws Exception {
    var settings = SshTestbed.settings();
    var rsa = Path.of(org.jobyard.testkit.Testbed.get("SSH_IDENTITY_RSA"));
    var transport = open(settings.withIdentity(rsa));
    assertThat(transport.run(Command.of("echo", "rsa")).stdout()).isEqualTo("rsa\n");
  }

  @Test
  void aWrongKeyIsRefusedAsALoginFailure() throws Exception {
    var other = Files.createTempFile("ssh-other", "");
    Files.delete(other);
    new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.toString())
        .inheritIO().start().waitFor();
    try {
      var transport = open(SshTestbed.settings().withIdentity(other));
      assertThatThrownBy(() -> transport.run(Command.of("true")))
          .isInstanceOf(TransportException.class)
          .matches(e -> !((TransportException) e).isRetryable())
          .hasMessageContaining("login refused")
          .hasMessageContaining(other.toString());
    } finally {
      Files.deleteIfExists(other);
      Files.deleteIfExists(Path.of(other + ".pub"));
    }
  }

  @Test
  void oldConnectionsAreRotatedWithoutKillingWhatRunsOnThem() throws Exception {
    var transport = open(SshTestbed.settings().withMaxConnectionAge(Duration.ofMillis(700))
        .withMaxConnections(2));
    var longOne = transport.start(Command.shell("sleep 1.5; echo survived"));
    await().atMost(Duration.ofSeconds(5)).until(() -> transport.stats().channelsInUse() == 1);
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).until(() -> {
      transport.run(Command.of("true"));
      return transport.stats().rotations() >= 1 && transport.stats().handshakes() >= 2;
    });
    assertThat(longOne.get(10, TimeUnit.SECONDS).stdout()).isEqualTo("survived\n");
    assertThat(transport.stats().reconnects()).isZero();
    assertThat(transport.stats().connectionsOpen()).isLessThanOrEqualTo(2);
  }

  @Test
  void whenTheHostGoesAwayCommandsInFlightFailRetryablyAndLaterOnesSucceedAfterOneReconnect(
      @TempDir Path dir) throws Exception {
    var base = SshTestbed.settings();
    try (var proxy = new SshTestProxy(base.host(), base.port())) {
      // a short keep-alive: should the reset not reach a connection, it is found dead anyway
      var transport = open(base.withPort(proxy.port())
          .withKnownHosts(SshTestbed.knownHostsForPort(dir, proxy.port()))
          .withKeepAliveInterval(Duration.ofSeconds(1)));
      for (int i = 0; i < 20; i++) {
        transport.run(Command.of("true"));
      }
      var inFlight = new ArrayList<CompletableFuture<CommandResult>>();
      var marker = String.format("%06d", new Random().nextInt(1_000_000)); // this run's sleeps
      for (int i = 0; i < 5; i++) {
        inFlight.add(transport.start(Command.of("sleep", "20." + marker)));
      }
      // in flight means running on the host, seen past the proxy
      var direct = open(base);
      await().atMost(Duration.ofSeconds(10)).until(() -> direct.run(
          Command.of("pgrep", "-c", "-f", "^sleep 20[.]" + marker + "$")).stdout().strip().equals("5"));
      long before = transport.stats().handshakes();

      proxy.cut();
      for (var f : inFlight) {
        assertThatThrownBy(() -> f.get(15, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause().isInstanceOf(TransportException.class)
            .hasMessageContaining("lost")
            .matches(e -> ((TransportException) e).isRetryable());
      }
      // 30 callers arrive while the host is away; they share one reconnect attempt at a time
      var later = new ArrayList<CompletableFuture<CommandResult>>();
      for (int i = 0; i < 30; i++) {
        later.add(transport.start(Command.of("echo", "after " + i)));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> transport.stats().failures() >= 2);
      proxy.resume();
      for (int i = 0; i < 30; i++) {
        assertThat(later.get(i).get(20, TimeUnit.SECONDS).stdout()).isEqualTo("after " + i + "\n");
      }
      var stats = transport.stats();
      System.out.println("after the outage: " + stats);
      assertThat(stats.reconnects()).isEqualTo(1);
      assertThat(stats.handshakes() - before).isBetween(1L, (long) base.maxConnections());
      // attempts were spaced by back-off, not one per waiting caller
      assertThat(stats.failures()).isLessThan(15);
    }
  }

  @Test
  void whenTheHostStaysAwayCallersGetAClearRetryableErrorAfterTheConnectTimeout(
      @TempDir Path dir) throws Exception {
    var base = SshTestbed.settings();
    try (var proxy = new SshTestProxy(base.host(), base.port())) {
      var transport = open(base.withPort(proxy.port())
          .withKnownHosts(SshTestbed.knownHostsForPort(dir, proxy.port()))
          .withConnectTimeout(Duration.ofSeconds(2)));
      transport.run(Command.of("true"));
      proxy.cut();
      await().atMost(Duration.ofSeconds(5)).until(() -> transport.stats().connectionsOpen() == 0);
      var callers = new ArrayList<CompletableFuture<CommandResult>>();
      for (int i = 0; i < 10; i++) {
        callers.add(transport.start(Command.of("true")));
      }
      for (var f : callers) {
        assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
            .cause().isInstanceOf(TransportException.class)
            .hasMessageContaining("unreachable")
            .matches(e -> ((TransportException) e).isRetryable());
      }
      assertThat(transport.stats().failures()).isLessThan(10);
    }
  }
}
