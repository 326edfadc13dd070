package org.jobyard.engine.plugin;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.jobyard.api.BackendProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backends the engine can use: one folder per plugin under {@code plugins/} (its jar and its
 * own dependencies, loaded in its own class loader), plus any provider on the engine's class path.
 * A plugin that fails to load is kept as {@link Broken} with its cause; the others still load.
 */
public final class PluginRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(PluginRegistry.class);

  private final Map<String, Loaded> providers;
  private final List<Broken> broken;

  /** A usable backend provider and where it came from. */
  public record Loaded(String name, BackendProvider provider, String origin) {}

  /** A plugin folder that could not be used, with the reason. */
  public record Broken(String plugin, String origin, String error) {}

  private PluginRegistry(Map<String, Loaded> providers, List<Broken> broken) {
    this.providers = Map.copyOf(providers);
    this.broken = List.copyOf(broken);
  }

  /** Loads every plugin folder under {@code pluginsDir} (missing folder: none) and the class path. */
  public static PluginRegistry load(Path pluginsDir) {
    var found = new LinkedHashMap<String, Loaded>();
    var broken = new ArrayList<Broken>();
    var engineLoader = PluginRegistry.class.getClassLoader();
    try {
      for (var provider : ServiceLoader.load(BackendProvider.class, engineLoader)) {
        found.putIfAbsent(provider.name(), new Loaded(provider.name(), provider, "class path"));
      }
    } catch (ServiceConfigurationError e) {
      broken.add(new Broken("(class path)", "class path", describe(e)));
    }
    if (pluginsDir != null && Files.isDirectory(pluginsDir)) {
      List<Path> folders;
      try (Stream<Path> s = Files.list(pluginsDir)) {
        folders = s.filter(Files::isDirectory).sorted(Comparator.naturalOrder()).toList();
      } catch (IOException e) {
        broken.add(new Broken(pluginsDir.toString(), pluginsDir.toString(),
            "cannot list plugins: " + e.getMessage()));
        folders = List.of();
      }
      for (var folder : folders) {
        loadFolder(folder, engineLoader, found, broken);
      }
    }
    for (var b : broken) {
      LOG.warn("plugin {} ({}) is not usable: {}", b.plugin(), b.origin(), b.error());
    }
    LOG.debug("backends available: {}", found.keySet());
    return new PluginRegistry(found, broken);
  }

  private static void loadFolder(Path folder, ClassLoader engineLoader,
      Map<String, Loaded> found, List<Broken> broken) {
    var plugin = folder.getFileName().toString();
    var origin = folder.toString();
    List<URL> jars = new ArrayList<>();
    try (Stream<Path> s = Files.list(folder)) {
      for (var jar : s.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
        jars.add(jar.toUri().toURL());
      }
    } catch (IOException e) {
      broken.add(new Broken(plugin, origin, "cannot read the folder: " + e.getMessage()));
      return;
    }
    if (jars.isEmpty()) {
      broken.add(new Broken(plugin, origin, "no .jar files in the folder"));
      return;
    }
    var loader = new PluginClassLoader(plugin, jars, engineLoader);
    int count = 0;
    try {
      var it = ServiceLoader.load(BackendProvider.class, loader).iterator();
      while (it.hasNext()) {
        BackendProvider provider;
        try {
          provider = it.next();
        } catch (ServiceConfigurationError | LinkageError e) {
          broken.add(new Broken(plugin, origin, describe(e)));
          continue;
        }
        if (provider.getClass().getClassLoader() != loader) {
          continue; // a provider seen through the engine's loader, not this plugin's
        }
        count++;
        var name = requireNonNull(provider.name(), "provider name");
        var previous = found.putIfAbsent(name, new Loaded(name, provider, origin));
        if (previous != null) {
          broken.add(new Broken(plugin, origin, "backend '" + name + "' is already provided by "
              + previous.origin() + "; this one is ignored"));
        }
      }
    } catch (ServiceConfigurationError | LinkageError e) {
      broken.add(new Broken(plugin, origin, describe(e)));
      return;
    }
    if (count == 0 && broken.stream().noneMatch(b -> b.origin().equals(origin))) {
      broken.add(new Broken(plugin, origin, "no org.jobyard.api.BackendProvider listed in "
          + "META-INF/services of its jars"));
    }
  }

  private static String describe(Throwable e) {
    var sb = new StringBuilder(e.toString());
    for (var c = e.getCause(); c != null; c = c.getCause()) {
      sb.append("; caused by ").append(c);
    }
    return sb.toString();
  }

  public Optional<BackendProvider> provider(String name) {
    return Optional.ofNullable(providers.get(name)).map(Loaded::provider);
  }

  public List<Loaded> loaded() {
    return List.copyOf(providers.values());
  }

  public List<Broken> broken() {
    return broken;
  }

}
