package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jobyard.engine.config.ConfigException;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.config.EngineConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code api} section of conf/jobyard.yaml and the tokens it gives. */
class ApiConfigTest {
  @TempDir
  Path home;

  EngineConfig load(String yaml) throws Exception {
    return ConfigLoader.load(home, Files.writeString(home.resolve("c.yaml"), yaml));
  }

  @Test
  void readsTokensInlineAndFromFiles() throws Exception {
    Files.writeString(home.resolve("bob.token"), "bob-secret-0123456789\n");
    var api = load("""
        api:
          listen: 0.0.0.0:8642
          tokens:
            - {user: alice, token: alice-secret-0123456789}
            - {user: bob, token_file: bob.token, admin: true}
        """).api();
    assertThat(api.listen()).isEqualTo("0.0.0.0:8642");
    assertThat(api.tokens()).containsExactly(
        new EngineConfig.Api.Token("alice", "alice-secret-0123456789", false),
        new EngineConfig.Api.Token("bob", "bob-secret-0123456789", true));
    assertThat(api.tokens().toString()).doesNotContain("secret");

    var auth = new Authenticator(api.tokens());
    assertThat(auth.authenticate("Bearer bob-secret-0123456789")).get()
        .matches(c -> c.user().equals("bob") && c.admin());
    assertThat(auth.authenticate("bearer alice-secret-0123456789")).get()
        .matches(c -> c.user().equals("alice") && !c.admin());
    assertThat(auth.authenticate("Bearer alice-secret-012345678")).isEmpty();
    assertThat(auth.authenticate("Basic YWxpY2U6eA==")).isEmpty();
    assertThat(auth.authenticate(null)).isEmpty();
  }

  @Test
  void defaultsToLoopbackOnAFreePortWithNoOtherUsers() throws Exception {
    var api = load("{}").api();
    assertThat(api.listen()).isEqualTo("127.0.0.1:0");
    assertThat(api.tokens()).isEmpty();
  }

  @Test
  void rejectsWeakDuplicateOrMisspelledTokenEntriesNamingThem() {
    assertThatThrownBy(() -> load("api: {tokens: [{user: a, token: short}]}"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("api.tokens[1]")
        .hasMessageContaining("16");
    assertThatThrownBy(() -> load("""
        api: {tokens: [{user: a, token: same-token-0123456789}, {user: b, token: same-token-0123456789}]}
        """)).hasMessageContaining("api.tokens[2]").hasMessageContaining("already");
    assertThatThrownBy(() -> load("api: {tokens: [{user: a, tokn: x}]}"))
        .hasMessageContaining("tokn");
    assertThatThrownBy(() -> load("api: {listen: localhost}")).hasMessageContaining("host:port");
    assertThatThrownBy(() -> load("api: {port: 80}")).hasMessageContaining("port");
    assertThatThrownBy(() -> load("api: {tokens: [{user: a, token_file: nope.token}]}"))
        .hasMessageContaining("nope.token");
  }
}
