package org.jobyard.engine.config;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where this run finds its installation, keeps its state and reads its configuration, and why
 * (issue 21: one read-only install shared by many users, each with state of their own).
 *
 * <p>State: {@code --home DIR} / {@code JOBYARD_HOME} (its {@code var/}); else the install's
 * {@code var/} when this account may write it (the unpacked tarball keeps working as it is); else
 * {@code $XDG_STATE_HOME/jobyard}, i.e. {@code ~/.local/state/jobyard}.
 *
 * <p>Configuration: {@code --config}, {@code JOBYARD_CONFIG}, {@code conf/jobyard.yaml} of an
 * explicit home, {@code $XDG_CONFIG_HOME/jobyard/jobyard.yaml}, the install's
 * {@code conf/jobyard.yaml}; none of them: the built-in defaults.
 *
 * @param install the unpacked tarball: {@code plugins/}, {@code conf/}; relative paths of the
 *     configuration are resolved against it
 * @param home the folder named by {@code --home} / {@code JOBYARD_HOME}, else the install
 * @param state the folder of the store, logs, run files and job scripts
 * @param stateOrigin why {@code state} is where it is, for {@code jobyard config}
 * @param config the configuration file, or null for the defaults
 * @param configOrigin why that file (or the defaults)
 */
public record Layout(Path install, Path home, Path state, String stateOrigin, Path config,
    String configOrigin) {

  /** The system property the launcher sets to the unpacked tarball. */
  public static final String INSTALL_PROPERTY = "jobyard.install";
  /** The system property (or, as JOBYARD_HOME, the variable) naming a home with its own var/. */
  public static final String HOME_PROPERTY = "jobyard.home";

  /**
   * @param homeOption {@code --home}, or null
   * @param configOption {@code --config}, or null
   * @param env the environment
   * @param props the system properties
   */
  public static Layout discover(Path homeOption, Path configOption, Map<String, String> env,
      java.util.Properties props) {
    Path home = null;
    String homeOrigin = null;
    if (homeOption != null) {
      home = homeOption;
      homeOrigin = "--home";
    } else if (notBlank(props.getProperty(HOME_PROPERTY))) {
      home = path(props.getProperty(HOME_PROPERTY), "-D" + HOME_PROPERTY);
      homeOrigin = "-D" + HOME_PROPERTY;
    } else if (notBlank(env.get("JOBYARD_HOME"))) {
      home = path(env.get("JOBYARD_HOME"), "JOBYARD_HOME");
      homeOrigin = "JOBYARD_HOME";
    }
    var installProp = props.getProperty(INSTALL_PROPERTY);
    Path install = notBlank(installProp) ? path(installProp, "-D" + INSTALL_PROPERTY)
        : home != null ? home : Path.of("");
    install = install.toAbsolutePath().normalize();

    Path state;
    String stateOrigin;
    if (home != null) {
      home = home.toAbsolutePath().normalize();
      state = home.resolve("var");
      stateOrigin = homeOrigin;
    } else if (writable(install.resolve("var"))) {
      home = install;
      state = install.resolve("var");
      stateOrigin = "the installation (writable)";
    } else {
      home = install;
      var xdg = env.get("XDG_STATE_HOME");
      if (notBlank(xdg) && Path.of(xdg).isAbsolute()) {
        state = Path.of(xdg, "jobyard");
        stateOrigin = "XDG_STATE_HOME (the installation is read-only)";
      } else {
        state = userHome(env, props).resolve(".local/state/jobyard");
        stateOrigin = "~/.local/state (the installation is read-only)";
      }
    }

    Path config = null;
    String configOrigin = "built-in defaults (no file found)";
    if (configOption != null) {
      config = configOption.toAbsolutePath().normalize();
      configOrigin = "--config";
    } else if (notBlank(env.get("JOBYARD_CONFIG"))) {
      config = path(env.get("JOBYARD_CONFIG"), "JOBYARD_CONFIG").toAbsolutePath().normalize();
      configOrigin = "JOBYARD_CONFIG";
    } else {
      var xdg = env.get("XDG_CONFIG_HOME");
      var userConfig = (notBlank(xdg) && Path.of(xdg).isAbsolute() ? Path.of(xdg)
          : userHome(env, props).resolve(".config")).resolve("jobyard/jobyard.yaml");
      var candidates = new java.util.LinkedHashMap<Path, String>();
      if (!home.equals(install)) {
        candidates.put(home.resolve("conf/jobyard.yaml"), homeOrigin + " (its conf/)");
      }
      candidates.put(userConfig, "the user's configuration");
      candidates.put(install.resolve("conf/jobyard.yaml"), "the installation");
      for (var c : candidates.entrySet()) {
        if (Files.isRegularFile(c.getKey())) {
          config = c.getKey();
          configOrigin = c.getValue();
          break;
        }
      }
    }
    return new Layout(install, home, state, stateOrigin, config, configOrigin);
  }

  /** As {@link #discover} with this process's environment and properties. */
  public static Layout discover(Path homeOption, Path configOption) {
    return discover(homeOption, configOption, System.getenv(), System.getProperties());
  }

  /** The configuration this layout points at, with the environment's overrides applied. */
  public EngineConfig load(Map<String, String> env) {
    if (config != null && !Files.isRegularFile(config)) {
      throw new ConfigException(config + " (" + configOrigin + "): configuration file not found; "
          + "give an existing file, or none for the defaults");
    }
    return ConfigLoader.load(this, env);
  }

  /** The file's folder is writable, or it does not exist yet and its parent is. */
  private static boolean writable(Path dir) {
    if (Files.isDirectory(dir)) {
      return Files.isWritable(dir);
    }
    var parent = dir.getParent();
    return !Files.exists(dir) && parent != null && Files.isDirectory(parent)
        && Files.isWritable(parent);
  }

  private static Path userHome(Map<String, String> env, java.util.Properties props) {
    var h = env.get("HOME");
    return Path.of(notBlank(h) ? h : props.getProperty("user.home"));
  }

  private static Path path(String value, String from) {
    try {
      var p = value.startsWith("~/") ? Path.of(System.getProperty("user.home"), value.substring(2))
          : Path.of(value);
      return p;
    } catch (InvalidPathException e) {
      throw new ConfigException(from + ": not a path: '" + value + "'", e);
    }
  }

  private static boolean notBlank(String s) {
    return s != null && !s.isBlank();
  }
}
