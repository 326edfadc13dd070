package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * The conformance kit against A-REX 7.0 (the testbed's arc7 service): on Debian 12 it runs in the
 * trixie root on its own port, with the arc service's test CA and client certificate. On Debian
 * 13 the system A-REX is 7.0 and {@link ArcConformanceTest} has already run it, so this suite
 * stands down.
 *
 * <p>It runs beside the module's other classes, which use the other CE (the module's surefire
 * configuration enables JUnit's parallel execution; everything else stays in one thread): the
 * kit mostly waits for A-REX, and two runs in series made this module CI's long pole. The
 * resource lock keeps this class's own cases in one thread.
 */
@Tag("testbed")
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock("arc7")
class Arc7ConformanceTest extends ArcKit {

  @BeforeAll
  static void checkTheVersion() throws Exception {
    var settings = ArcTestbed.arc7Settings();
    Assumptions.assumeFalse(Testbed.has("ARC7_NATIVE"), "skipped: the system A-REX is 7.0, "
        + "which ArcConformanceTest runs the kit against");
    var answer = ArcTestbed.httpClient(settings).send(HttpRequest.newBuilder(
            URI.create(settings.get("url") + "/rest")).header("Accept", "application/json")
        .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofString());
    System.out.println("Arc7ConformanceTest: the kit against " + settings.get("url")
        + ", REST versions " + answer.body());
    assertThat(answer.body()).as("GET /rest of the testbed's arc7 service: ARC 7 offers 1.0 "
        + "and 1.1 (6.17 only 1.0)").contains("\"1.1\"");
  }

  @AfterAll
  static void removeTheKitsJobs() {
    if (Testbed.has(Testbed.ARC7)) {
      ArcTestbed.removeJobs(ArcTestbed.arc7Settings(), ArcJobDescription.nameOf("cf-"));
    }
  }

  @Override
  protected Map<String, String> settings() {
    return ArcTestbed.arc7Settings();
  }

  /** Its jobs run in the trixie root, which sees this folder at the same path. */
  @Override
  protected String sharedFolder() {
    return Testbed.find("ARC7_WORK").orElse("/var/tmp");
  }
}
