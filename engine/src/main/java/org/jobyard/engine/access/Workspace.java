package org.jobyard.engine.access;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The folder an API user's paths must stay in. A path is inside when it is absolute, has no
 * {@code ..} segment, lies under the folder, and the deepest part of it that exists resolves
 * (symbolic links followed) under the folder's own real path — so a link the user planted
 * cannot lead the engine elsewhere.
 */
record Workspace(Path root) {
  Workspace {
    requireNonNull(root, "root is null");
  }

  /** Why {@code value} is not inside, or empty when it is. */
  Optional<String> escape(String value) {
    if (List.of(value.split("/")).contains("..")) {
      return Optional.of("'" + value + "' contains '..'");
    }
    var path = Path.of(value);
    if (!path.isAbsolute()) {
      return Optional.of("'" + value + "' is not an absolute path");
    }
    path = path.normalize();
    if (!path.startsWith(root)) {
      return Optional.of("'" + value + "' is outside " + root);
    }
    try {
      var realRoot = root.toRealPath();
      var existing = path;
      while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
        existing = existing.getParent();
      }
      if (existing == null || !existing.toRealPath().startsWith(realRoot)) {
        return Optional.of("'" + value + "' leads outside " + root + " through a symbolic link");
      }
    } catch (IOException e) {
      return Optional.of("'" + value + "' cannot be checked: " + e.getMessage());
    }
    return Optional.empty();
  }

  /** The home folder of an OS account, from the password database, if it has one. */
  static Optional<Path> homeOf(String account) {
    try {
      var p = new ProcessBuilder("getent", "passwd", account).redirectErrorStream(true).start();
      var line = new String(p.getInputStream().readAllBytes()).strip();
      if (p.waitFor() != 0) {
        return Optional.empty();
      }
      var fields = line.split(":");
      return fields.length >= 6 && fields[5].startsWith("/")
          ? Optional.of(Path.of(fields[5]).normalize()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}
