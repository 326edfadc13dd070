package org.jobyard.plugins.local;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import org.jobyard.api.BackendContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the engine within milliseconds that a job ended, instead of at its next poll tick: every
 * wrapper touches {@code <workdir>/.done/<tag>} as its last act, and a daemon thread watching that
 * folder calls {@link BackendContext.Events#pollSoon()}. Only when the jobs' folders are on the
 * engine's own filesystem. The poll stays the source of truth; this is only a nudge.
 */
final class CompletionWatch implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CompletionWatch.class);

  private final WatchService watcher;
  private final Thread thread;

  private CompletionWatch(WatchService watcher, Thread thread) {
    this.watcher = watcher;
    this.thread = thread;
  }

  /** Starts watching {@code doneDir} (created if missing); null when that is not possible. */
  static CompletionWatch start(Path doneDir, String cluster, BackendContext.Events events) {
    try {
      Files.createDirectories(doneDir);
      var watcher = FileSystems.getDefault().newWatchService();
      doneDir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE,
          StandardWatchEventKinds.ENTRY_MODIFY);
      var thread = Thread.ofPlatform().daemon().name("jobyard-local-done-" + cluster)
          .unstarted(() -> run(watcher, events));
      thread.start();
      return new CompletionWatch(watcher, thread);
    } catch (IOException | UnsupportedOperationException e) {
      log.warn("cluster {}: cannot watch {} for ended jobs ({}); ends are seen at the next poll",
          cluster, doneDir, e.toString());
      return null;
    }
  }

  private static void run(WatchService watcher, BackendContext.Events events) {
    try {
      while (true) {
        var key = watcher.take();
        key.pollEvents(); // overflow or not, the answer is the same: poll soon
        events.pollSoon();
        if (!key.reset()) {
          return;
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closing
    }
  }

  @Override
  public void close() {
    try {
      watcher.close();
    } catch (IOException e) {
      log.debug("closing the completion watch: {}", e.toString());
    }
    thread.interrupt();
  }
}
