package org.jobyard.toolkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.LogStream;
import org.jobyard.api.SubmitRequest;
import org.jobyard.testkit.ProcessTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobFolderTest {
  @TempDir Path tmp;
  private final ClusterCommands commands = new ClusterCommands("cluster 'hpc'",
      new ProcessTransport(), Duration.ofSeconds(30));

  private JobFolder folders(String workdir) {
    return new JobFolder(commands, workdir, "out.txt", "err.txt");
  }

  /** A relative workdir is taken from the login directory: here, the test's own directory. */
  private static String relative(Path path) {
    return Path.of("").toAbsolutePath().relativize(path).toString();
  }

  private JobRef job(Path dir, boolean merged) throws Exception {
    Files.createDirectories(dir);
    return JobFolder.ref(new SubmitRequest("j1", 1, JobSpec.of("t", "/bin/true")),
        dir.toString(), "42", merged);
  }

  @Test
  void aRelativeWorkdirIsCreatedAndResolvedToAnAbsolutePathOnce() throws Exception {
    var folders = folders(relative(tmp.resolve("b/work")));
    var workdir = folders.workdir();

    assertThat(workdir).isEqualTo(tmp.resolve("b/work").toRealPath().toString());
    assertThat(Path.of(workdir)).isDirectory();
  }

  @Test
  void aWorkdirThatCannotBeCreatedIsAConfigurationErrorNamingTheSetting() throws Exception {
    Files.writeString(tmp.resolve("file"), "not a folder");

    assertThatThrownBy(() -> folders(relative(tmp.resolve("file/work"))).workdir())
        .isInstanceOfSatisfying(BackendException.class,
            e -> assertThat(e.isRetryable()).isFalse())
        .hasMessageContaining("cluster 'hpc'").hasMessageContaining("setting 'workdir'");
  }

  @Test
  void tailReadsTheLastLinesOfEachStreamAndTheStdoutFileWhenTheyAreMerged() throws Exception {
    var dir = tmp.resolve("j1.1");
    var separate = job(dir, false);
    Files.writeString(dir.resolve("out.txt"), "1\n2\n3\n");
    Files.writeString(dir.resolve("err.txt"), "oops\n");

    assertThat(folders("/w").tail(separate, LogStream.STDOUT, 2)).contains("2\n3\n");
    assertThat(folders("/w").tail(separate, LogStream.STDERR, 5)).contains("oops\n");
    assertThat(folders("/w").tail(job(dir, true), LogStream.STDERR, 1)).contains("3\n");
    assertThat(folders("/w").tail(new JobRef("j2", "43", Map.of()), LogStream.STDOUT, 1))
        .isEmpty();
  }

  @Test
  void collectBringsStreamsAndDeclaredOutputsHomeAndCleanRemovesTheFolder() throws Exception {
    var dir = tmp.resolve("remote/j1.1");
    var ref = job(dir, false);
    Files.writeString(dir.resolve("out.txt"), "hello\n");
    Files.writeString(dir.resolve("result odd 'name'.dat"), "42");
    var home = tmp.resolve("home");
    var spec = new JobSpec("t", null, null, JobSpec.of("t", "/bin/true").steps(), Map.of(), null,
        home.resolve("stdout").toString(), home.resolve("stderr").toString(), null, null, null,
        List.of(), List.of(new JobSpec.FileTransfer("result odd 'name'.dat",
            home.resolve("result.dat").toString())), List.of(), 0, Map.of());
    var folders = folders("/w");

    folders.collect(ref, spec);
    assertThat(home.resolve("stdout")).hasContent("hello");
    assertThat(home.resolve("result.dat")).hasContent("42");
    assertThat(home.resolve("stderr")).as("a job with no stderr file has none to bring home")
        .doesNotExist();

    folders.clean(ref);
    assertThat(dir).doesNotExist();
  }

  @Test
  void collectOfARecordWithoutAFolderSaysWhichJobAndAttribute() {
    assertThatThrownBy(() -> folders("/w").collect(new JobRef("j9", "9", Map.of()),
        JobSpec.of("t", "/bin/true")))
        .hasMessageContaining("job j9").hasMessageContaining("attribute 'dir'");
  }

  @Test
  void aTagThatCannotNameAFolderIsRejectedNamingTheJobAndTheBatchSystem() {
    var request = new SubmitRequest("a b", 1, JobSpec.of("t", "/bin/true"));

    assertThatThrownBy(() -> JobFolder.checkedTag(request, "a Slurm job"))
        .isInstanceOfSatisfying(BackendException.class,
            e -> assertThat(e.isRetryable()).isFalse())
        .hasMessageContaining("job id 'a b' cannot name a Slurm job");
  }
}
