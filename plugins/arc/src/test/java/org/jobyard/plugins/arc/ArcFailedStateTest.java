package org.jobyard.plugins.arc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Where A-REX says a job failed, read from its {@code .local} file (as diagnose/local gives it). */
class ArcFailedStateTest {

  @Test
  void theFailedStateIsReadFromTheLocalFileAndEmptyWhenTheJobDidNotFail() {
    // the lines of a real 6.17 .local file around it
    var local = "localid=1566309\nrerun=4\nfailedstate=INLRMS\nfailedcause=internal\n";
    assertThat(ArcBackend.failedState(local)).isEqualTo("INLRMS");
    assertThat(ArcBackend.failedState("localid=1\nfailedstate=PREPARING\n"))
        .isEqualTo("PREPARING");
    assertThat(ArcBackend.failedState("localid=1\nrerun=5\nfailedstate=\n")).isEmpty();
    assertThat(ArcBackend.failedState("localid=1\n")).isEmpty();
  }
}
