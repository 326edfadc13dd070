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
 * not a batch system, holds the edges.
 */
@Tag("testbed")
class DependenciesAcrossClustersIT {
  @TempDir
  Path tmp;

  @Test
  void prepareOnLocalComputeOnSlurmMergeOnLocalInThatOrder() throws Exception {
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
        """.formatted(log));
    var trace = work.resolve("trace.tsv");
    var result = tarball.run(work, Duration.ofMinutes(6), "run", "--progress", "none",
        "--trace", trace.toString(), "graph.yaml");

    assertThat(result.exitCode()).as(result.toString()).isZero();
    assertThat(Files.readAllLines(log)).containsExactly("prep", "fit", "fit", "fit", "merge");
    var rows = Files.readAllLines(trace).stream().skip(1).map(l -> l.split("\t", -1)).toList();
    assertThat(rows).extracting(r -> r[1] + "@" + r[3]).containsExactlyInAnyOrder("prep@local",
        "i20-fit-1@slurm", "i20-fit-2@slurm", "i20-fit-3@slurm", "merge@local");
    assertThat(rows).filteredOn(r -> r[3].equals("slurm"))
        .allSatisfy(r -> assertThat(r[4]).as("a Slurm job id").matches("\\d+"));
    try (var files = Files.walk(work)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
