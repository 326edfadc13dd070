package org.jobyard.engine.transport.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.jobyard.api.ConfigurationException;
import org.junit.jupiter.api.Test;

class SshSettingsTest {
  private static final String HOME = System.getProperty("user.home");

  private static Map<String, Object> block() {
    var m = new HashMap<String, Object>();
    m.put("type", "ssh");
    m.put("host", "login.example.org");
    m.put("user", "alice");
    m.put("identity", "~/.ssh/id_ed25519");
    return m;
  }

  @Test
  void fillsDefaultsAndExpandsTheHomeFolder() throws Exception {
    var s = SshSettings.fromMap(block());
    assertThat(s.host()).isEqualTo("login.example.org");
    assertThat(s.port()).isEqualTo(22);
    assertThat(s.user()).isEqualTo("alice");
    assertThat(s.identity()).isEqualTo(Path.of(HOME, ".ssh", "id_ed25519"));
    assertThat(s.knownHosts()).isEqualTo(Path.of(HOME, ".ssh", "known_hosts"));
    assertThat(s.maxConnections()).isEqualTo(4);
    assertThat(s.maxChannelsPerConnection()).isZero(); // probed
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.keepAliveInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(s.maxConnectionAge()).isEqualTo(Duration.ofMinutes(10));
    assertThat(s.commandTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.describe()).isEqualTo("ssh://alice@login.example.org:22");
  }

  @Test
  void readsEveryField() throws Exception {
    var m = block();
    m.put("port", 2222);
    m.put("known_hosts", "/etc/jobyard/known_hosts");
    m.put("max_connections", "2");
    m.put("max_channels_per_connection", 8);
    m.put("connect_timeout", "5s");
    m.put("keep_alive_interval", 30);
    m.put("max_connection_age", "1h30m");
    m.put("command_timeout", "2m");
    var s = SshSettings.fromMap(m);
    assertThat(s.port()).isEqualTo(2222);
    assertThat(s.knownHosts()).isEqualTo(Path.of("/etc/jobyard/known_hosts"));
    assertThat(s.maxConnections()).isEqualTo(2);
    assertThat(s.maxChannelsPerConnection()).isEqualTo(8);
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.keepAliveInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.maxConnectionAge()).isEqualTo(Duration.ofMinutes(90));
    assertThat(s.commandTimeout()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void aMissingHostIsNamed() {
    var m = block();
    m.remove("host");
    assertThatThrownBy(() -> SshSettings.fromMap(m))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("'host' is required");
  }

  @Test
  void aPortOutOfRangeIsNamed() {
    var m = block();
    m.put("port", 70000);
    assertThatThrownBy(() -> SshSettings.fromMap(m))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("'port' must be between 1 and 65535, not 70000");
  }

  @Test
  void aBadDurationIsNamedWithWhatWasExpected() {
    var m = block();
    m.put("connect_timeout", "soon");
    assertThatThrownBy(() -> SshSettings.fromMap(m))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("'connect_timeout' must be a positive duration")
        .hasMessageContaining("'soon'");
  }

  @Test
  void aNonNumberIsNamed() {
    var m = block();
    m.put("max_connections", "many");
    assertThatThrownBy(() -> SshSettings.fromMap(m))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("'max_connections' must be a whole number, not 'many'");
  }

  @Test
  void anUnknownFieldIsNamed() {
    var m = block();
    m.put("max_conections", 3);
    assertThatThrownBy(() -> SshSettings.fromMap(m))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("max_conections");
  }

  @Test
  void anotherTypeIsRefused() {
    var m = block();
    m.put("type", "local");
    assertThatThrownBy(() -> SshSettings.fromMap(m))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("type must be 'ssh'");
  }

  @Test
  void sftpNamesAreQuotedAgainstJschGlobbing() {
    assertThat(SshTransport.globQuote("a b/'c' \"d\" é.txt")).isEqualTo("a b/'c' \"d\" é.txt");
    assertThat(SshTransport.globQuote("x*?\\y")).isEqualTo("x\\*\\?\\\\y");
  }

  @Test
  void aHostAliasOfTheUsersSshConfigGivesHostUserPortAndKey(
      @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    var config = java.nio.file.Files.writeString(dir.resolve("config"), """
        Host hpc
          HostName login.hpc.example.org
          User bob
          Port 2222
          IdentityFile ~/.ssh/id_hpc
        Host *
          User nobody-else
        """);
    var s = SshSettings.fromMap(Map.of("type", "ssh", "host", "hpc"), config);
    assertThat(s.host()).isEqualTo("login.hpc.example.org");
    assertThat(s.user()).isEqualTo("bob");
    assertThat(s.port()).isEqualTo(2222);
    assertThat(s.identity()).isEqualTo(Path.of(HOME, ".ssh/id_hpc"));

    var own = SshSettings.fromMap(Map.of("type", "ssh", "host", "hpc", "user", "carol",
        "port", 22, "identity", "/keys/carol"), config);
    assertThat(own.user()).as("the block wins over the file").isEqualTo("carol");
    assertThat(own.port()).isEqualTo(22);
    assertThat(own.identity()).isEqualTo(Path.of("/keys/carol"));
    assertThat(own.host()).isEqualTo("login.hpc.example.org");

    var missing = SshSettings.fromMap(block(), dir.resolve("no-such-config"));
    assertThat(missing.host()).isEqualTo("login.example.org");
  }

  @Test
  void aProxyJumpOfTheSshConfigIsFollowedThroughItsOwnAlias(
      @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    var config = java.nio.file.Files.writeString(dir.resolve("config"), """
        Host hpc
          HostName login.hpc.example.org
          User bob
          ProxyJump gate
        Host gate
          HostName gateway.example.org
          Port 2200
        """);
    var s = SshSettings.fromMap(Map.of("type", "ssh", "host", "hpc", "identity", "/k"), config,
        Map.of());
    assertThat(s.jump()).isEqualTo(new SshSettings.Jump("gateway.example.org", 2200, "bob"));
    assertThat(s.describe()).isEqualTo(
        "ssh://bob@login.hpc.example.org:22 via bob@gateway.example.org:2200");

    var given = SshSettings.fromMap(Map.of("type", "ssh", "host", "hpc", "identity", "/k",
        "proxy_jump", "eve@10.0.0.1:2022"), config, Map.of());
    assertThat(given.jump()).as("the block wins").isEqualTo(
        new SshSettings.Jump("10.0.0.1", 2022, "eve"));
    var none = SshSettings.fromMap(Map.of("type", "ssh", "host", "hpc", "identity", "/k",
        "proxy_jump", "none"), config, Map.of());
    assertThat(none.jump()).isNull();
  }

  @Test
  void refusesAJumpItCannotFollow() {
    var m = block();
    m.put("proxy_jump", "a.example.org,b.example.org");
    assertThatThrownBy(() -> SshSettings.fromMap(m, Path.of("/no-such"), Map.of()))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("several jump hosts");
    m.put("proxy_jump", "gate:99999");
    assertThatThrownBy(() -> SshSettings.fromMap(m, Path.of("/no-such"), Map.of()))
        .hasMessageContaining("proxy_jump 'gate:99999'").hasMessageContaining("1-65535");
  }

  @Test
  void withoutAnIdentityTheKeysOfTheAgentAtSshAuthSockLogIn() throws Exception {
    var m = block();
    m.remove("identity");
    var s = SshSettings.fromMap(m, Path.of("/no-such"), Map.of("SSH_AUTH_SOCK", "/run/a.sock"));
    assertThat(s.agent()).isEqualTo(Path.of("/run/a.sock"));
    assertThat(s.identity()).isNull();
    assertThat(s.credential()).contains("ssh-agent at /run/a.sock");
    assertThat(SshSettings.fromMap(block(), Path.of("/no-such"),
        Map.of("SSH_AUTH_SOCK", "/run/a.sock")).agent()).as("an identity given wins").isNull();
    assertThatThrownBy(() -> SshSettings.fromMap(m, Path.of("/no-such"), Map.of()))
        .hasMessageContaining("'identity' is required");
    m.put("agent", true);
    assertThatThrownBy(() -> SshSettings.fromMap(m, Path.of("/no-such"), Map.of()))
        .hasMessageContaining("SSH_AUTH_SOCK is not set");
    m.put("agent", "/tmp/agent.sock");
    assertThat(SshSettings.fromMap(m, Path.of("/no-such"), Map.of()).agent())
        .isEqualTo(Path.of("/tmp/agent.sock"));
  }
}
