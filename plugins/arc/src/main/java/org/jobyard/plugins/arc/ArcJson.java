package org.jobyard.plugins.arc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A-REX's JSON, whose shapes depend on the count and the version: 6.x renders one element as an
 * object (or a string) and several as an array, and an empty list as an empty body; ARC 7 always
 * uses arrays. Every value is a string. These helpers read both.
 */
final class ArcJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ArcJson() {}

  /** The document, or an empty object for an empty body (6.x's empty list). */
  static JsonNode parse(String body) throws IOException {
    if (body == null || body.isBlank()) {
      return MAPPER.createObjectNode();
    }
    return MAPPER.readTree(body);
  }

  /** The elements under {@code field}: none, one (object or string) or many (array). */
  static List<JsonNode> list(JsonNode parent, String field) {
    var node = parent == null ? null : parent.get(field);
    var out = new ArrayList<JsonNode>();
    if (node == null || node.isNull() || node.isMissingNode()) {
      return out;
    }
    if (node.isArray()) {
      node.forEach(out::add);
    } else {
      out.add(node);
    }
    return out;
  }

  /** The strings under {@code field}, one or many. */
  static List<String> strings(JsonNode parent, String field) {
    return list(parent, field).stream().filter(JsonNode::isValueNode).map(JsonNode::asText)
        .toList();
  }

  /** A string value, empty when missing or blank. */
  static Optional<String> text(JsonNode node, String field) {
    var v = node == null ? null : node.get(field);
    if (v == null || v.isNull() || !v.isValueNode() || v.asText().isBlank()) {
      return Optional.empty();
    }
    return Optional.of(v.asText());
  }

  /** The body of an id-list request: {@code {"job":[{"id":"A"},...]}}. */
  static String jobIds(List<String> ids) {
    var root = MAPPER.createObjectNode();
    var array = root.putArray("job");
    ids.forEach(id -> array.addObject().put("id", id));
    return root.toString();
  }
}
