package org.jobyard.engine.spec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Turns the text of a job document into one tree, refusing what a tree cannot represent
 * faithfully: several documents, YAML aliases (Jackson would hand over the anchor's name instead
 * of its value), keys given twice (the last would win silently), and oversized input. Every check
 * here is linear in the size of the text.
 */
final class DocumentReader {
  /** The largest job document, as the API's body limit: a file of 10 MiB is already huge. */
  static final int MAX_CHARS = 10 * 1024 * 1024;

  /**
   * The longest YAML token without a space or line break. SnakeYAML re-copies its buffer for
   * every 1 KiB of a token it scans, so the time grows with the square of the token's length
   * (8 MB: over 20 s); 256 Ki characters cost milliseconds. JSON has no such limit.
   */
  static final int MAX_YAML_TOKEN = 256 * 1024;

  private static final StreamReadConstraints CONSTRAINTS = StreamReadConstraints.builder()
      .maxDocumentLength(MAX_CHARS).maxStringLength(MAX_CHARS).maxNestingDepth(100).build();
  private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
      .loaderOptions(loaderOptions()).streamReadConstraints(CONSTRAINTS).build());
  private static final ObjectMapper JSON = new ObjectMapper(
      com.fasterxml.jackson.core.JsonFactory.builder().streamReadConstraints(CONSTRAINTS).build());

  private DocumentReader() {}

  private static LoaderOptions loaderOptions() {
    var o = new LoaderOptions();
    o.setCodePointLimit(MAX_CHARS);
    o.setMaxAliasesForCollections(0);
    return o;
  }

  /** The one document in {@code text}; {@code source} names it in messages. */
  static JsonNode read(String source, String text, boolean json) throws JobFileException {
    var format = json ? "JSON" : "YAML";
    if (text.length() > MAX_CHARS) {
      throw new JobFileException(List.of(source + ": " + text.length() + " characters; a job "
          + "file holds at most " + MAX_CHARS + " (10 MiB): split it, or use a sweep"));
    }
    if (!json) {
      refuseLongTokens(source, text);
    }
    var mapper = json ? JSON : YAML;
    try {
      check(source, mapper, text, json);
      return mapper.readTree(text);
    } catch (JsonProcessingException e) {
      var loc = e.getLocation();
      throw new JobFileException(List.of(source + (loc == null ? "" : ":" + loc.getLineNr())
          + ": not valid " + format + ": " + e.getOriginalMessage()));
    }
  }

  private static void refuseLongTokens(String source, String text) throws JobFileException {
    int run = 0;
    int line = 1;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\n') {
        line++;
      }
      run = Character.isWhitespace(c) ? 0 : run + 1;
      if (run > MAX_YAML_TOKEN) {
        throw new JobFileException(List.of(source + ":" + line + ": a YAML value of more than "
            + MAX_YAML_TOKEN + " characters without a space or line break; shorten it, or send "
            + "the document as JSON"));
      }
    }
  }

  /** One streaming pass: aliases, keys given twice, more than one document. */
  private static void check(String source, ObjectMapper mapper, String text, boolean json)
      throws JobFileException, JsonProcessingException {
    try (JsonParser p = mapper.createParser(text)) {
      var keys = new ArrayDeque<Set<String>>();
      int documents = 0;
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (!json && ((YAMLParser) p).isCurrentAlias()) {
          throw new JobFileException(List.of(source + ":" + p.currentLocation().getLineNr()
              + ": field '" + field(p) + "': YAML aliases (*" + p.getText() + ") are not "
              + "supported; repeat the value"));
        }
        switch (t) {
          case START_OBJECT -> keys.push(new HashSet<>());
          case END_OBJECT -> keys.pop();
          case FIELD_NAME -> {
            if (!keys.isEmpty() && !keys.peek().add(p.currentName())) {
              throw new JobFileException(List.of(source + ":" + p.currentLocation().getLineNr()
                  + ": field '" + field(p) + "' is given twice; give each field once"));
            }
          }
          default -> { }
        }
        boolean endsAValue = t.isScalarValue() || t == JsonToken.END_OBJECT
            || t == JsonToken.END_ARRAY;
        if (endsAValue && p.getParsingContext().inRoot()) {
          if (++documents > 1) {
            throw new JobFileException(List.of(source + ":" + p.currentLocation().getLineNr()
                + ": a second " + (json ? "JSON value" : "YAML document") + " follows the "
                + "first; give one document per file (a list of jobs, or {jobs: [...]})"));
          }
        }
      }
    } catch (IOException e) {
      if (e instanceof JsonProcessingException jpe) {
        throw jpe;
      }
      throw new JobFileException(List.of(source + ": cannot read: " + e.getMessage()));
    }
  }

  /** The path of the current token, e.g. {@code jobs[0].resources.cores}. */
  private static String field(JsonParser p) {
    var ptr = p.getParsingContext().pathAsPointer().toString();
    var sb = new StringBuilder();
    for (var part : ptr.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      if (part.chars().allMatch(Character::isDigit)) {
        sb.append('[').append(part).append(']');
      } else {
        sb.append(sb.isEmpty() ? "" : ".").append(part.replace("~1", "/").replace("~0", "~"));
      }
    }
    return sb.isEmpty() ? "(document)" : sb.toString();
  }
}
