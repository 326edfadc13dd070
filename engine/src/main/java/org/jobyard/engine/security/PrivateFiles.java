package org.jobyard.engine.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code var/} for the engine's account: the store, tokens, logs and job scripts hold
 * secrets. New files are private through the launcher's {@code umask 077}; this makes the
 * folders so at every start, and takes group and other rights from what an older engine or
 * another umask left in {@code db}, {@code run} and {@code log}. {@code var/} and
 * {@code var/clusters/} stay traversable (not listable), so that an OS account a local job runs
 * as reaches its own job folder, which it alone may read.
 */
public final class PrivateFiles {
  private static final Logger LOG = LoggerFactory.getLogger(PrivateFiles.class);
  private static final String TRAVERSE_ONLY = "rwx--x--x";
  private static final String OWNER_ONLY = "rwx------";

  private PrivateFiles() {}

  public static void secure(Path var) {
    try {
      mkdir(var, TRAVERSE_ONLY);
      mkdir(var.resolve("clusters"), TRAVERSE_ONLY);
      for (var name : List.of("db", "run", "log")) {
        var dir = mkdir(var.resolve(name), OWNER_ONLY);
        try (Stream<Path> files = Files.walk(dir)) {
          for (var f : files.filter(f -> !Files.isSymbolicLink(f)).toList()) {
            var perms = Files.getPosixFilePermissions(f);
            if (perms.removeAll(EnumSet.range(PosixFilePermission.GROUP_READ,
                PosixFilePermission.OTHERS_EXECUTE))) {
              Files.setPosixFilePermissions(f, perms);
            }
          }
        }
      }
    } catch (IOException | UnsupportedOperationException e) {
      if (!Files.isDirectory(var) || !Files.isWritable(var)) {
        // no var/ at all, or not ours: the store's own check says which folder, in one line
        LOG.debug("cannot create {}: {}", var, e.toString());
        return;
      }
      LOG.warn("cannot make {} private to the engine's account: {}", var, e.toString());
    }
  }

  private static Path mkdir(Path dir, String mode) throws IOException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
    return dir;
  }
}
