package org.jobyard.engine.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jobyard.api.Condition;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.manager.Cluster;
import org.jobyard.engine.plugin.PluginRegistry;
import org.jobyard.engine.transport.http.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the engine equips each cluster for its backend: a transport only where one is needed or
 * configured, an HTTPS client for a REST backend, secrets by reference.
 */
class ClusterWiringTest {
  @TempDir Path home;
  final ClusterConditions conditions = new ClusterConditions();

  List<Cluster> clusters(String yaml) throws Exception {
    var conf = Files.writeString(home.resolve("jobyard.yaml"), yaml);
    var config = ConfigLoader.load(home, conf);
    return new ClusterFactory(config, PluginRegistry.load(home.resolve("plugins")),
        (name, backend) -> backend, conditions).create(name -> { });
  }

  @Test
  void aRestBackendWithNoTransportConfiguredGetsNoneNeverASilentLocalOne() throws Exception {
    var made = clusters("""
        clusters:
          ce1: {backend: http-probe, url: 'https://ce.example.org/arex'}
        """);
    try {
      var context = HttpProbe.CONTEXTS.get("ce1");
      assertThat(context.optionalTransport()).isEmpty();
      assertThatThrownBy(context::transport).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cluster 'ce1' has no transport");
      assertThat(context.http().client()).isNotNull();
      assertThat(context.http().token()).isEmpty();
      assertThat(made.getFirst().transport().describe()).isEqualTo("none");
    } finally {
      made.forEach(Cluster::close);
    }
  }

  @Test
  void aRestBackendKeepsATransportTheConfigurationNames() throws Exception {
    var made = clusters("""
        clusters:
          ce2: {backend: http-probe, transport: local}
        """);
    try {
      assertThat(HttpProbe.CONTEXTS.get("ce2").optionalTransport()).get()
          .satisfies(t -> assertThat(t.describe()).isEqualTo("local"));
    } finally {
      made.forEach(Cluster::close);
    }
  }

  @Test
  void aCommandLineBackendOnTransportNoneIsRefusedAtStartNamingTheCluster() {
    assertThatThrownBy(() -> clusters("""
        clusters:
          hpc: {backend: scripted, transport: none}
        """)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("cluster 'hpc': backend 'scripted' runs commands on a submit host "
            + "and needs a transport, but the cluster has transport: none");
  }

  @Test
  void aCommandLineBackendWithNoTransportConfiguredStillRunsLocally() throws Exception {
    var made = clusters("""
        clusters:
          here: {backend: scripted}
        """);
    try {
      assertThat(made.getFirst().transport().describe()).isEqualTo("local");
    } finally {
      made.forEach(Cluster::close);
    }
  }

  @Test
  void anUnknownTransportTypeIsRefusedListingNone() {
    assertThatThrownBy(() -> clusters("""
        clusters:
          x: {backend: scripted, transport: nfs}
        """)).hasMessageContaining("clusters.x.transport.type: expected local, ssh or none, "
            + "got 'nfs'");
  }

  @Test
  void theBearerTokenIsResolvedFromAFileReferenceAndNeverPrinted() throws Exception {
    Files.writeString(home.resolve("ce.token"), "eyJ-the-token\n");
    var made = clusters("""
        clusters:
          ce3: {backend: http-probe, token: 'file:ce.token'}
        """);
    try {
      var token = HttpProbe.CONTEXTS.get("ce3").http().token().orElseThrow();
      assertThat(token.reveal()).isEqualTo("eyJ-the-token");
      assertThat(token.toString()).doesNotContain("eyJ").contains("****");
      assertThat(HttpProbe.CONTEXTS.get("ce3").toString()).doesNotContain("eyJ");
    } finally {
      made.forEach(Cluster::close);
    }
  }

  @Test
  void aTokenWrittenIntoTheConfigurationIsRefusedAtStart() {
    assertThatThrownBy(() -> clusters("""
        clusters:
          ce4: {backend: http-probe, token: eyJ-pasted-in}
        """)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("cluster 'ce4': setting 'token': a secret is given by reference")
        .hasMessageNotContaining("eyJ");
  }

  @Test
  void theClientCertificatesExpiryIsReportedAndWarnedAboutWhenNear() throws Exception {
    var proxy = TestPki.proxyFile(TestPki.ca("Jobyard Test CA"), home, Duration.ofMinutes(90));
    var made = clusters("""
        clusters:
          ce5: {backend: http-probe, proxy: '%s'}
        """.formatted(proxy));
    try {
      assertThat(conditions.credentials("ce5")).singleElement().satisfies(c -> {
        assertThat(c.get("name")).isEqualTo("proxy");
        assertThat(c.get("status")).isEqualTo("expiring");
        assertThat((long) c.get("expires_in_seconds")).isBetween(80 * 60L, 90 * 60L);
        assertThat((String) c.get("message")).matches("proxy expires in (1 h|8\\d min)");
      });
      assertThat(conditions.conditions("ce5")).singleElement().satisfies(c -> {
        assertThat(c.severity()).isEqualTo(Condition.Severity.WARNING);
        assertThat(c.message()).endsWith("renew it soon");
      });
      assertThat(conditions.degraded("ce5")).isTrue();
    } finally {
      made.forEach(Cluster::close);
    }
  }

  @Test
  void aCredentialReportedByTheBackendIsShownAsExpiredOncePast() {
    var board = new ClusterConditions();
    board.credentialExpires("ce", new org.jobyard.api.CredentialExpiry("delegation",
        Instant.now().minus(Duration.ofMinutes(10))));
    board.credentialExpires("ce", new org.jobyard.api.CredentialExpiry("token",
        Instant.now().plus(Duration.ofDays(3))));

    assertThat(board.credentials("ce")).extracting(c -> c.get("name") + " " + c.get("status"))
        .containsExactly("delegation expired", "token ok");
    assertThat(board.conditions("ce")).singleElement().satisfies(c ->
        assertThat(c.message()).matches("delegation expired 1\\d min ago; renew it: .*"));
  }
}
