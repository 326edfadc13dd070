package org.jobyard.engine.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which token the CLI sends where: each only to the engine it belongs to. */
class CredentialsTest {
  static final URI LOCAL = URI.create("http://127.0.0.1:27659/");

  @TempDir
  Path dir;
  Path run;
  Map<String, String> env;

  @BeforeEach
  void anInstallationWithARunningEngine() throws Exception {
    run = Files.createDirectories(dir.resolve("var/run"));
    Files.writeString(run.resolve("engine.url"), LOCAL + "\n");
    Files.writeString(run.resolve("token"), "local-admin-token\n");
    env = Map.of("XDG_CONFIG_HOME", dir.resolve("config").toString());
  }

  @Test
  void sendsTheVarRunTokenOnlyToTheVarRunEngine() {
    assertThat(Credentials.of(LOCAL, env, run).token()).isEqualTo("local-admin-token");
    assertThat(Credentials.of(URI.create("http://127.0.0.1:27659/api/v1/"), env, run).token())
        .isEqualTo("local-admin-token");
    assertThat(Credentials.of(URI.create("http://127.0.0.1:8080/"), env, run).token()).isNull();
    assertThat(Credentials.of(URI.create("https://127.0.0.1:27659/"), env, run).token())
        .isNull();
  }

  @Test
  void takesAnotherEnginesTokenFromTheEnvironmentOrTheUsersEntryForIt() throws Exception {
    var other = URI.create("https://batch.example.org:8642/");
    assertThat(Credentials.of(other, Map.of("JOBYARD_TOKEN", "from-env"), run).token())
        .isEqualTo("from-env");
    Files.createDirectories(dir.resolve("config/jobyard"));
    Files.writeString(dir.resolve("batch.token"), "batch-token\n");
    Files.writeString(dir.resolve("config/jobyard/engines.yaml"), """
        engines:
          - {url: "https://batch.example.org:8642", token_file: %s}
          - {url: "https://other.example.org:8642", token: other-token}
        """.formatted(dir.resolve("batch.token")));
    assertThat(Credentials.of(other, env, run).token()).isEqualTo("batch-token");
    assertThat(Credentials.of(URI.create("https://batch.example.org:9999/"), env, run).token())
        .isNull();
  }

  @Test
  void refusesPlainHttpBeyondLoopback() {
    assertThatThrownBy(() -> Credentials.of(URI.create("http://192.0.2.7:8642/"), env, run))
        .isInstanceOf(CliException.class).hasMessageContaining("refusing plain HTTP");
  }
}
