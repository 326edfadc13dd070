package org.jobyard.engine.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secrets come from files and the environment, by reference, and never show in text. */
class SecretResolverTest {
  @TempDir Path home;

  SecretResolver resolver(Map<String, String> settings, Map<String, String> env) {
    return new SecretResolver(new Settings("cluster 'ce'", settings), home, env);
  }

  @Test
  void anEnvironmentReferenceIsResolvedAndMasked() throws Exception {
    var secret = resolver(Map.of("password", "env:CE_PASSWORD"),
        Map.of("CE_PASSWORD", "hunter2-hunter2")).secret("password").orElseThrow();

    assertThat(secret.reveal()).isEqualTo("hunter2-hunter2");
    assertThat(secret).hasToString("Secret[cluster 'ce': setting 'password', ****]");
  }

  @Test
  void anAbsentSettingIsNoSecret() throws Exception {
    assertThat(resolver(Map.of(), Map.of()).secret("token")).isEmpty();
  }

  @Test
  void referencesThatCannotBeResolvedAreRefusedNamingTheSettingAndNotTheValue()
      throws Exception {
    Files.writeString(home.resolve("empty.token"), "\n");

    assertThatThrownBy(() -> resolver(Map.of("token", "env:NOT_SET"), Map.of()).secret("token"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessage("cluster 'ce': setting 'token': the environment variable NOT_SET is not set "
            + "(or empty) in the engine's environment");
    assertThatThrownBy(() -> resolver(Map.of("token", "file:missing.token"), Map.of())
        .secret("token")).hasMessageContaining("cluster 'ce': setting 'token': cannot read "
            + home.resolve("missing.token"));
    assertThatThrownBy(() -> resolver(Map.of("token", "file:empty.token"), Map.of())
        .secret("token")).hasMessageEndingWith("empty.token is empty");
  }
}
