package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.control.JobControl;

/**
 * A real engine with its API for a test: H2 in the test's folder, the configuration given as
 * YAML (clusters on the {@code scripted} backend, tokens), listening on a free loopback port.
 * The API user {@code alice} stands for the engine's owner (docs/security.md); other users get
 * only the clusters the YAML grants them.
 */
public record TestEngine(Engine engine, ApiServer server) implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  public static TestEngine start(Path home, String yaml) throws Exception {
    var conf = home.resolve("jobyard.yaml");
    Files.writeString(conf, yaml);
    var config = ConfigLoader.load(home, conf);
    var engine = Engine.create(config).start();
    try {
      return new TestEngine(engine, new ApiServer(new JobControl(engine,
          new org.jobyard.engine.access.Access(config, "alice")),
          new Authenticator(config.api().tokens()), config.api().listen()).start());
    } catch (RuntimeException e) {
      engine.close();
      throw e;
    }
  }

  /**
   * The configuration of an engine on the testbed's PostgreSQL schema {@code url} (i18), with
   * {@code lease} as its lease and one cluster {@code t} on the scripted backend, for alice.
   */
  public static String onPostgres(String url, String lease, int maxJobs, String token) {
    return """
        database: {url: "%s", user: "%s", password: "%s", lease: %s}
        engine: {poll_interval: 200ms}
        clusters:
          t: {backend: scripted, users: [alice], max_jobs: %d}
        api:
          listen: 127.0.0.1:0
          tokens:
            - {user: alice, token: %s}
        """.formatted(url, org.jobyard.testkit.Testbed.get("PG_USER"),
        org.jobyard.testkit.Testbed.get("PG_PASSWORD"), lease, maxJobs, token);
  }

  /** Submits jobs (anything Jackson writes as a job document) and returns their ids. */
  public List<String> submit(String token, Object jobs) throws Exception {
    var a = HTTP.send(HttpRequest.newBuilder(server.url().resolve("api/v1/jobs"))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(jobs))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(a.statusCode()).as(a.body()).isEqualTo(201);
    var ids = new ArrayList<String>();
    JSON.readTree(a.body()).path("ids").forEach(n -> ids.add(n.asText()));
    return ids;
  }

  /** One API request with the token; a JSON body when {@code body} is not null. */
  public HttpResponse<String> call(String method, String path, String token, String body)
      throws Exception {
    var b = HttpRequest.newBuilder(server.url().resolve(path))
        .header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    server.close();
    engine.close();
  }
}
