package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.Resources;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Submit and poll rates of the ARC backend against a plain loop of single-job curl calls, in the
 * same run on the testbed's A-REX. Not part of the test suite: run it with
 * {@code ./mvnw test -pl plugins/arc -Dtest=ArcBench -Djobyard.bench=true [-Djobyard.bench.jobs=50]}.
 * Both sides do the same work per job (one ADL description, one PUT of its script, one status);
 * the jobs are killed and cleaned at once so the benchmark measures the REST interface, not the
 * fork LRMS behind it.
 */
@Tag("testbed")
class ArcBench {
  @TempDir Path dir;

  @Test
  void submitAndPollAgainstACurlLoop() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("jobyard.bench"), "run with -Djobyard.bench=true");
    int n = Integer.getInteger("jobyard.bench.jobs", 50);
    var run = "bench-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    var settings = ArcTestbed.settings();
    var backend = ArcTestbed.backend(settings, dir.resolve("cluster"));
    var client = ArcTestbed.client();
    var requests = new ArrayList<SubmitRequest>();
    for (int i = 0; i < n; i++) {
      requests.add(new SubmitRequest(run + "-j" + i, 1, new JobSpec("b", null, null,
          List.of(new JobSpec.Step("true", List.of())), Map.of(), null, null, null,
          Resources.NONE, null, null, List.of(), List.of(), List.of(), 0, Map.of())));
    }

    long t0 = System.nanoTime();
    var outcomes = backend.submit(requests);
    long jobyardSubmit = System.nanoTime() - t0;
    var jobs = outcomes.stream().map(o -> ((SubmitOutcome.Accepted) o).job()).toList();
    t0 = System.nanoTime();
    int polls = 5;
    for (int i = 0; i < polls; i++) {
      assertThat(backend.poll(jobs)).hasSize(n);
    }
    long jobyardPoll = (System.nanoTime() - t0) / polls;
    client.jobs("kill", ids(jobs));

    // the baseline: what a shell script would do, one curl per call
    var curlIds = new ArrayList<String>();
    var script = dir.resolve("jobyard.sh");
    t0 = System.nanoTime();
    for (var r : requests) {
      var d = ArcJobDescription.of(new SubmitRequest(r.jobId() + "c", 1, r.spec()), null, null);
      Files.writeString(script, d.script(), StandardCharsets.UTF_8);
      var adl = dir.resolve("adl.xml");
      Files.writeString(adl, d.adl(), StandardCharsets.UTF_8);
      var answer = curl(settings, "-X", "POST", "--data-binary", "@" + adl,
          settings.get("url") + "/rest/1.0/jobs?action=new");
      var id = ArcJson.text(ArcJson.parse(answer).path("job"), "id").orElseThrow();
      curlIds.add(id);
      curl(settings, "-X", "PUT", "--data-binary", "@" + script,
          settings.get("url") + "/rest/1.0/jobs/" + id + "/session/" + ArcJobDescription.SCRIPT);
    }
    long curlSubmit = System.nanoTime() - t0;
    t0 = System.nanoTime();
    for (var id : curlIds) {
      curl(settings, "-X", "POST", "-H", "Content-Type: application/json", "-d",
          "{\"job\":{\"id\":\"" + id + "\"}}", settings.get("url") + "/rest/1.0/jobs?action=status");
    }
    long curlPoll = System.nanoTime() - t0;
    client.jobs("kill", curlIds);
    client.jobs("clean", ids(jobs));
    client.jobs("clean", curlIds);

    System.out.printf("%n| %d jobs | Jobyard | curl loop | ratio |%n|---|---|---|---|%n", n);
    System.out.printf("| submit (description + script upload) | %.2f s (%.1f jobs/s) | %.2f s "
        + "(%.1f jobs/s) | %.1fx |%n", sec(jobyardSubmit), n / sec(jobyardSubmit),
        sec(curlSubmit), n / sec(curlSubmit), (double) curlSubmit / jobyardSubmit);
    System.out.printf("| poll all jobs once | %.3f s (%d request) | %.2f s (%d requests) | "
        + "%.1fx |%n", sec(jobyardPoll), 1, sec(curlPoll), n, (double) curlPoll / jobyardPoll);
  }

  private static List<String> ids(List<JobRef> jobs) {
    return jobs.stream().map(JobRef::nativeId).toList();
  }

  private static double sec(long nanos) {
    return nanos / 1e9;
  }

  private static String curl(Map<String, String> s, String... args) throws Exception {
    var cmd = new ArrayList<>(List.of("curl", "-s", "--fail", "--cacert",
        s.get("ca_dir") + "/" + caFile(s.get("ca_dir")), "--cert", s.get("certificate"), "--key",
        s.get("key"), "-H", "Accept: application/json"));
    cmd.addAll(List.of(args));
    var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("curl %s: %s", List.of(args), out).isZero();
    return out;
  }

  private static String caFile(String caDir) throws Exception {
    try (var files = Files.list(Path.of(caDir))) {
      return files.map(f -> f.getFileName().toString()).filter(f -> f.matches("[0-9a-f]{8}\\.0"))
          .findFirst().orElseThrow();
    }
  }
}
