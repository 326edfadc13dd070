package org.jobyard.engine.spec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Combinators;
import org.jobyard.engine.http.OpenApiDocument;

/**
 * Random and mutated job documents: the reader never lets an exception other than
 * {@link JobFileException} escape, names a field (or a line, for syntax) in every refusal, and
 * accepts nothing the API's schema (JobDocument in openapi.yaml) disallows.
 */
class JobFileReaderPropertiesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final OpenApiDocument OPENAPI = OpenApiDocument.bundled();
  /** A refusal names a field, or (syntax, size, several documents) the line or the whole file. */
  private static final Pattern NAMED = Pattern.compile("^f(:\\d+)?: (.*field '[^']+'.*|not valid "
      + "(YAML|JSON): .*|a second .*|a YAML value of more than .*|empty; .*|no jobs in the file"
      + "|expected a job .*|job \\d+( \\('[^']*'\\))?, expected a mapping|\\d+ (jobs|characters)[;:].*|the sweep makes more than .*)$",
      Pattern.DOTALL);

  // Seeds are fixed so that CI is repeatable (a random seed found two gaps in this reader, now
  // closed and listed in its refusals test); change them to explore further.
  @Property(tries = 400, seed = "1130")
  void mutatedDocumentsAreReadOrRefusedNamingAField(@ForAll("documents") Object document,
      @ForAll boolean json) throws Exception {
    var text = (json ? JSON : YAML).writeValueAsString(document);
    check(text, json);
  }

  @Property(tries = 300, seed = "2026")
  void mutatedTextIsReadOrRefusedNamingAField(@ForAll("documents") Object document,
      @ForAll boolean json, @ForAll("edits") List<int[]> edits) throws Exception {
    var sb = new StringBuilder((json ? JSON : YAML).writeValueAsString(document));
    var junk = "{}[],:-&*!|>'\"#%@`\n\t \\\0x1y";
    for (var e : edits) {
      if (sb.isEmpty()) {
        break;
      }
      int at = Math.floorMod(e[0], sb.length());
      if (e[1] % 2 == 0) {
        sb.deleteCharAt(at);
      } else {
        sb.insert(at, junk.charAt(Math.floorMod(e[1], junk.length())));
      }
    }
    check(sb.toString(), json);
  }

  private static void check(String text, boolean json) throws Exception {
    try {
      var specs = JobFileReader.parse("f", text, json);
      assertThat(specs).isNotEmpty();
      JsonNode tree = (json ? JSON : YAML).readTree(text);
      assertThat(OPENAPI.problems("/components/schemas/JobDocument", tree))
          .as("accepted, so the schema must allow it: %s", text).isEmpty();
    } catch (JobFileException e) {
      assertThat(e.problems()).isNotEmpty()
          .allSatisfy(p -> assertThat(p).as("names a field").matches(NAMED));
    }
  }

  @Provide
  Arbitrary<List<int[]>> edits() {
    return Arbitraries.integers().array(int[].class).ofSize(2).list().ofMaxSize(4);
  }

  @Provide
  Arbitrary<Object> documents() {
    var job = job();
    return Arbitraries.oneOf(job.map(j -> (Object) j),
        job.list().ofMinSize(0).ofMaxSize(3).map(l -> (Object) l),
        job.list().ofMaxSize(2).map(l -> (Object) Map.of("jobs", l)),
        Combinators.combine(job, Arbitraries.of("n", "x1", "bad name"),
            Arbitraries.oneOf(Arbitraries.just((Object) List.of(1, 2)),
                Arbitraries.just((Object) Map.of("from", 1, "to", 3)),
                Arbitraries.just((Object) Map.of("from", "a", "to", 3)),
                Arbitraries.just((Object) Map.of("from", 1, "to", 3, "stp", 2)),
                Arbitraries.just((Object) Map.of("from", Long.MAX_VALUE - 3, "to", Long.MAX_VALUE)),
                Arbitraries.just((Object) List.of(List.of(1)))))
            .as((j, name, values) -> {
              var template = new LinkedHashMap<String, Object>(j);
              template.put("name", "j-${" + name + "}");
              return (Object) Map.of("sweep", Map.of(name, values), "job", template);
            }));
  }

  private static Arbitrary<Map<String, Object>> job() {
    Arbitrary<Object> anyValue = Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(12).map(s -> (Object) s),
        Arbitraries.strings().withChars("ab/.\0\n\u001b ").ofMaxLength(6).map(s -> (Object) s),
        Arbitraries.longs().map(l -> (Object) l),
        Arbitraries.of(4294967297L, -4294967295L, 0L, 101L, -1L).map(l -> (Object) l),
        Arbitraries.just((Object) 1.5),
        Arbitraries.of(true, false).map(b -> (Object) b),
        Arbitraries.just((Object) List.of("a", "b")),
        Arbitraries.just((Object) List.of(Map.of("source", "/"))),
        Arbitraries.just((Object) List.of(Map.of("source", "s", "destination", "../x"))),
        Arbitraries.just((Object) List.of(Map.of("source", "s", "destination", "d"))),
        Arbitraries.just((Object) Map.of("cores", 2, "memory", "2GB")),
        Arbitraries.just((Object) Map.of("memory", "99999999999999999999TB")),
        Arbitraries.just((Object) Map.of("walltime", "9999999999999999d")),
        Arbitraries.just((Object) Map.of("slurm", Map.of("qos", "high"))),
        Arbitraries.just((Object) Map.of("K", "v")),
        Arbitraries.just((Object) null));
    var fields = Arbitraries.of("name", "session", "executable", "arguments", "steps",
        "environment", "directory", "stdout", "stderr", "resources", "queue", "account", "inputs",
        "outputs", "clusters", "retries", "native", "nmae", "jobs", "sweep", "job");
    Arbitrary<List<Map.Entry<String, Object>>> extras = Combinators.combine(fields, anyValue).as((k, v) -> (Map.Entry<String, Object>) new java.util.AbstractMap.SimpleEntry<String, Object>(k, v)).list().ofMaxSize(4);
    var valid = Combinators.combine(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8),
        Arbitraries.of("/bin/echo", "x"), Arbitraries.strings().alpha().ofMaxLength(5).list()
            .ofMaxSize(3)).as((name, exe, args) -> {
              var m = new LinkedHashMap<String, Object>();
              m.put("name", name);
              m.put("executable", exe);
              m.put("arguments", new ArrayList<Object>(args));
              return m;
            });
    return Combinators.combine(valid, extras).as((m, more) -> {
      var copy = new LinkedHashMap<String, Object>(m);
      more.forEach(e -> copy.put(e.getKey(), e.getValue()));
      return copy;
    });
  }
}
