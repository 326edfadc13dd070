package org.jobyard.plugins.slurm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The submit script's own guard against a second sbatch of one attempt, run with {@code sh} and
 * stand-ins for sbatch and squeue that log their calls: the engine's lookup is the protection,
 * this is the second line behind it.
 */
class SlurmSubmitScriptTest {
  @TempDir Path dir;
  Path sbatch;
  Path squeue;
  Path calls;
  Path folder;

  @BeforeEach
  void tools() throws Exception {
    calls = dir.resolve("calls");
    folder = dir.resolve("w/jy-t.1");
    sbatch = tool("sbatch", """
        echo sbatch >> CALLS
        case "$SBATCH_MODE" in
          timeout) echo 'sbatch: error: Batch job submission failed: Socket timed out on send/recv operation' >&2; exit 1 ;;
          *) echo 4242 ;;
        esac
        """);
    squeue = tool("squeue", """
        echo squeue >> CALLS
        case "$SQUEUE_MODE" in
          found) echo 777 ;;
          down) echo 'squeue: error: Socket timed out on send/recv operation' >&2; exit 1 ;;
        esac
        """);
  }

  private Path tool(String name, String body) throws Exception {
    var path = dir.resolve(name);
    Files.writeString(path, "#!/bin/sh\n" + body.replace("CALLS", calls.toString()));
    path.toFile().setExecutable(true);
    return path;
  }

  private SlurmListings.SubmitListing run(String sbatchMode, String squeueMode) throws Exception {
    var script = SlurmScripts.submit(List.of(new SlurmScripts.Submit("jy-t.1", folder.toString(),
        "#!/bin/sh\ntrue\n", List.of(sbatch.toString(), "--parsable"))), squeue.toString());
    var pb = new ProcessBuilder("sh", "-s").redirectErrorStream(false);
    pb.environment().put("SBATCH_MODE", sbatchMode);
    pb.environment().put("SQUEUE_MODE", squeueMode);
    var p = pb.start();
    p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return SlurmListings.parseSubmit(out);
  }

  private List<String> calls() throws Exception {
    return Files.exists(calls) ? Files.readAllLines(calls) : List.of();
  }

  @Test
  void aSubmitAfterATimedOutSbatchAsksSqueueAndReportsTheJobItFindsInsteadOfSubmitting()
      throws Exception {
    var first = run("timeout", "none");
    assertThat(first.errors().get("jy-t.1").message()).contains("Socket timed out");
    assertThat(folder.resolve("submitting")).exists();

    // slurmctld created the job after all: the retry finds it by name
    var second = run("ok", "found");

    assertThat(second.ids()).containsEntry("jy-t.1", "777");
    assertThat(calls()).containsExactly("sbatch", "squeue");
    assertThat(folder.resolve("jobid")).hasContent("777");
  }

  @Test
  void aSubmitAfterATimedOutSbatchSubmitsOnlyWhenSqueueAnswersWithoutTheJob() throws Exception {
    run("timeout", "none");

    var second = run("ok", "none");

    assertThat(second.ids()).containsEntry("jy-t.1", "4242");
    assertThat(calls()).containsExactly("sbatch", "squeue", "sbatch");
  }

  @Test
  void aSubmitAfterATimedOutSbatchIsInDoubtWhileSqueueCannotTell() throws Exception {
    run("timeout", "none");

    var second = run("ok", "down");

    var error = second.errors().get("jy-t.1");
    assertThat(error.exitCode()).isEqualTo(SlurmListings.EXIT_IN_DOUBT);
    assertThat(SlurmListings.classifySubmit(error.exitCode(), error.message()))
        .isEqualTo(org.jobyard.toolkit.SubmitVerdict.IN_DOUBT);
    assertThat(calls()).containsExactly("sbatch", "squeue");
  }

  @Test
  void aRecordedJobIdIsReportedAgainWithoutAnyCall() throws Exception {
    run("ok", "none");

    var second = run("ok", "none");

    assertThat(second.ids()).containsEntry("jy-t.1", "4242");
    assertThat(calls()).containsExactly("sbatch");
  }

  @Test
  void aBatchRunsSeveralSbatchCallsAtOnceButNeverMoreThanAskedAndReportsEveryJob()
      throws Exception {
    var running = Files.createDirectories(dir.resolve("running"));
    // each call marks itself running, waits long enough for the others of its group to start,
    // and logs how many calls it saw running at once
    var slow = tool("sbatch-slow", """
        : > RUNNING/$$
        sleep 0.4
        set -- RUNNING/*
        echo $# >> CALLS
        rm -f RUNNING/$$
        echo "$$"
        """.replace("RUNNING", running.toString()));
    var jobs = new java.util.ArrayList<SlurmScripts.Submit>();
    for (int i = 0; i < 9; i++) {
      jobs.add(new SlurmScripts.Submit("jy-p." + i, dir.resolve("w/jy-p." + i).toString(),
          "#!/bin/sh\ntrue\n", List.of(slow.toString())));
    }
    var p = new ProcessBuilder("sh", "-s").start();
    p.getOutputStream().write(SlurmScripts.submit(jobs, squeue.toString(), 3)
        .getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    var listing = SlurmListings.parseSubmit(
        new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();

    assertThat(listing.ids()).as("every job of the batch reported with its id").hasSize(9);
    assertThat(listing.ids().values()).doesNotHaveDuplicates();
    var seen = calls().stream().map(Integer::parseInt).toList();
    assertThat(seen).as("sbatch calls running at once, as each call saw it").hasSize(9)
        .allMatch(n -> n <= 3).anyMatch(n -> n >= 2);
  }

  @Test
  void aSlowSbatchHoldsUpOnlyItsOwnSlotWhileTheOthersGoOnThroughTheRest() throws Exception {
    var done = dir.resolve("done");
    // job 0's sbatch ends only once the last job's sbatch has run (or gives up after ~20 s):
    // with 2 slots, jobs 1 to 5 must pass through the other slot while job 0 still runs
    var sbatchTool = tool("sbatch-window", """
        case "$1" in
          */jy-w.0/job.sh)
            i=0; while [ ! -e DONE ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
            if [ -e DONE ]; then echo 'slow call saw the last job submitted' >> CALLS
            else echo 'slow call gave up waiting' >> CALLS; fi ;;
          */jy-w.5/job.sh) : > DONE ;;
        esac
        echo "$$"
        """.replace("DONE", done.toString()));
    var jobs = new java.util.ArrayList<SlurmScripts.Submit>();
    for (int i = 0; i < 6; i++) {
      jobs.add(new SlurmScripts.Submit("jy-w." + i, dir.resolve("w/jy-w." + i).toString(),
          "#!/bin/sh\ntrue\n", List.of(sbatchTool.toString())));
    }
    var p = new ProcessBuilder("sh", "-s").start();
    p.getOutputStream().write(SlurmScripts.submit(jobs, squeue.toString(), 2)
        .getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    var listing = SlurmListings.parseSubmit(
        new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(listing.ids()).as("every job of the batch reported with its id").hasSize(6);
    assertThat(calls()).containsExactly("slow call saw the last job submitted");
  }
}
