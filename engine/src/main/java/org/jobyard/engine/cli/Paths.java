package org.jobyard.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobSpec.FileTransfer;

/** Makes a job's paths on the engine's machine absolute, relative to the submitting folder. */
final class Paths {
  private Paths() {}

  static JobSpec resolve(JobSpec s, Path base) {
    var dir = s.directory() == null ? null : abs(base, s.directory());
    List<FileTransfer> inputs = s.inputFiles().stream()
        .map(f -> f.fromUrl() ? f : new FileTransfer(abs(base, f.source()), f.destination()))
        .toList();
    List<FileTransfer> outputs = s.outputFiles().stream()
        .map(f -> new FileTransfer(f.source(), abs(base, f.destination()))).toList();
    return s.withPaths(dir, s.stdout() == null ? null : abs(base, s.stdout()),
        s.stderr() == null ? null : abs(base, s.stderr()), inputs, outputs);
  }

  /**
   * The same, on a job document before it is parsed (one job, a list, {@code {jobs: [...]}} or a
   * sweep's template), for sending it to an engine that cannot know the client's folder. Fields
   * of the wrong type are left alone for the engine to report.
   */
  static JsonNode resolveTree(JsonNode root, Path base) {
    if (root == null) {
      return null;
    }
    var copy = root.deepCopy();
    if (copy.isArray()) {
      copy.forEach(j -> resolveJob(j, base));
    } else if (copy.isObject() && copy.has("sweep")) {
      resolveJob(copy.path("job"), base);
    } else if (copy.isObject() && copy.has("jobs") && !copy.has("executable")) {
      copy.path("jobs").forEach(j -> resolveJob(j, base));
    } else {
      resolveJob(copy, base);
    }
    return copy;
  }

  private static void resolveJob(JsonNode node, Path base) {
    if (!(node instanceof ObjectNode job)) {
      return;
    }
    for (var field : List.of("directory", "stdout", "stderr", "stdin")) {
      if (job.path(field).isTextual()) {
        job.put(field, abs(base, job.path(field).asText()));
      }
    }
    if (job.path("inputs") instanceof ArrayNode inputs) {
      resolveInputs(job, inputs, base);
    }
    if (job.path("outputs") instanceof ArrayNode outputs) {
      resolveOutputs(job, outputs, base);
    }
  }

  private static void resolveInputs(ObjectNode job, ArrayNode inputs, Path base) {
    for (int i = 0; i < inputs.size(); i++) {
      var e = inputs.get(i);
      if (e.isTextual()) {
        var o = job.objectNode().put("source", absOrUrl(base, e.asText()))
            .put("destination", fileName(e.asText()));
        inputs.set(i, o);
      } else if (e instanceof ObjectNode o && o.path("source").isTextual()) {
        if (!o.has("destination")) {
          o.put("destination", fileName(o.path("source").asText()));
        }
        o.put("source", absOrUrl(base, o.path("source").asText()));
      }
    }
  }

  private static void resolveOutputs(ObjectNode job, ArrayNode outputs, Path base) {
    for (int i = 0; i < outputs.size(); i++) {
      var e = outputs.get(i);
      if (e.isTextual()) {
        var o = job.objectNode().put("source", e.asText())
            .put("destination", abs(base, fileName(e.asText())));
        outputs.set(i, o);
      } else if (e instanceof ObjectNode o && o.path("source").isTextual()) {
        var dst = o.path("destination").isTextual() ? o.path("destination").asText()
            : fileName(o.path("source").asText());
        o.put("destination", abs(base, dst));
      }
    }
  }

  private static String fileName(String p) {
    var name = Path.of(p).getFileName();
    return name == null ? p : name.toString();
  }

  /** An input's source: a URL (which the cluster fetches) stays as it is. */
  private static String absOrUrl(Path base, String p) {
    return FileTransfer.isUrl(p) ? p : abs(base, p);
  }

  private static String abs(Path base, String p) {
    if (p.startsWith("~/")) {
      return Path.of(System.getProperty("user.home"), p.substring(2)).toString();
    }
    return base.toAbsolutePath().resolve(p).normalize().toString();
  }
}
