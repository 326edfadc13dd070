package org.jobyard.bench;

import static org.jobyard.bench.Row.f;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jobyard.api.BackendContext;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.Settings;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.engine.plugin.PluginRegistry;
import org.jobyard.engine.transport.local.LocalTransport;

/**
 * The ARC backend (from the tarball's plugins/arc) against the testbed's A-REX: one bulk submit
 * of N jobs and one poll of them all, next to a plain loop of single-job {@code curl} calls in the
 * same run. Both sides do the same work per job (one ADL description, one PUT of a small script,
 * one status); every job is killed and cleaned at once, so this measures the REST interface, not
 * the LRMS behind it. (The longer table of BENCHMARKS.md comes from the plugin's own ArcBench.)
 */
final class Arc {
  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"");
  private static final String SCRIPT = "jobyard.sh";

  private Arc() {}

  static List<Row> run(Path work, int n) throws Exception {
    if (!Files.isDirectory(Engines.dist().resolve("plugins/arc"))) {
      return List.of(Row.skipped("arc", "plugins/arc is not in the tarball"));
    }
    if (!InProcess.testbed("ARC")) {
      return List.of(Row.skipped("arc", "the testbed's A-REX is not up"));
    }
    var url = InProcess.env("ARC_URL");
    var settings = Map.of("url", url, "certificate", InProcess.env("ARC_CERT"),
        "key", InProcess.env("ARC_KEY"), "ca_dir", InProcess.env("ARC_CA_DIR"));
    var arc = PluginRegistry.load(Engines.dist().resolve("plugins")).loaded().stream()
        .filter(l -> l.name().equals("arc")).findFirst().orElseThrow(() ->
            new IllegalStateException("plugins/arc holds no backend named 'arc'"));
    var dir = Files.createDirectories(work.resolve("arc"));
    var run = "jyb" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
    var requests = new ArrayList<SubmitRequest>();
    for (int i = 0; i < n; i++) {
      requests.add(new SubmitRequest(run + "-j" + i, 1, JobSpec.of("b", "true")));
    }
    var context = new BackendContext("arc-bench", new Settings("cluster 'arc-bench'", settings),
        new LocalTransport(), dir, BackendContext.Events.NONE);
    long jobyardSubmit;
    long jobyardPoll;
    List<JobRef> jobs;
    try (var backend = arc.provider().create(context)) {
      // the proxy delegated to the CE is made once per backend, not per job (and the curl loop
      // delegates none): made before the clock starts
      backend.maintain();
      long t0 = System.nanoTime();
      var outcomes = backend.submit(requests);
      jobyardSubmit = System.nanoTime() - t0;
      jobs = outcomes.stream().map(o -> o instanceof SubmitOutcome.Accepted a ? a.job() : null)
          .toList();
      if (jobs.contains(null)) {
        throw new IllegalStateException("the CE did not accept every job: " + outcomes);
      }
      t0 = System.nanoTime();
      var polled = backend.poll(jobs);
      jobyardPoll = System.nanoTime() - t0;
      if (polled.size() != n) {
        throw new IllegalStateException("a poll of " + n + " jobs answered " + polled.size());
      }
      backend.cancel(jobs);
    }

    // the baseline: what a shell script would do, one curl per call
    var adl = Files.writeString(dir.resolve("adl.xml"), "<ActivityDescription xmlns=\""
        + "http://www.eu-emi.eu/es/2010/12/adl\"><ActivityIdentification><Name>" + run
        + "-curl</Name></ActivityIdentification><Application><Executable><Path>/bin/sh</Path>"
        + "<Argument>" + SCRIPT + "</Argument></Executable></Application><DataStaging>"
        + "<InputFile><Name>" + SCRIPT + "</Name></InputFile></DataStaging>"
        + "</ActivityDescription>");
    var script = Files.writeString(dir.resolve(SCRIPT), "#!/bin/sh\ntrue\n");
    var curlIds = new ArrayList<String>();
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      var answer = curl(settings, "-X", "POST", "-H", "Content-Type: application/xml",
          "--data-binary", "@" + adl, url + "/rest/1.0/jobs?action=new");
      var m = ID.matcher(answer);
      if (!m.find()) {
        throw new IllegalStateException("curl submit: no job id in " + answer);
      }
      curlIds.add(m.group(1));
      curl(settings, "-X", "PUT", "--data-binary", "@" + script,
          url + "/rest/1.0/jobs/" + m.group(1) + "/session/" + SCRIPT);
    }
    long curlSubmit = System.nanoTime() - t0;
    t0 = System.nanoTime();
    for (var id : curlIds) {
      curl(settings, "-X", "POST", "-H", "Content-Type: application/json", "-d",
          "{\"job\":{\"id\":\"" + id + "\"}}", url + "/rest/1.0/jobs?action=status");
    }
    long curlPoll = System.nanoTime() - t0;
    var all = new ArrayList<>(curlIds);
    jobs.forEach(j -> all.add(j.nativeId()));
    var body = "{\"job\":[" + String.join(",", all.stream().map(id -> "{\"id\":\"" + id + "\"}")
        .toList()) + "]}";
    for (var action : List.of("kill", "clean")) {
      curl(settings, "-X", "POST", "-H", "Content-Type: application/json", "-d", body,
          url + "/rest/1.0/jobs?action=" + action);
    }
    return List.of(
        new Row("arc", f("submit %d jobs (description + script upload)", n),
            f("%.2f s (%.1f jobs/s)", sec(jobyardSubmit), n / sec(jobyardSubmit)),
            f("%.2f s (curl loop, %.1f jobs/s)", sec(curlSubmit), n / sec(curlSubmit)),
            f("%.2f", (double) jobyardSubmit / curlSubmit), "< 1 (faster than the loop)",
            Row.verdict(jobyardSubmit < curlSubmit)),
        new Row("arc", f("poll %d jobs once", n), f("%.3f s (1 request)", sec(jobyardPoll)),
            f("%.2f s (curl loop, %d requests)", sec(curlPoll), n),
            f("%.3f", (double) jobyardPoll / curlPoll), "< 1 (faster than the loop)",
            Row.verdict(jobyardPoll < curlPoll)));
  }

  private static double sec(long nanos) {
    return nanos / 1e9;
  }

  private static String curl(Map<String, String> s, String... args) throws Exception {
    var cmd = new ArrayList<>(List.of("curl", "-s", "--fail", "--capath", s.get("ca_dir"),
        "--cert", s.get("certificate"), "--key", s.get("key"), "-H", "Accept: application/json"));
    cmd.addAll(List.of(args));
    var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("curl " + List.of(args) + " failed: " + out);
    }
    return out;
  }
}
