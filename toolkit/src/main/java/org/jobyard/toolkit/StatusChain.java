package org.jobyard.toolkit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobStatus;

/**
 * The "listing, then job folder, then accounting" fallback of a poll: each source is asked once
 * per poll, about all the jobs the sources before it left open, in one call (so a poll of many
 * jobs costs one command per source, never one per job). A source settles a job by returning a
 * status for it that is not {@link JobStatus.Unknown}; a job no source settles is Unknown (with
 * the reason of the last source that said Unknown), which the engine treats as "ask again",
 * never as failure.
 */
public final class StatusChain {

  /** One source of statuses, e.g. the queue listing. */
  @FunctionalInterface
  public interface Source {
    /**
     * Statuses by job id for those of {@code open} this source can tell about; it may leave any
     * out. Called only with a non-empty list.
     */
    Map<String, JobStatus> statuses(List<JobRef> open) throws BackendException;
  }

  private final List<Source> sources;

  private StatusChain(List<Source> sources) {
    this.sources = List.copyOf(sources);
  }

  /** The sources in the order they are consulted, the most current first. */
  public static StatusChain of(Source... sources) {
    return new StatusChain(List.of(sources));
  }

  /** An entry for every job asked about. */
  public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
    var result = new HashMap<String, JobStatus>();
    var open = new ArrayList<>(jobs);
    for (var source : sources) {
      if (open.isEmpty()) {
        break;
      }
      var found = source.statuses(List.copyOf(open));
      open.removeIf(job -> {
        var status = found.get(job.jobId());
        if (status == null) {
          return false;
        }
        result.put(job.jobId(), status);
        return !(status instanceof JobStatus.Unknown);
      });
    }
    for (var job : open) {
      result.putIfAbsent(job.jobId(), new JobStatus.Unknown("native job " + job.nativeId()
          + " is in no listing, job folder or record the backend consulted"));
    }
    return result;
  }
}
