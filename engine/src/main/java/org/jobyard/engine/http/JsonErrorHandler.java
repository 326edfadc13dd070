package org.jobyard.engine.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's answer to requests it refuses before any route runs (bad UTF-8 in the path, a URI or
 * headers too long, a malformed request line): the API's JSON error with a documented code,
 * instead of Jetty's HTML page.
 */
final class JsonErrorHandler extends ErrorHandler {
  @Override
  protected void generateResponse(Request request, Response response, int status, String message,
      Throwable cause, Callback callback) throws IOException {
    var body = new java.util.LinkedHashMap<String, Object>();
    body.put("code", ApiServer.code(status));
    body.put("message", "the request was refused before it reached the API: "
        + (message == null || message.isBlank() ? "status " + status : message));
    var bytes = ApiServer.JSON.writeValueAsBytes(Map.of("error", body));
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    response.write(true, ByteBuffer.wrap(bytes), callback);
  }
}
