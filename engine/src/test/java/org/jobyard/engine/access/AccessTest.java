package org.jobyard.engine.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jobyard.api.JobSpec;
import org.jobyard.api.Resources;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.control.Caller;
import org.jobyard.engine.control.ControlException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the configuration grants API users, decided before anything is stored. */
class AccessTest {
  @TempDir
  Path home;
  Path space;
  Access access;

  @BeforeEach
  void configure() throws Exception {
    space = Files.createDirectory(home.resolve("space"));
    var conf = Files.writeString(home.resolve("jobyard.yaml"), """
        api:
          tokens:
            - {user: alice, token: alice-0123456789abcdef, account: alice, workspace: %s}
            - {user: bob, token: bob-0123456789abcdefgh}
        clusters:
          local: {backend: local, users: [alice, bob]}
          hpc: {backend: slurm, users: ["*"]}
          private: {backend: slurm}
        """.formatted(space));
    access = new Access(ConfigLoader.load(home, conf), "owner");
  }

  static JobSpec job(List<String> clusters, String stdout, Map<String, Map<String, String>> nat) {
    return new JobSpec("j", null, null, List.of(new JobSpec.Step("/bin/true", List.of())),
        Map.of(), null, stdout, null, Resources.NONE, null, null, List.of(), List.of(), clusters,
        0, nat);
  }

  static String refusal(Runnable r) {
    try {
      r.run();
    } catch (ControlException e) {
      assertThat(e.code()).isEqualTo("forbidden");
      return e.getMessage();
    }
    throw new AssertionError("not refused");
  }

  @Test
  void theOwnerGetsEveryClusterAndPathUnchanged() {
    var spec = job(List.of("private"), "/etc/anywhere", Map.of());
    assertThat(access.admit(new Caller("owner", true), List.of(spec))).containsExactly(spec);
  }

  @Test
  void aUserRunsOnLocalClustersAsTheMappedAccount() {
    var admitted = access.admit(new Caller("alice", false),
        List.of(job(List.of("local"), space + "/out.txt", Map.of())));
    assertThat(admitted.getFirst().nativeOptions("local")).containsEntry("run_as", "alice");
  }

  @Test
  void refusesClustersNotGrantedAndLocalClustersWithoutAnAccount() {
    assertThat(refusal(() -> access.admit(new Caller("alice", true),
        List.of(job(List.of("private"), null, Map.of())))))
        .contains("cluster 'private' is not granted to user 'alice'");
    assertThat(refusal(() -> access.admit(new Caller("bob", false),
        List.of(job(List.of("local"), null, Map.of())))))
        .contains("cluster 'local' runs jobs as OS accounts and user 'bob' has none");
    assertThat(access.admit(new Caller("bob", false), List.of(job(List.of("hpc"), null,
        Map.of())))).hasSize(1);
  }

  @Test
  void refusesPathsThatEscapeTheWorkspaceAndARunAsTheUserChose() throws Exception {
    Files.createSymbolicLink(space.resolve("out"), home);
    for (var path : List.of("/etc/passwd", space + "/../x", space + "/out/x", "relative")) {
      assertThat(refusal(() -> access.admit(new Caller("alice", false),
          List.of(job(List.of("hpc"), path, Map.of())))))
          .as(path).contains("field 'stdout'");
    }
    assertThat(refusal(() -> access.admit(new Caller("bob", false),
        List.of(job(List.of("hpc"), "/tmp/x", Map.of()))))).contains("has no workspace");
    assertThat(refusal(() -> access.admit(new Caller("alice", false), List.of(
        job(List.of("hpc"), null, Map.of("local", Map.of("run_as", "root")))))))
        .contains("native.local.run_as");
  }

  @Test
  void anInputFromAUrlIsNoPathToConfineButALocalInputOutsideTheWorkspaceStillIs() {
    var base = job(List.of("hpc"), null, Map.of());
    var fromUrl = base.withPaths(null, null, null,
        List.of(new JobSpec.FileTransfer("https://se.example.org/d/in.dat", "in.dat")), List.of());
    assertThat(access.admit(new Caller("bob", false), List.of(fromUrl)))
        .as("a user without a workspace may name a URL").hasSize(1);
    var local = base.withPaths(null, null, null,
        List.of(new JobSpec.FileTransfer("/etc/passwd", "p")), List.of());
    assertThat(refusal(() -> access.admit(new Caller("alice", false), List.of(local))))
        .contains("field 'inputs.source'");
  }
}
