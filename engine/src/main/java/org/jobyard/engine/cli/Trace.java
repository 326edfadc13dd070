package org.jobyard.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One line per job and attempt, like Nextflow's trace file: what {@code run --trace} writes (as
 * tab-separated values) and {@code show} prints. Attempts come as the API writes them, so both
 * read the same fields.
 */
final class Trace {
  static final List<String> HEADER = List.of("id", "name", "attempt", "cluster", "native_id",
      "state", "submitted", "started", "ended", "exit", "wall_seconds", "reason");
  /** The API's own mapping: snake_case names, ISO-8601 times. */
  static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private Trace() {}

  /**
   * The lines of one job: one per attempt, oldest first; a job that never reached a cluster
   * (cancelled while queued, say) gets one line with attempt 0, so every job is in the trace.
   */
  static List<List<String>> rows(JsonNode job, JsonNode attempts) {
    var rows = new ArrayList<List<String>>();
    var id = job.path("id").asText();
    var name = job.path("name").asText();
    for (var a : attempts) {
      rows.add(List.of(id, name, a.path("attempt").asText(), a.path("cluster").asText("-"),
          text(a, "native_id"), text(a, "state"), text(a, "created_at"), text(a, "started_at"),
          text(a, "ended_at"), text(a, "exit_code"), text(a, "wall_seconds"),
          text(a, "reason")));
    }
    if (rows.isEmpty()) {
      rows.add(List.of(id, name, "0", "-", "-", text(job, "state"), "-", "-", "-",
          text(job, "exit_code"), "-", text(job, "reason")));
    }
    return rows;
  }

  /** Writes the header and the rows as tab-separated values, one record per line. */
  static void write(Path file, List<List<String>> rows) throws IOException {
    var sb = new StringBuilder(String.join("\t", HEADER)).append('\n');
    for (var r : rows) {
      sb.append(String.join("\t", r.stream().map(Trace::cell).toList())).append('\n');
    }
    Files.writeString(file, sb, StandardCharsets.UTF_8);
  }

  private static String text(JsonNode n, String field) {
    var v = n.path(field);
    return v.isMissingNode() || v.isNull() || v.asText().isEmpty() ? "-" : v.asText();
  }

  /** A reason may hold tabs or line breaks; in a TSV record they would split it. */
  private static String cell(String s) {
    return s.replace('\t', ' ').replace('\r', ' ').replace('\n', ' ');
  }
}
