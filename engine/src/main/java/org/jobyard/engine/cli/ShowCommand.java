package org.jobyard.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code jobyard show JOB}: one job, every attempt, and where its output went. */
@Command(name = "show", mixinStandardHelpOptions = true,
    description = {"Shows one job in full: its state, every attempt (cluster, native id, when "
        + "it was submitted, started and ended, exit code, reason), and where its output went.",
        "", JobCommands.ENGINE_HELP},
    footer = {"", JobCommands.EXIT_CODES, "", "Examples:", "  jobyard show 1f3a9c2e4b5d",
        "  jobyard show -o json 1f3a9c2e4b5d | jq '.attempts[].exit_code'"})
final class ShowCommand extends JobCommands.Verb {
  @Parameters(paramLabel = "ID", arity = "1", description = "the job's id")
  String id;

  @Override
  public Integer call() {
    var json = connection.json();
    var answer = connection.client().get("api/v1/jobs/" + Client.encode(id));
    if (json) {
      printJson(answer);
      return Main.OK;
    }
    var out = out();
    var job = answer.path("job");
    out.println("job      " + job.path("id").asText() + "  " + job.path("name").asText()
        + "  (" + job.path("owner").asText()
        + (job.path("session").isTextual() ? ", session " + job.path("session").asText() : "")
        + ")");
    out.println("state    " + job.path("state").asText().toLowerCase(Locale.ROOT)
        + (job.path("exit_code").isNumber() ? ", exit " + job.path("exit_code").asText() : "")
        + (job.path("reason").isTextual() ? ": " + job.path("reason").asText() : ""));
    var output = answer.path("output");
    out.println("stdout   " + where(output, "stdout", ""));
    out.println("stderr   " + where(output, "stderr", " --stderr"));
    out.println();
    var rows = Trace.rows(job, answer.path("attempts")).stream()
        .map(r -> r.subList(2, r.size())).toList();
    JobCommands.Table.print(out, Trace.HEADER.subList(2, Trace.HEADER.size()).stream()
        .map(h -> h.toUpperCase(Locale.ROOT)).toList(), rows);
    out.flush();
    return Main.OK;
  }

  private String where(JsonNode output, String stream, String flag) {
    if (output.path(stream).isTextual()) {
      return output.path(stream).asText();
    }
    var cluster = output.path("kept_by").asText(null);
    return (cluster == null ? "kept with the job once it runs" : "kept with the job on cluster '"
        + cluster + "'") + "; read it with: jobyard logs " + id + flag;
  }
}
