package org.jobyard.plugins.arc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendContext;
import org.jobyard.api.ConfigurationException;
import org.jobyard.api.Settings;
import org.jobyard.engine.transport.local.LocalTransport;
import org.jobyard.testkit.Testbed;

/**
 * The testbed's A-REX CEs as the tests reach them: settings, backends and a raw REST client. Most
 * tests use the {@code arc} service (6.17 on Debian 12); the {@code arc7} service is A-REX 7.0,
 * reached with the same client certificate and CA.
 */
final class ArcTestbed {
  private ArcTestbed() {}

  /** The settings of the testbed's {@code arc} cluster; skips (fails under CI) without it. */
  static Map<String, String> settings() {
    Testbed.require(Testbed.ARC);
    return settings(Testbed.get("ARC_URL"));
  }

  /**
   * The settings of the testbed's {@code arc7} cluster (A-REX 7.0); skips (fails under CI)
   * without it.
   */
  static Map<String, String> arc7Settings() {
    Testbed.require(Testbed.ARC7);
    Testbed.require(Testbed.ARC); // its client certificate and CA are arc's
    return settings(Testbed.get("ARC7_URL"));
  }

  private static Map<String, String> settings(String url) {
    var s = new HashMap<String, String>();
    s.put("url", url);
    s.put("certificate", Testbed.get("ARC_CERT"));
    s.put("key", Testbed.get("ARC_KEY"));
    s.put("ca_dir", Testbed.find("ARC_CA_DIR").orElse("/etc/grid-security/certificates"));
    return s;
  }

  static ArcBackend backend(Map<String, String> settings, Path workDir)
      throws ConfigurationException {
    return (ArcBackend) new ArcBackendProvider().create(new BackendContext("arc-test",
        new Settings("cluster 'arc-test'", settings), new LocalTransport(), workDir,
        BackendContext.Events.NONE));
  }

  /**
   * A backend on {@code http} as the engine would give it (an HTTP client with the testbed's
   * TLS material), e.g. one that loses answers.
   */
  static ArcBackend backend(Map<String, String> settings, Path workDir,
      java.net.http.HttpClient http) throws Exception {
    return (ArcBackend) new ArcBackendProvider().create(new BackendContext("arc-test",
        new Settings("cluster 'arc-test'", settings), new LocalTransport(), workDir,
        BackendContext.Events.NONE, new org.jobyard.api.Http(http, sslContext(settings),
            java.util.Optional.empty()), org.jobyard.api.Secrets.NONE));
  }

  /** A raw client on the testbed's CE, to look behind the backend's back. */
  static ArcClient client() throws Exception {
    return client(settings());
  }

  /** A raw client on the CE of these settings. */
  static ArcClient client(Map<String, String> settings) throws Exception {
    return new ArcClient(java.net.URI.create(settings.get("url") + "/rest/1.0"),
        httpClient(settings), java.util.Optional::empty, java.time.Duration.ofSeconds(60));
  }

  /** An HTTP/1.1 client presenting the testbed's user certificate and trusting its CA. */
  static java.net.http.HttpClient httpClient() throws Exception {
    return httpClient(settings());
  }

  static java.net.http.HttpClient httpClient(Map<String, String> settings) throws Exception {
    return java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1)
        .sslContext(sslContext(settings)).build();
  }

  private static javax.net.ssl.SSLContext sslContext(Map<String, String> s) throws Exception {
    var owner = "test";
    var credential = ArcCredential.read(owner, "certificate", Path.of(s.get("certificate")),
        "key", Path.of(s.get("key")));
    var cas = ArcCredential.trusted(owner, "ca_dir", Path.of(s.get("ca_dir")));
    return ArcCredential.sslContext(credential, cas);
  }

  /** The CE's ids of jobs whose name starts with {@code prefix}, by name. */
  static Map<String, List<String>> jobsNamed(ArcClient client, String prefix) throws Exception {
    var out = new HashMap<String, List<String>>();
    var ids = new ArrayList<>(client.states().keySet());
    for (int from = 0; from < ids.size(); from += 500) {
      for (var e : client.jobs("info", ids.subList(from, Math.min(ids.size(), from + 500)))) {
        var name = ArcJson.text(e.path("info_document").path("ComputingActivity"), "Name");
        if (name.isEmpty()) {
          var id = ArcJson.text(e, "id").orElseThrow();
          name = client.diagnose(id, "description").map(d -> {
            var m = java.util.regex.Pattern.compile("<Name>([^<]*)</Name>").matcher(d);
            return m.find() ? m.group(1) : null;
          });
        }
        if (name.isPresent() && name.get().startsWith(prefix)) {
          out.computeIfAbsent(name.get(), k -> new ArrayList<>())
              .add(ArcJson.text(e, "id").orElseThrow());
        }
      }
    }
    return out;
  }

  /** Kills and cleans this run's jobs, so the CE's listing stays short for the next tests. */
  static void removeJobs(String prefix) {
    if (Testbed.has(Testbed.ARC)) {
      removeJobs(settings(), prefix);
    }
  }

  /** The same on the CE of these settings. */
  static void removeJobs(Map<String, String> settings, String prefix) {
    try {
      var client = client(settings);
      var ids = jobsNamed(client, prefix).values().stream().flatMap(List::stream).toList();
      if (!ids.isEmpty()) {
        client.jobs("kill", ids);
        client.jobs("clean", ids);
      }
    } catch (Exception | AssertionError e) {
      // best effort: A-REX wipes old sessions itself
    }
  }
}
