package org.jobyard.engine.metrics;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jobyard.testkit.Testbed;

/**
 * Reads a Prometheus exposition with the Prometheus project's own parser (the Python client's
 * {@code text_string_to_metric_families}, from Debian's python3-prometheus-client, installed by
 * {@code testbed/testbed up browser}): a format error fails the parse, as it would fail a scrape.
 */
final class PrometheusText {
  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final String SCRIPT = """
      import json, sys
      from prometheus_client.parser import text_string_to_metric_families
      out = []
      for family in text_string_to_metric_families(sys.stdin.read()):
          for s in family.samples:
              out.append({"family": family.name, "type": family.type, "name": s.name,
                          "labels": s.labels, "value": s.value})
      print(json.dumps(out))
      """;
  private static final JsonMapper JSON = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

  record Sample(String family, String type, String name, Map<String, String> labels,
      double value) {}

  private PrometheusText() {}

  static void requireParser() {
    boolean present = false;
    if (Files.isExecutable(PYTHON)) {
      try {
        var p = new ProcessBuilder(PYTHON.toString(), "-c", "import prometheus_client.parser")
            .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        present = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
      } catch (Exception e) {
        present = false;
      }
    }
    Testbed.requireInstalled(Testbed.BROWSER, "Debian's python3-prometheus-client (the "
        + "Prometheus parser)", present);
  }

  static List<Sample> parse(String exposition) throws Exception {
    var p = new ProcessBuilder(PYTHON.toString(), "-c", SCRIPT).start();
    try (var in = p.getOutputStream()) {
      in.write(exposition.getBytes(StandardCharsets.UTF_8));
    }
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    var err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("the Prometheus parser refused the exposition: " + err);
    }
    var samples = new ArrayList<Sample>();
    for (var n : JSON.readTree(out)) {
      samples.add(JSON.treeToValue(n, Sample.class));
    }
    return samples;
  }

  /** The value of the one sample with this name and these labels (others may be present). */
  static double value(List<Sample> samples, String name, Map<String, String> labels) {
    var found = samples.stream().filter(s -> s.name().equals(name)
        && s.labels().entrySet().containsAll(labels.entrySet())).toList();
    if (found.size() != 1) {
      throw new AssertionError("expected one sample " + name + labels + ", found " + found);
    }
    return found.getFirst().value();
  }

  /** The value, or 0 when the series is absent (a gauge with no jobs in that state). */
  static double valueOrZero(List<Sample> samples, String name, Map<String, String> labels) {
    return samples.stream().filter(s -> s.name().equals(name)
        && s.labels().entrySet().containsAll(labels.entrySet())).mapToDouble(Sample::value)
        .sum();
  }
}
