package org.jobyard.engine.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jobyard.api.Capability;
import org.jobyard.api.JobSpec;

/**
 * Which fields of a job a backend cannot honour (placement, {@code stdin}, {@code
 * inherit_environment}, inputs from URLs): the engine refuses such a job at submit rather than
 * let a batch system run it differently from what was asked.
 */
public final class Placements {
  private Placements() {}

  /** The job-file names of the fields {@code spec} sets that {@code capabilities} lack. */
  public static List<String> unsupported(JobSpec spec, Set<Capability> capabilities) {
    var p = spec.placement();
    var out = new ArrayList<String>();
    if (!capabilities.contains(Capability.PROCESSES)) {
      if (p.processes() > 0) {
        out.add("resources.processes");
      }
      if (p.processesPerNode() > 0) {
        out.add("resources.processes_per_node");
      }
    }
    if (p.exclusive() && !capabilities.contains(Capability.EXCLUSIVE)) {
      out.add("resources.exclusive");
    }
    if (p.diskMb() > 0 && !capabilities.contains(Capability.DISK)) {
      out.add("resources.disk");
    }
    if (p.reservation() != null && !capabilities.contains(Capability.RESERVATION)) {
      out.add("reservation");
    }
    if (spec.stdin() != null && !capabilities.contains(Capability.STDIN)) {
      out.add("stdin");
    }
    if (!spec.inheritEnvironment().isEmpty()
        && !capabilities.contains(Capability.INHERIT_ENVIRONMENT)) {
      out.add("inherit_environment");
    }
    if (!capabilities.contains(Capability.URL_INPUTS)
        && spec.inputFiles().stream().anyMatch(JobSpec.FileTransfer::fromUrl)) {
      out.add("inputs.source (a URL)");
    }
    return out;
  }
}
