package org.jobyard.engine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.Layout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jobyard config}: what is in force, from where, with no secret shown. */
class ConfigCommandTest {
  @TempDir
  Path home;
  Path file;

  @BeforeEach
  void setUp() throws Exception {
    file = home.resolve("site.yaml");
    Files.writeString(file, """
        database: {url: jdbc:h2:mem:cfg, user: ops, password: db-secret-value}
        api:
          tokens: [{user: alice, token: alice-secret-token-0123}]
        clusters:
          hpc:
            backend: slurm
            partition: debug
            transport: {type: ssh, host: login, user: alice, passphrase: key-secret-value}
        """);
    System.setProperty(Layout.HOME_PROPERTY, home.toString());
  }

  @AfterEach
  void tearDown() {
    System.clearProperty(Layout.HOME_PROPERTY);
  }

  @Test
  void printsTheEffectiveConfigurationWithItsSourcesAndNoSecret() throws Exception {
    var out = new StringWriter();
    var err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "config",
        "--config", file.toString(), "-o", "json");
    assertThat(exit).as(err.toString()).isZero();
    assertThat(out.toString()).doesNotContain("db-secret-value")
        .doesNotContain("alice-secret-token-0123").doesNotContain("key-secret-value");
    var json = new ObjectMapper().readTree(out.toString());
    assertThat(json.at("/sources/state").asText()).isEqualTo(home.resolve("var").toString());
    assertThat(json.at("/sources/file").asText()).isEqualTo(file.toString());
    assertThat(json.at("/sources/file_from").asText()).isEqualTo("--config");
    assertThat(json.at("/sources/sections/database").asText()).isEqualTo(file.toString());
    assertThat(json.at("/sources/sections/engine").asText()).isEqualTo("built-in default");
    assertThat(json.at("/config/database/user").asText()).isEqualTo("ops");
    assertThat(json.at("/config/database/password").asText()).isEqualTo(ConfigCommand.MASK);
    assertThat(json.at("/config/api/tokens/0/token").asText()).isEqualTo(ConfigCommand.MASK);
    assertThat(json.at("/config/clusters/hpc/transport/passphrase").asText())
        .isEqualTo(ConfigCommand.MASK);
    assertThat(json.at("/config/clusters/hpc/partition").asText()).isEqualTo("debug");
    assertThat(json.at("/config/engine/poll_interval").asText()).isEqualTo("5s");
  }

  @Test
  void namesTheVariableThatOverrodeASettingAndTheFileForTheRest() {
    var env = Map.of("JOBYARD_DATABASE_URL", "jdbc:h2:mem:env",
        "JOBYARD_API_LISTEN", "127.0.0.1:7000");
    var layout = Layout.discover(null, file, env, System.getProperties());
    var effective = ConfigLoader.effective(layout, env);
    var origins = ConfigCommand.origins(layout, effective,
        new java.util.LinkedHashSet<>(java.util.List.of("database", "api", "metrics")));
    assertThat(origins.get("database")).isEqualTo(file + " + JOBYARD_DATABASE_URL");
    assertThat(origins.get("api")).isEqualTo(file + " + JOBYARD_API_LISTEN");
    assertThat(origins.get("metrics")).isEqualTo("built-in default");
    var onlyEnv = Layout.discover(null, null, Map.of("HOME", home.toString()),
        System.getProperties());
    var envOnly = Map.of("JOBYARD_API_LISTEN", "127.0.0.1:7000");
    assertThat(ConfigCommand.origins(onlyEnv, ConfigLoader.effective(onlyEnv, envOnly),
        java.util.Set.of("api")).get("api"))
        .isEqualTo("JOBYARD_API_LISTEN (the rest: built-in default)");
  }

  @Test
  void aBrokenFileIsReportedInOneLineWithExitTwo() throws Exception {
    Files.writeString(file, "engine: {poll_interval: never}\n");
    var out = new StringWriter();
    var err = new StringWriter();
    int exit = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), "config",
        "--config", file.toString());
    assertThat(exit).isEqualTo(Main.BAD_INPUT);
    assertThat(err.toString()).contains(file.toString()).contains("engine.poll_interval")
        .doesNotContain("\tat ");
    assertThat(err.toString().strip().lines()).hasSize(1);
  }
}
