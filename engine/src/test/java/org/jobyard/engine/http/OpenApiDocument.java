package org.jobyard.engine.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The OpenAPI document the engine serves, and its schemas as JSON Schema 2020-12 (what OpenAPI 3.1
 * uses) through networknt's validator, so tests can check documents and answers against it.
 */
public final class OpenApiDocument {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private final String text;
  private final JsonNode tree;
  private final SchemaRegistry registry = SchemaRegistry.withDialect(Dialects.getOpenApi31());
  private final java.util.Map<String, Schema> schemas = new java.util.concurrent.ConcurrentHashMap<>();

  public OpenApiDocument(String text) {
    this.text = text;
    try {
      this.tree = YAML.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static OpenApiDocument bundled() {
    try (var in = ApiServer.class.getResourceAsStream("openapi.yaml")) {
      return new OpenApiDocument(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String text() {
    return text;
  }

  public JsonNode tree() {
    return tree;
  }

  /** The schema at a JSON pointer of the document, e.g. {@code /components/schemas/Job}. */
  public Schema schema(String pointer) {
    return schemas.computeIfAbsent(pointer, this::load);
  }

  private Schema load(String pointer) {
    var root = (ObjectNode) tree.deepCopy();
    root.put("$ref", "#" + pointer);
    return registry.getSchema(SchemaLocation.of("urn:jobyard:openapi"), root);
  }

  /** What is wrong with {@code value} against the schema at {@code pointer}; empty if it fits. */
  public List<String> problems(String pointer, JsonNode value) {
    return schema(pointer).validate(value).stream().map(Object::toString).toList();
  }
}
