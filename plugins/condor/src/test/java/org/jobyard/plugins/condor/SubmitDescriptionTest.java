package org.jobyard.plugins.condor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobSpec;
import org.jobyard.api.Resources;
import org.jobyard.plugins.condor.SubmitDescription.Job;
import org.junit.jupiter.api.Test;

/** The submit descriptions and wrappers, built without a pool. */
class SubmitDescriptionTest {

  private static JobSpec spec(Resources resources, Map<String, String> condor) {
    return new JobSpec("t", null, null, List.of(new JobSpec.Step("true", List.of())), Map.of(),
        null, null, null, resources, null, null, List.of(), List.of(), List.of(), 0,
        condor.isEmpty() ? Map.of() : Map.of("condor", condor));
  }

  @Test
  void jobsOfOneShapeShareOneDescriptionQueuedFromTheirTags() {
    var plain = spec(Resources.NONE, Map.of());
    var groups = SubmitDescription.groups("/w", List.of(new Job("a.1", plain),
        new Job("b.1", plain)));

    assertThat(groups).singleElement().satisfies(g -> {
      assertThat(g.tags()).containsExactly("a.1", "b.1");
      assertThat(g.description()).contains("JobyardDir = /w/$(JobyardTag)\n",
          "+JobyardId = \"$(JobyardTag)\"\n", "queue JobyardTag from (\na.1\nb.1\n)\n");
    });
  }

  @Test
  void jobsOfDifferentShapesGetDescriptionsOfTheirOwnWithTheirResources() {
    var small = spec(Resources.NONE, Map.of());
    var big = spec(new Resources(4, 2048, Duration.ofMillis(90_500), 0, 1),
        Map.of("request_disk", "1GB"));
    var groups = SubmitDescription.groups("/w", List.of(new Job("a.1", small),
        new Job("b.1", big), new Job("c.1", small)));

    assertThat(groups).hasSize(2);
    assertThat(groups.get(0).tags()).containsExactly("a.1", "c.1");
    assertThat(groups.get(0).description()).doesNotContain("request_cpus");
    assertThat(groups.get(1).description()).contains("request_cpus = 4\n",
        "request_memory = 2048\n", "request_gpus = 1\n", "allowed_job_duration = 91\n",
        "request_disk = 1GB\n");
  }

  @Test
  void diskStdinAndInheritedEnvironmentBecomeRequestDiskInputAndGetenv() throws Exception {
    var spec = new JobSpec("t", null, null, List.of(new JobSpec.Step("cat", List.of())),
        Map.of(), null, null, null, Resources.NONE, null, null,
        List.of(new JobSpec.FileTransfer("/e/in $HOME.txt", "in $HOME.txt")), List.of(),
        List.of(), 0, Map.of(), List.of(), null, List.of(), new JobSpec.Placement(0, 0, false,
        null, 3), "in $HOME.txt", List.of("LANG", "CONDA_*"));
    SubmitDescription.check("a.1", spec);

    assertThat(SubmitDescription.shape(spec)).contains("request_disk = 3072\n",
        "input = $(JobyardDir)/in/in $(DOLLAR)HOME.txt\n", "getenv = LANG, CONDA_*\n");
    assertThat(SubmitDescription.wrapper("a.1", "/w/a.1", spec))
        .as("HTCondor feeds the input: the payload must not read it again").doesNotContain("exec <");
    assertThat(SubmitDescription.shape(spec(Resources.NONE, Map.of()))).contains("getenv = false\n")
        .doesNotContain("input =");
    assertThatThrownBy(() -> SubmitDescription.check("a.1", spec.withStdin(" in.txt")))
        .hasMessageContaining("stdin ' in.txt'");
  }

  @Test
  void theWrapperCarriesHostileArgumentsAsQuotedShellWords() {
    var spec = JobSpec.of("t", "printf", "%s|", "a b", "'\"$(x)`y`\n");
    var wrapper = SubmitDescription.wrapper("a.1", "/w/a.1", spec);

    assertThat(wrapper).startsWith("#!/bin/sh\n").contains("finish()", "fail()")
        .contains("'printf' '%s|' 'a b' ''\\''\"$(x)`y`\n'");
  }

  @Test
  void aRelativeWorkingDirectoryIsTakenInsideTheJobFolder() {
    var spec = new JobSpec("t", null, null, List.of(new JobSpec.Step("true", List.of())),
        Map.of(), "sub dir", null, null, Resources.NONE, null, null, List.of(), List.of(),
        List.of(), 0, Map.of());
    assertThat(SubmitDescription.wrapper("a.1", "/w/a.1", spec)).contains("cd '/w/a.1/sub dir'");
  }

  @Test
  void optionsThatWouldMoveAJobsFolderOrIdentityAreRefusedNamingThem() {
    assertThatThrownBy(() -> SubmitDescription.check("a.1",
        spec(Resources.NONE, Map.of("+JobyardId", "\"x\"")))).isInstanceOf(BackendException.class)
        .hasMessageContaining("native.condor '+JobyardId' is set by Jobyard");
    assertThatThrownBy(() -> SubmitDescription.check("a.1",
        spec(Resources.NONE, Map.of("output", "/tmp/x")))).hasMessageContaining("'output'");
    assertThatThrownBy(() -> SubmitDescription.check("a.1",
        spec(Resources.NONE, Map.of("bad key", "1")))).hasMessageContaining("'bad key'");
    assertThatThrownBy(() -> SubmitDescription.check("a.1",
        spec(Resources.NONE, Map.of("requirements", "a\nqueue 5"))))
        .hasMessageContaining("one line");
  }

  @Test
  void aQueueIsRefusedBecauseHtcondorHasNone() {
    var spec = new JobSpec("t", null, null, List.of(new JobSpec.Step("true", List.of())),
        Map.of(), null, null, null, Resources.NONE, "debug", null, List.of(), List.of(),
        List.of(), 0, Map.of());
    assertThatThrownBy(() -> SubmitDescription.check("a.1", spec))
        .hasMessageContaining("HTCondor has no queues (got queue 'debug')");
  }
}
