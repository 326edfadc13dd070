package org.jobyard.engine.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.util.Map;
import org.jobyard.api.JobSpec;

/**
 * The JSON columns of the job tables: a job's spec ({@code jobs.spec}) and a plugin's own
 * document about an attempt ({@code attempts.attributes}). One codec for every reader and writer.
 */
public final class StoredJson {
  private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule());
  private static final TypeReference<Map<String, String>> ATTRIBUTES = new TypeReference<>() {};

  private StoredJson() {}

  public static String spec(JobSpec spec) {
    return write(spec);
  }

  /** The stored spec of a job; {@link IllegalStateException} naming the job if unreadable. */
  public static JobSpec spec(String jobId, String json) {
    try {
      return JSON.readValue(json, JobSpec.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("job " + jobId + ": stored spec unreadable: "
          + e.getOriginalMessage(), e);
    }
  }

  public static String attributes(Map<String, String> attributes) {
    return write(attributes);
  }

  /** A plugin's attributes; empty when none were stored. */
  public static Map<String, String> attributes(String json) {
    if (json == null || json.isBlank() || json.equals("{}")) {
      return Map.of(); // no parser for the common empty document
    }
    try {
      return JSON.readValue(json, ATTRIBUTES);
    } catch (JsonProcessingException e) {
      return Map.of();
    }
  }

  /** Any small value as JSON (the outbox's payloads). */
  public static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
    }
  }
}
