package org.jobyard.engine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client verb starts a JVM that loads what a client needs and nothing of the engine: no Guice,
 * store, manager, H2, Flyway or logback (issue 19: a CLI call should answer at once). Run in a
 * fresh JVM, as bin/jobyard does, with the JVM's own list of the classes it loaded.
 */
class ClientStartupTest {
  /** Class name prefixes a client verb must not load; each one is a large part of the engine. */
  static final List<String> ENGINE_ONLY = List.of("com.google.inject.", "org.jobyard.engine.Engine ",
      "org.jobyard.engine.store.", "org.jobyard.engine.manager.", "org.jobyard.engine.http.",
      "org.jobyard.engine.cli.RunCommand ", "org.jobyard.engine.cli.EngineCommand ",
      "ch.qos.logback.", "org.h2.", "org.flywaydb.", "org.jdbi.", "io.javalin.",
      "sun.security.ssl.TrustStoreManager",
      // the JDK's HttpClient: its start was most of a plain-HTTP verb's CPU (Client's javadoc)
      "jdk.internal.net.http.", "sun.security.ssl.SSLContextImpl",
      // a lambda per verb in Main, spun at every start (Main.verb's javadoc)
      "org.jobyard.engine.cli.Main$$Lambda");

  @TempDir
  Path tmp;
  HttpServer engine;

  @BeforeEach
  void fakeEngine() throws Exception {
    // the API's answer to a listing, as a running engine gives it
    engine = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    engine.createContext("/api/v1/jobs", exchange -> {
      var body = """
          {"jobs": [{"id": "jy-startup1", "name": "hello", "owner": "me", "state": "RUNNING",
                     "cluster": "local", "updated_at": "2026-01-01T00:00:00Z"}]}
          """.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    engine.start();
  }

  @AfterEach
  void stop() {
    engine.stop(0);
  }

  @Test
  void psListsJobsWithoutLoadingAnyEngineClass() throws Exception {
    var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var classes = tmp.resolve("classes.log");
    var out = tmp.resolve("out.txt");
    var pb = new ProcessBuilder(java, "-Xlog:class+load:file=" + classes,
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "--home", tmp.resolve("home").toString(), "ps",
        "--engine", "http://127.0.0.1:" + engine.getAddress().getPort() + "/")
        .redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().put("XDG_CONFIG_HOME", tmp.resolve("config").toString());
    pb.environment().remove("JOBYARD_TOKEN");
    pb.environment().remove("JOBYARD_ENGINE");
    var p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("ps finished").isTrue();
    var printed = Files.readString(out);
    assertThat(p.exitValue()).as(printed).isZero();
    assertThat(printed).contains("jy-startup1").contains("running");

    var loaded = Files.readAllLines(classes).stream()
        .filter(l -> l.contains("[class,load]"))
        .map(l -> l.substring(l.indexOf("[class,load]") + "[class,load] ".length()))
        .toList();
    assertThat(loaded).as("the client's own classes were logged")
        .anyMatch(c -> c.startsWith("org.jobyard.engine.cli.Client "));
    assertThat(loaded).as("classes a client verb has no use for")
        .noneMatch(c -> ENGINE_ONLY.stream().anyMatch(c::startsWith));
  }
}
