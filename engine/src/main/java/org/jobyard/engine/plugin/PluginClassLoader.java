package org.jobyard.engine.plugin;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;

/**
 * A plugin's own class loader (Trino's model): its parent is the platform loader, so the plugin
 * sees the JDK and its own jars only; the SPI and slf4j are the sole packages taken from the
 * engine, so a plugin may ship any other library version without clashing.
 */
final class PluginClassLoader extends URLClassLoader {
  private static final List<String> SHARED = List.of("org.jobyard.api.", "org.slf4j.");
  private final ClassLoader engineLoader;

  PluginClassLoader(String name, List<URL> jars, ClassLoader engineLoader) {
    super("plugin-" + name, jars.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
    this.engineLoader = engineLoader;
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    synchronized (getClassLoadingLock(name)) {
      if (isShared(name)) {
        return engineLoader.loadClass(name);
      }
      var loaded = findLoadedClass(name);
      if (loaded == null) {
        try {
          // JDK classes come from the platform loader; everything else from the plugin's jars.
          loaded = getParent().loadClass(name);
        } catch (ClassNotFoundException e) {
          loaded = findClass(name);
        }
      }
      if (resolve) {
        resolveClass(loaded);
      }
      return loaded;
    }
  }

  @Override
  public URL getResource(String name) {
    // Service files of the SPI must come from the plugin's jars, never the engine's class path.
    var own = findResource(name);
    return own != null ? own : super.getResource(name);
  }

  private static boolean isShared(String className) {
    for (var prefix : SHARED) {
      if (className.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }
}
