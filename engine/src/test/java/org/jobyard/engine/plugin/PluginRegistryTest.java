package org.jobyard.engine.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jobyard.engine.http.ScriptedBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugin folders that cannot be used are each reported by name with what is wrong; the others
 * load. The plugin jars are made here from the test backend's compiled classes.
 */
class PluginRegistryTest {

  @TempDir Path plugins;

  /** A jar with the scripted test backend's classes and, if given, a services file. */
  Path pluginJar(String folder, String services) throws Exception {
    return PluginJars.build(plugins.resolve(folder), ScriptedBackend.class, services);
  }

  static Map<String, String> errors(PluginRegistry registry) {
    var errors = new java.util.HashMap<String, String>();
    registry.broken().forEach(b -> errors.put(b.plugin(), b.error()));
    return errors;
  }

  @Test
  void eachBrokenPluginIsReportedByNameAndTheGoodOnesLoad() throws Exception {
    pluginJar("no-provider", null);
    pluginJar("missing-class", "no.such.Provider\n");
    Files.createDirectories(plugins.resolve("no-jar")).resolve("README").toFile().createNewFile();
    Files.writeString(Files.createDirectories(plugins.resolve("not-a-jar")).resolve("x.jar"),
        "this is not a jar");
    // the scripted backend is also on the engine's class path, which is loaded first
    pluginJar("same-name", ScriptedBackend.Provider.class.getName() + "\n");

    var registry = PluginRegistry.load(plugins);
    var errors = errors(registry);

    assertThat(errors).containsOnlyKeys("no-provider", "missing-class", "no-jar", "not-a-jar",
        "same-name");
    assertThat(errors.get("no-provider")).contains("no org.jobyard.api.BackendProvider listed");
    assertThat(errors.get("missing-class")).contains("no.such.Provider");
    assertThat(errors.get("no-jar")).contains("no .jar files in the folder");
    assertThat(errors.get("same-name"))
        .contains("backend 'scripted' is already provided by class path");
    assertThat(registry.provider("scripted")).isPresent();
    assertThat(registry.loaded()).extracting(PluginRegistry.Loaded::origin)
        .doesNotContain(plugins.resolve("same-name").toString());
  }
}
