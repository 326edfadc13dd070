package org.jobyard.engine.transport.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Command;
import org.jobyard.api.TransportException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The figure behind the pool: N short commands through it against N fresh {@code ssh}
 * processes, each of which pays a TCP connect, a key exchange and a login. What is asserted is
 * the count that makes the pool cheaper (handshakes); the times are printed for bench/.
 */
@Tag("testbed")
class SshPoolBenchmarkTest {
  /** 500 in a benchmark run ({@code -Djobyard.benchmark.ssh.commands=500}); 50 in the suite. */
  static final int N = Integer.getInteger("jobyard.benchmark.ssh.commands", 50);

  @Test
  void commandsThroughThePoolShareAFewHandshakesWhereFreshSshProcessesPayOneEach() throws Exception {
    var settings = SshTestbed.settings();
    long sequentialMs;
    long parallelMs;
    SshStats sequentialStats;
    SshStats parallelStats;
    try (var transport = SshTransport.open(settings)) {
      transport.run(Command.of("true")); // not timed: the first handshake and the probe
      long t0 = System.nanoTime();
      for (int i = 0; i < N; i++) {
        assertThat(transport.run(Command.of("true")).exitCode()).isZero();
      }
      sequentialMs = (System.nanoTime() - t0) / 1_000_000;
      sequentialStats = transport.stats();
    }
    try (var transport = SshTransport.open(settings);
        var pool = Executors.newFixedThreadPool(16)) {
      long t0 = System.nanoTime();
      var futures = new ArrayList<CompletableFuture<Void>>();
      for (int i = 0; i < N; i++) {
        futures.add(CompletableFuture.runAsync(() -> {
          try {
            transport.run(Command.of("true"));
          } catch (TransportException e) {
            throw new AssertionError(e);
          }
        }, pool));
      }
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
      parallelMs = (System.nanoTime() - t0) / 1_000_000;
      parallelStats = transport.stats();
    }
    long t0 = System.nanoTime();
    for (int i = 0; i < N; i++) {
      var p = new ProcessBuilder(List.of("ssh", "-F", "/dev/null", "-p",
          String.valueOf(settings.port()), "-i", settings.identity().toString(),
          "-o", "UserKnownHostsFile=" + settings.knownHosts(), "-o", "BatchMode=yes",
          "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
          settings.user() + "@" + settings.host(), "true"))
          .redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      assertThat(p.waitFor()).isZero();
    }
    long sshMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("%d x true, pool, 1 thread:    %6d ms (%.2f ms/command), %s%n", N,
        sequentialMs, sequentialMs / (double) N, sequentialStats);
    System.out.printf("%d x true, pool, 16 threads:  %6d ms (%.2f ms/command), %s%n", N,
        parallelMs, parallelMs / (double) N, parallelStats);
    System.out.printf("%d x true, fresh ssh process: %6d ms (%.2f ms/command), %d handshakes%n",
        N, sshMs, sshMs / (double) N, N);
    assertThat(sequentialStats.handshakes()).isEqualTo(1);
    assertThat(parallelStats.handshakes()).isLessThanOrEqualTo(settings.maxConnections());
    // the times are printed, not asserted: shared machines drift (bench/ records the figures)
  }
}
