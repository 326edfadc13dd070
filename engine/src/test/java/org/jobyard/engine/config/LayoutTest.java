package org.jobyard.engine.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where state and configuration are found for a shared install (issue 21). */
class LayoutTest {
  @TempDir
  Path tmp;
  Path install;
  Path user;
  Map<String, String> env;
  Properties props;

  @BeforeEach
  void setUp() throws Exception {
    install = Files.createDirectories(tmp.resolve("opt/jobyard"));
    user = Files.createDirectories(tmp.resolve("home/alice"));
    env = new HashMap<>(Map.of("HOME", user.toString()));
    props = new Properties();
    props.setProperty(Layout.INSTALL_PROPERTY, install.toString());
  }

  Layout discover(Path homeOption, Path configOption) {
    return Layout.discover(homeOption, configOption, env, props);
  }

  @Test
  void aWritableInstallKeepsItsStateInItsOwnVarAsTheUnpackedTarballDoes() {
    var l = discover(null, null);
    assertThat(l.state()).isEqualTo(install.resolve("var"));
    assertThat(l.config()).isNull();
    assertThat(l.load(env).database().url()).contains(install.resolve("var/db").toString());
  }

  @Test
  void anInstallThatCannotHoldVarPutsStateInTheUsersStateFolder() {
    // root may write anywhere, so "read-only" here is an install folder that cannot get a var/
    props.setProperty(Layout.INSTALL_PROPERTY, tmp.resolve("no/such/install").toString());
    assertThat(discover(null, null).state()).isEqualTo(user.resolve(".local/state/jobyard"));
    env.put("XDG_STATE_HOME", tmp.resolve("xdg-state").toString());
    var l = discover(null, null);
    assertThat(l.state()).isEqualTo(tmp.resolve("xdg-state/jobyard"));
    assertThat(l.stateOrigin()).contains("XDG_STATE_HOME");
    assertThat(l.load(env).varDir()).isEqualTo(tmp.resolve("xdg-state/jobyard"));
  }

  @Test
  void anExplicitHomeWinsOverTheInstallAndTheOptionOverTheVariable() {
    env.put("JOBYARD_HOME", tmp.resolve("from-env").toString());
    assertThat(discover(null, null).state()).isEqualTo(tmp.resolve("from-env/var"));
    var l = discover(tmp.resolve("from-option"), null);
    assertThat(l.state()).isEqualTo(tmp.resolve("from-option/var"));
    assertThat(l.stateOrigin()).isEqualTo("--home");
    assertThat(l.install()).as("plugins still come from the install").isEqualTo(install);
  }

  @Test
  void theConfigurationIsTheFirstOfOptionVariableHomeUserAndInstall() throws Exception {
    var option = write(tmp.resolve("option.yaml"));
    var variable = write(tmp.resolve("variable.yaml"));
    var home = write(tmp.resolve("myhome/conf/jobyard.yaml"));
    var userConf = write(user.resolve(".config/jobyard/jobyard.yaml"));
    var installConf = write(install.resolve("conf/jobyard.yaml"));
    env.put("JOBYARD_CONFIG", variable.toString());
    env.put("JOBYARD_HOME", tmp.resolve("myhome").toString());

    assertThat(discover(null, option).config()).isEqualTo(option);
    assertThat(discover(null, null).config()).isEqualTo(variable);
    env.remove("JOBYARD_CONFIG");
    assertThat(discover(null, null).config()).isEqualTo(home);
    env.remove("JOBYARD_HOME");
    var l = discover(null, null);
    assertThat(l.config()).isEqualTo(userConf);
    assertThat(l.configOrigin()).contains("user");
    env.put("XDG_CONFIG_HOME", tmp.resolve("elsewhere").toString());
    assertThat(discover(null, null).config()).isEqualTo(installConf);
    Files.delete(installConf);
    assertThat(discover(null, null).config()).isNull();
  }

  @Test
  void aNamedConfigurationThatIsMissingIsRefusedNamingTheFileAndWhoNamedIt() {
    env.put("JOBYARD_CONFIG", tmp.resolve("gone.yaml").toString());
    assertThatThrownBy(() -> discover(null, null).load(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(tmp.resolve("gone.yaml").toString())
        .hasMessageContaining("JOBYARD_CONFIG");
  }

  @Test
  void environmentVariablesOverrideSingleSettingsOfTheFile() throws Exception {
    Files.createDirectories(install.resolve("conf"));
    Files.writeString(install.resolve("conf/jobyard.yaml"), """
        database: {url: jdbc:h2:mem:file, user: fromfile}
        clusters: {a: {backend: local}, b: {backend: local}}
        """);
    env.put("JOBYARD_DATABASE_URL", "jdbc:h2:mem:env");
    env.put("JOBYARD_DATABASE_PASSWORD", "pw-from-env");
    env.put("JOBYARD_POLL_INTERVAL", "2s");
    env.put("JOBYARD_DEFAULT_CLUSTERS", "b, a");
    env.put("JOBYARD_API_LISTEN", "127.0.0.1:9999");
    var c = discover(null, null).load(env);
    assertThat(c.database().url()).isEqualTo("jdbc:h2:mem:env");
    assertThat(c.database().user()).isEqualTo("fromfile");
    assertThat(c.database().password()).isEqualTo("pw-from-env");
    assertThat(c.engine().pollInterval()).hasSeconds(2);
    assertThat(c.defaultClusters()).containsExactly("b", "a");
    assertThat(c.api().listen()).isEqualTo("127.0.0.1:9999");
    var effective = ConfigLoader.effective(discover(null, null), env);
    assertThat(effective.overrides()).containsEntry("database.url", "JOBYARD_DATABASE_URL")
        .containsEntry("default_clusters", "JOBYARD_DEFAULT_CLUSTERS");
  }

  @Test
  void aBadOverrideIsRefusedNamingTheVariableAndTheSetting() {
    env.put("JOBYARD_POLL_INTERVAL", "soon");
    assertThatThrownBy(() -> discover(null, null).load(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("JOBYARD_POLL_INTERVAL")
        .hasMessageContaining("engine.poll_interval")
        .hasMessageContaining("'soon'");
  }

  private static Path write(Path file) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "{}\n");
    return file;
  }
}
