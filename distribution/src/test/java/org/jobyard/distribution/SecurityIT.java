package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An API user against the engine from the tarball, run as root as in production: what the
 * configuration grants them, and nothing of the engine's account (docs/security.md). Alice may
 * use cluster {@code local} and runs there as the testbed's OS account; bob is granted nothing.
 */
class SecurityIT {
  static final String ALICE = "alice-0123456789abcdef";
  static final String BOB = "bob-0123456789abcdefgh";
  static final String SECRET = "OWNER-SECRET-4711";

  @TempDir
  static Path tmp;
  static Tarball tarball;
  static DaemonIT.Daemon daemon;
  static Path work;
  static Path space;
  static Path ownerSecret;
  static String account;
  static int accountUid;

  @BeforeAll
  static void startTheEngineAsRoot() throws Exception {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
        "the engine drops to other accounts only when it runs as root");
    Testbed.require(Testbed.SSH); // its service account is the OS account alice is mapped to
    account = Testbed.get("SSH_USER");
    accountUid = Integer.parseInt(sh("id -u " + account).strip());
    // the installation and the workspace must be reachable (not listable) by that account
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
    var dist = Files.createDirectory(tmp.resolve("dist"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
    tarball = Tarball.unpack(dist);
    Files.setPosixFilePermissions(tarball.home, PosixFilePermissions.fromString("rwx--x--x"));
    work = Files.createDirectory(tmp.resolve("work"));
    space = Files.createDirectory(tmp.resolve("alice-space"));
    sh("chown " + account + ": " + space + " && chmod 700 " + space);
    ownerSecret = Files.writeString(tmp.resolve("owner-secret.txt"), SECRET + "\n");
    Files.setPosixFilePermissions(ownerSecret, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(tarball.home.resolve("conf/jobyard.yaml"), """
        engine: {poll_interval: 200ms}
        api:
          listen: 127.0.0.1:0
          tokens:
            - {user: alice, token: %s, account: %s, workspace: %s}
            - {user: bob, token: %s}
        clusters:
          local: {backend: local, users: [alice], keep_sandbox: true}  # the test reads the ended job's folder
          private: {backend: local}
          single: {backend: local, slots: 1, queue_ahead: 0, users: [alice]}  # run_as jobs start at once: only slots go
        """.formatted(ALICE, account, space, BOB));
    daemon = DaemonIT.Daemon.start(tarball);
  }

  @AfterAll
  static void stopTheEngine() throws Exception {
    if (daemon != null) {
      daemon.stop();
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  static String sh(String script) throws Exception {
    var p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(script + ":\n" + out).isZero();
    return out;
  }

  static DaemonIT.Http post(String token, String json) throws Exception {
    return http("POST", "api/v1/jobs", token, json);
  }

  static DaemonIT.Http http(String method, String path, String token, String json)
      throws Exception {
    var b = java.net.http.HttpRequest.newBuilder(daemon.url().resolve(path)).method(method,
        json == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
            : java.net.http.HttpRequest.BodyPublishers.ofString(json))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json");
    var r = DaemonIT.HTTP.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    return new DaemonIT.Http(r.statusCode(), r.body());
  }

  static String submit(String token, String json) throws Exception {
    var r = post(token, json);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().path("ids").get(0).asText();
  }

  static String awaitEnd(String id) {
    var state = new String[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
      var jobs = http("GET", "api/v1/jobs?id=" + id, daemon.token(), null).json().path("jobs");
      state[0] = jobs.get(0).path("state").asText();
      return Set.of("SUCCEEDED", "FAILED", "CANCELLED").contains(state[0]);
    });
    return state[0];
  }

  static int uid(Path p) throws Exception {
    return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
  }

  // --- tests -------------------------------------------------------------------------------

  @Test
  void aUsersJobRunsAsHerAccountAndCannotReadTheOwnersTokenOrFiles() throws Exception {
    var out = space.resolve("out/whoami.out");
    var id = submit(ALICE, """
        {"name": "whoami", "executable": "/bin/sh", "arguments": ["-c",
         "id -u; cat %s; cat %s; echo end"], "stdout": "%s", "stderr": "%s"}"""
        .formatted(tarball.home.resolve("var/run/token"), ownerSecret, out, out));
    assertThat(awaitEnd(id)).isEqualTo("SUCCEEDED");
    var text = Files.readString(out);
    assertThat(text.lines().findFirst()).hasValue(Integer.toString(accountUid));
    assertThat(text).contains("Permission denied").contains("end")
        .doesNotContain(daemon.token()).doesNotContain(SECRET);
    assertThat(uid(out)).as("the job's output is the account's").isEqualTo(accountUid);
    var folder = tarball.home.resolve("var/clusters/local/" + id + ".1");
    assertThat(uid(folder)).isEqualTo(accountUid);
    assertThat(uid(folder.resolve("job.sh"))).isEqualTo(accountUid);
    var logs = http("GET", "api/v1/jobs/" + id + "/logs", ALICE, null);
    assertThat(logs.status()).as(logs.body()).isEqualTo(200);
    assertThat(logs.body()).startsWith(accountUid + "\n").doesNotContain(daemon.token());
  }

  @Test
  void aUserIsRefusedOnAClusterNotGrantedToHerAndNothingIsStored() throws Exception {
    var before = http("GET", "api/v1/jobs", daemon.token(), null).json().path("jobs").size();
    var alice = post(ALICE, """
        {"name": "sneak", "executable": "/bin/true", "clusters": ["private"]}""");
    assertThat(alice.status()).as(alice.body()).isEqualTo(403);
    assertThat(alice.json().path("error").path("code").asText()).isEqualTo("forbidden");
    assertThat(alice.body()).contains("cluster 'private' is not granted to user 'alice'");
    var bob = post(BOB, """
        {"name": "sneak", "executable": "/bin/true"}""");
    assertThat(bob.status()).as(bob.body()).isEqualTo(403);
    assertThat(bob.body()).contains("cluster 'local' is not granted to user 'bob'");
    var cli = tarball.run(work, DaemonIT.CLI, Map.of("JOBYARD_TOKEN", BOB), "submit",
        Files.writeString(work.resolve("bob.yaml"), "name: sneak\nexecutable: /bin/true\n")
            .toString());
    assertThat(cli.exitCode()).as(cli.toString()).isEqualTo(2);
    assertThat(cli.stderr()).contains("cluster 'local' is not granted to user 'bob'");
    assertThat(http("GET", "api/v1/jobs", daemon.token(), null).json().path("jobs").size())
        .isEqualTo(before);
  }

  @Test
  void pathsOutsideTheUsersWorkspaceAreRefused() throws Exception {
    var link = space.resolve("link");
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, tmp);
    for (var field : List.of(
        "\"stdout\": \"" + tarball.home.resolve("var/run/stolen") + "\"",
        "\"stderr\": \"" + space + "/../owner-secret.txt\"",
        "\"stdout\": \"" + link + "/owner-secret.txt\"",
        "\"directory\": \"/root\"",
        "\"inputs\": [\"" + ownerSecret + "\"]",
        "\"outputs\": [{\"source\": \"x\", \"destination\": \"" + ownerSecret + "\"}]")) {
      var r = post(ALICE, "{\"name\": \"escape\", \"executable\": \"/bin/true\", " + field + "}");
      assertThat(r.status()).as(field + " -> " + r.body()).isEqualTo(403);
      assertThat(r.body()).contains("paths must stay in " + space);
    }
    assertThat(Files.readString(ownerSecret)).isEqualTo(SECRET + "\n");
  }

  @Test
  void logsAndCollectionReadOnlyWhatTheUsersAccountMay() throws Exception {
    // a file of the owner's inside alice's area: the engine must not read it for her
    var planted = space.resolve("planted.log");
    Files.writeString(planted, SECRET + "\n");
    Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rw-------"));
    var logged = submit(ALICE, """
        {"name": "planted", "executable": "/bin/echo", "arguments": ["hi"],
         "stdout": "%s"}""".formatted(planted));
    awaitEnd(logged);
    var logs = http("GET", "api/v1/jobs/" + logged + "/logs", ALICE, null);
    assertThat(logs.body()).doesNotContain(SECRET);
    assertThat(Files.readString(planted)).isEqualTo(SECRET + "\n");

    // an output that is a link to the owner's file: collected as alice, so not readable
    var result = space.resolve("result.txt");
    var collected = submit(ALICE, """
        {"name": "collect", "executable": "/bin/ln", "arguments": ["-s", "%s", "result.txt"],
         "outputs": [{"source": "result.txt", "destination": "%s"}]}"""
        .formatted(ownerSecret, result));
    awaitEnd(collected);
    assertThat(Files.exists(result) ? Files.readString(result) : "").doesNotContain(SECRET);
  }

  @Test
  void logsOfAQueuedJobReadNothingBeforeTheJobExists() throws Exception {
    var planted = space.resolve("queued.log");
    Files.writeString(planted, SECRET + "\n");
    Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rw-------"));
    var go = space.resolve("go");
    var blocker = submit(ALICE, """
        {"name": "blocker", "executable": "/bin/sh", "clusters": ["single"],
         "arguments": ["-c", "while [ ! -e %s ]; do sleep 0.1; done"]}""".formatted(go));
    var queued = submit(ALICE, """
        {"name": "queued", "executable": "/bin/true", "clusters": ["single"],
         "stdout": "%s"}""".formatted(planted));
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> http("GET", "api/v1/jobs?id="
          + blocker, ALICE, null).json().path("jobs").get(0).path("state").asText()
          .equals("RUNNING"));
      var view = http("GET", "api/v1/jobs?id=" + queued, ALICE, null).json().path("jobs").get(0);
      assertThat(view.path("native_id").isNull() || view.path("native_id").isMissingNode())
          .as(view.toString()).isTrue();
      var logs = http("GET", "api/v1/jobs/" + queued + "/logs", ALICE, null);
      assertThat(logs.status()).as(logs.body()).isEqualTo(409);
      assertThat(logs.body()).contains("has not started yet").doesNotContain(SECRET);
    } finally {
      Files.writeString(go, "");
    }
    awaitEnd(blocker);
    awaitEnd(queued);
  }

  @Test
  void noFileUnderVarIsReadableByAnotherAccount() throws Exception {
    var id = submit(daemon.token(), """
        {"name": "keyed", "executable": "/bin/sh", "arguments": ["-c", "echo $API_KEY"],
         "environment": {"API_KEY": "s3cr3t-api-key"}}""");
    assertThat(awaitEnd(id)).isEqualTo("SUCCEEDED");
    var script = tarball.home.resolve("var/clusters/local/" + id + ".1/run.sh"); // the runner's job file
    assertThat(Files.readString(script)).contains("s3cr3t-api-key");
    var others = EnumSet.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);
    var exposed = new ArrayList<String>();
    try (Stream<Path> files = Files.walk(tarball.home.resolve("var"))) {
      for (var f : files.filter(f -> !Files.isSymbolicLink(f)).toList()) {
        var perms = Files.getPosixFilePermissions(f);
        if (f.getFileName().toString().equals(".done")) {
          continue; // completion markers, empty files named after jobs: writable, not listable
        }
        if (perms.stream().anyMatch(others::contains)) {
          exposed.add(f + " " + PosixFilePermissions.toString(perms));
        }
      }
    }
    assertThat(exposed).as("files under var/ open to other accounts").isEmpty();
    assertThat(Files.list(tarball.home.resolve("var/db")).toList()).isNotEmpty();
  }

  @Test
  void theCliSendsTheLocalTokenOnlyToItsOwnEngine() throws Exception {
    var seen = new CopyOnWriteArrayList<String>();
    var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      seen.add(Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization"))
          .orElse("(none)"));
      var body = "{\"error\":{\"code\":\"unauthorized\",\"message\":\"who are you\"}}"
          .getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(401, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      var elsewhere = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
      var byOption = tarball.run(work, DaemonIT.CLI, "ps", "--engine", elsewhere);
      var byEnv = tarball.run(work, DaemonIT.CLI, Map.of("JOBYARD_ENGINE", elsewhere), "ps");
      assertThat(byOption.exitCode()).as(byOption.toString()).isEqualTo(2);
      assertThat(byEnv.exitCode()).as(byEnv.toString()).isEqualTo(2);
      assertThat(seen).hasSize(2).allSatisfy(h -> assertThat(h).isEqualTo("(none)"));
      // the local engine still gets it
      var own = tarball.run(work, DaemonIT.CLI, "ps");
      assertThat(own.exitCode()).as(own.toString()).isIn(0, 1);
    } finally {
      server.stop(0);
    }
    var address = nonLoopbackAddress();
    Assumptions.assumeTrue(address.isPresent(), "this machine has no non-loopback IPv4 address");
    var plain = tarball.run(work, DaemonIT.CLI, Map.of("JOBYARD_TOKEN", ALICE), "ps",
        "--engine", "http://" + address.get() + ":9/");
    assertThat(plain.exitCode()).as(plain.toString()).isEqualTo(2);
    assertThat(plain.stderr()).contains("refusing plain HTTP");
  }

  /** An IPv4 address of this machine that is not loopback: "beyond loopback" for real. */
  static Optional<String> nonLoopbackAddress() throws Exception {
    return NetworkInterface.networkInterfaces().filter(i -> {
      try {
        return i.isUp() && !i.isLoopback();
      } catch (java.net.SocketException e) {
        return false;
      }
    }).flatMap(NetworkInterface::inetAddresses).filter(Inet4Address.class::isInstance)
        .filter(a -> !a.isLoopbackAddress() && !a.isLinkLocalAddress())
        .map(java.net.InetAddress::getHostAddress).findFirst();
  }
}
