package org.jobyard.testkit;

import java.util.HashMap;
import java.util.Map;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** Runs kit cases in this JVM and keeps each case's result by method name. */
final class KitRun {
  private KitRun() {}

  static Map<String, TestExecutionResult> run(DiscoverySelector... selectors) {
    var results = new HashMap<String, TestExecutionResult>();
    var request = LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
    LauncherFactory.create().execute(request, new TestExecutionListener() {
      @Override
      public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (id.isTest()) {
          results.put(methodName(id), result);
          // the report a plugin author would read
          System.out.printf("%s: %s%s%n", methodName(id), result.getStatus(), result
              .getThrowable().map(t -> "\n  " + t.getMessage().replace("\n", "\n  ")).orElse(""));
        }
      }
    });
    return results;
  }

  private static String methodName(TestIdentifier id) {
    var name = id.getDisplayName();
    return name.endsWith("()") ? name.substring(0, name.length() - 2) : name;
  }
}
