package org.jobyard.plugins.arc;

import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/** The conformance kit against the testbed's {@code arc} service: A-REX 6.17 on Debian 12. */
@Tag("testbed")
class ArcConformanceTest extends ArcKit {

  @Override
  protected Map<String, String> settings() {
    return ArcTestbed.settings();
  }

  @AfterAll
  static void removeTheKitsJobs() {
    ArcTestbed.removeJobs(ArcJobDescription.nameOf("cf-"));
  }
}
