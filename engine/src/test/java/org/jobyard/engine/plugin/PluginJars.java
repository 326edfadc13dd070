package org.jobyard.engine.plugin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/** Plugin folders for tests, made from this module's compiled test classes. */
final class PluginJars {
  static final String SERVICES = "META-INF/services/org.jobyard.api.BackendProvider";

  private PluginJars() {}

  /**
   * A jar in {@code folder} holding the classes whose name starts with {@code backend}'s (the
   * class and its nested classes) and, if given, a services file with {@code services}.
   */
  static Path build(Path folder, Class<?> backend, String services) throws Exception {
    var name = folder.getFileName().toString();
    var jar = Files.createDirectories(folder).resolve(name + ".jar");
    var classes = Path.of(backend.getProtectionDomain().getCodeSource().getLocation().toURI());
    var pkg = classes.resolve(backend.getPackageName().replace('.', '/'));
    try (var out = new JarOutputStream(Files.newOutputStream(jar));
        var files = Files.list(pkg)) {
      for (var f : files.filter(p -> p.getFileName().toString()
          .startsWith(backend.getSimpleName())).toList()) {
        out.putNextEntry(new JarEntry(classes.relativize(f).toString()));
        Files.copy(f, out);
        out.closeEntry();
      }
      if (services != null) {
        out.putNextEntry(new JarEntry(SERVICES));
        out.write(services.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        out.closeEntry();
      }
    }
    return jar;
  }
}
