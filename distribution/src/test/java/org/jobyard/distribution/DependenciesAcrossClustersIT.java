package org.jobyard.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fan-out/fan-in graph across clusters (issue 20): prepare on {@code local}, a sweep on the
 * testbed's real Slurm after it, and a merge on {@code local} after the whole sweep. The engine,
 * not a batch system, holds the edges. In the same run, retry rules on the real Slurm: a job
 * retried there for the exit code its rule names, and one whose retry goes to the next cluster.
 */
@Tag("testbed")
class DependenciesAcrossClustersIT {
  @TempDir
  Path tmp;

  @Test
  void prepareOnLocalComputeOnSlurmMergeOnLocalInThatOrderAndRetryRulesHoldOnSlurm()
      throws Exception {
    Testbed.require(Testbed.SLURM);
    var tarball = Tarball.unpack(Files.createDirectory(tmp.resolve("dist")));
    // a folder Slurm's node (this machine) can write, outside any private /tmp
    var work = Files.createTempDirectory(Path.of("/var/tmp"), "jobyard-i20-");
    Files.writeString(tarball.home.resolve("conf/jobyard.yaml"), """
        engine: {poll_interval: 1s}
        clusters:
          local: {backend: local, slots: 4}
          slurm: {backend: slurm, partition: %s, transport: {type: local}}
        """.formatted(Testbed.find("SLURM_PARTITION").orElse("debug")));
    var log = work.resolve("order.txt");
    Files.writeString(work.resolve("graph.yaml"), """
        jobs:
          - {name: prep, clusters: [local], executable: /bin/sh,
             arguments: [-c, 'echo prep >> "$1"', sh, '%1$s']}
          - sweep: {n: [1, 2, 3]}
            job: {name: 'i20-fit-${n}', clusters: [slurm], after: [prep], executable: /bin/sh,
                  arguments: [-c, 'grep -qx prep "$1" && echo fit >> "$1"', sh, '%1$s']}
          - {name: merge, clusters: [local], after: ['i20-fit-*'], executable: /bin/sh,
             arguments: [-c, 'test "$(grep -cx fit "$1")" = 3 && echo merge >> "$1"', sh, '%1$s']}
          # the first attempt makes the marker and exits 3, the one after finds it and exits 0
          - {name: i20-again, clusters: [slurm], retries: 2, retry_on: [3], retry_delay: 1s,
             executable: /bin/sh, arguments: [-c, 'mkdir "$1" 2>/dev/null && exit 3; exit 0',
             sh, '%2$s']}
          - {name: i20-elsewhere, clusters: [slurm, local], retries: 1, retry_on: [3],
             retry_elsewhere: true, executable: /bin/sh,
             arguments: [-c, 'mkdir "$1" 2>/dev/null && exit 3; exit 0', sh, '%3$s']}
        """.formatted(log, work.resolve("again-marker"), work.resolve("elsewhere-marker")));
    var trace = work.resolve("trace.tsv");
    var result = tarball.run(work, Duration.ofMinutes(6), "run", "--progress", "none",
        "--trace", trace.toString(), "graph.yaml");

    assertThat(result.exitCode()).as(result.toString()).isZero();
    assertThat(Files.readAllLines(log)).containsExactly("prep", "fit", "fit", "fit", "merge");
    var rows = Files.readAllLines(trace).stream().skip(1).map(l -> l.split("\t", -1)).toList();
    assertThat(rows).extracting(r -> r[1] + "@" + r[3]).containsExactlyInAnyOrder("prep@local",
        "i20-fit-1@slurm", "i20-fit-2@slurm", "i20-fit-3@slurm", "merge@local",
        "i20-again@slurm", "i20-again@slurm", "i20-elsewhere@slurm", "i20-elsewhere@local");
    assertThat(rows).filteredOn(r -> r[3].equals("slurm"))
        .allSatisfy(r -> assertThat(r[4]).as("a Slurm job id").matches("\\d+"));
    // attempt, cluster and exit code of each retried job's attempts, oldest first
    assertThat(rows).filteredOn(r -> r[1].equals("i20-again"))
        .extracting(r -> r[2] + ":" + r[3] + ":" + r[9]).containsExactly("1:slurm:3", "2:slurm:0");
    assertThat(rows).filteredOn(r -> r[1].equals("i20-elsewhere"))
        .extracting(r -> r[2] + ":" + r[3] + ":" + r[9]).containsExactly("1:slurm:3", "2:local:0");
    try (var files = Files.walk(work)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
