package org.jobyard.testkit;

/**
 * The kit against {@link FlawedBackend} as a second suite that only changes the transport: it
 * leaves the transport-independent cases to {@link FlawedBackendConformance}. Run by {@link
 * TheKitCatchesEveryFlawTest}.
 */
class TransportOnlyConformance extends FlawedBackendConformance {
  @Override
  protected String transportIndependentCasesRunBy() {
    return "FlawedBackendConformance";
  }
}
