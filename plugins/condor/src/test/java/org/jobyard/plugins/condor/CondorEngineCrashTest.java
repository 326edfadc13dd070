package org.jobyard.plugins.condor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.Command;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobState;
import org.jobyard.api.Settings;
import org.jobyard.engine.manager.JobManager;
import org.jobyard.engine.testing.RunningEngine;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.DiesAfterSubmit;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine dies (its threads stop mid-call, as under SIGKILL) after condor_submit queued the
 * job and before the engine recorded its id: the engine started again on the same store finds
 * the job in the real pool by its {@code JobyardId} and adopts it, never submitting it twice.
 */
@Tag("testbed")
class CondorEngineCrashTest {
  @TempDir Path home;
  final LocalTransport transport = new LocalTransport();
  final Set<String> tags = new HashSet<>();
  DiesAfterSubmit dying;
  RunningEngine engine;

  Backend condor() throws Exception {
    var s = new HashMap<String, String>();
    s.put("bin_dir", Testbed.get("CONDOR_BIN"));
    s.put("workdir", Testbed.get("CONDOR_WORK") + "/crash-test");
    s.put("shared_folders", "true");
    return new CondorBackendProvider().create(new BackendContext("condor", new Settings(
        "cluster 'condor'", s), transport, home.resolve("cluster"), BackendContext.Events.NONE));
  }

  JobManager start(Backend backend) {
    engine = RunningEngine.start(RunningEngine.h2(home), "condor", backend, transport);
    return engine.manager();
  }

  @AfterEach
  void release() throws Exception {
    if (dying != null) {
      dying.release();
    }
    if (engine != null) {
      engine.stop();
    }
    for (var tag : tags) { // the pool is shared: leave none of this test's jobs behind
      transport.run(Command.of(tool("condor_rm"), "-constraint", constraint(tag)));
    }
  }

  static String tool(String name) {
    return Testbed.get("CONDOR_BIN") + "/" + name;
  }

  static String constraint(String tag) {
    return SubmitDescription.ID_ATTRIBUTE + " == \"" + tag + "\"";
  }

  /**
   * The pool's jobs carrying the tag, queued or finished (condor_q then condor_history); a
   * schedd that does not answer (a CI run may stop it for a few seconds) fails the call, and
   * the awaiting caller asks again.
   */
  int jobsTagged(String tag) throws Exception {
    var ids = new HashSet<String>();
    for (var listing : List.of("condor_q", "condor_history")) {
      var out = transport.run(Command.of(tool(listing), "-constraint", constraint(tag), "-af",
          "GlobalJobId"));
      if (!out.succeeded()) {
        throw new IllegalStateException(listing + " failed: " + out.summary());
      }
      out.stdout().lines().filter(l -> !l.isBlank()).forEach(ids::add);
    }
    return ids.size();
  }

  @Test
  void aJobQueuedJustBeforeTheEngineDiedIsFoundByItsJobyardIdNotSubmittedAgain()
      throws Exception {
    Testbed.require(Testbed.CONDOR);
    dying = new DiesAfterSubmit(condor());
    var manager = start(dying);
    var spec = JobSpec.of("crash-" + Long.toHexString(System.nanoTime()), "/bin/sh", "-c",
        "sleep 2; exit 4");
    var id = manager.submit(RunningEngine.user(), List.of(spec)).get(10, TimeUnit.SECONDS)
        .getFirst();
    var tag = id + ".1";
    tags.add(tag);
    await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> jobsTagged(tag) == 1);
    engine.crash();

    start(condor());
    var store = engine.store();
    await().atMost(Duration.ofMinutes(3)).until(() ->
        store.job(id).orElseThrow().state() == JobState.FAILED);
    assertThat(store.job(id).orElseThrow().exitCode()).isEqualTo(4);
    // asked again only if the schedd does not answer (a CI run may stop it for a few seconds)
    Integer tagged = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> jobsTagged(tag), n -> true);
    assertThat(tagged).as("HTCondor jobs carrying JobyardId %s", tag).isEqualTo(1);
    assertThat(store.attempts(id)).singleElement()
        .satisfies(a -> assertThat(a.nativeId()).matches("\\d+\\.\\d+"));
  }
}
