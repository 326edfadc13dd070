package org.jobyard.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.ConnectionException;
import org.junit.jupiter.api.Test;

/** Which database errors mean "the store is away", and how the health follows them. */
class StoreHealthTest {

  @Test
  void aLostOrRefusedConnectionAShutdownAndAFullOrReadOnlyDiskAreOutages() {
    assertThat(StoreHealth.isOutage(new ConnectionException(new SQLException(
        "Connection refused", "08001")))).isTrue();
    assertThat(StoreHealth.isOutage(new RuntimeException(new SQLException(
        "An I/O error occurred while sending to the backend", "08006")))).isTrue();
    assertThat(StoreHealth.isOutage(new SQLException("terminating connection due to "
        + "administrator command", "57P01"))).as("PostgreSQL shutting down").isTrue();
    assertThat(StoreHealth.isOutage(new SQLException("could not extend file: No space left on "
        + "device", "53100"))).as("PostgreSQL disk full").isTrue();
    assertThat(StoreHealth.isOutage(new SQLException("The database is read only", "HY000",
        90097))).as("H2 read-only").isTrue();
    assertThat(StoreHealth.isOutage(new RuntimeException(new IOException(
        "No space left on device")))).as("H2 disk full").isTrue();
    assertThat(StoreHealth.isOutage(new SQLTransientConnectionException("Connection is not "
        + "available, request timed out after 500ms", "08001", new SQLException("refused"))))
        .as("Hikari timing out because the database refuses connections").isTrue();
  }

  @Test
  void aBusyPoolABadStatementOrAConstraintIsNotAnOutage() {
    assertThat(StoreHealth.isOutage(new SQLTransientConnectionException("Connection is not "
        + "available, request timed out after 500ms"))).as("every connection busy").isFalse();
    assertThat(StoreHealth.isOutage(new SQLException("syntax error", "42601"))).isFalse();
    assertThat(StoreHealth.isOutage(new SQLException("duplicate key", "23505"))).isFalse();
    assertThat(StoreHealth.isOutage(new IllegalStateException("a bug"))).isFalse();
  }

  @Test
  void whileDownAccessIsRefusedAtOnceAndABackgroundProbeNoticesTheReturn() {
    var back = new AtomicBoolean();
    var probes = new AtomicInteger();
    var health = new StoreHealth("jdbc:test", () -> {
      probes.incrementAndGet();
      if (!back.get()) {
        throw new RuntimeException(new SQLException("Connection refused", "08001"));
      }
    });
    health.down(new SQLException("Connection refused", "08001"));

    long start = System.nanoTime();
    assertThatThrownBy(health::checkAvailable).isInstanceOf(StoreUnavailableException.class)
        .hasMessageStartingWith("store unavailable: the job store at jdbc:test does not answer")
        .hasMessageContaining("Connection refused").hasMessageContaining("try again");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(100));
    assertThat(health.available()).isFalse();

    back.set(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      try {
        health.checkAvailable();
        return true;
      } catch (StoreUnavailableException e) {
        return false;
      }
    });
    assertThat(health.available()).isTrue();
    assertThat(probes.get()).as("probes, at most one a second").isBetween(1, 12);
  }
}
