package org.jobyard.engine.store;

import java.util.List;
import org.jobyard.api.JobState;
import org.jobyard.engine.config.EngineConfig;

/**
 * The child JVM that {@link JobStoreTest} SIGKILLs: it commits one job per transaction and says
 * so on stdout only after {@link JobStore#apply} returned, as the engine answers a client only
 * after the commit. Arguments: database URL, user, password.
 */
public final class CommittingProcess {
  private CommittingProcess() {}

  public static void main(String[] args) {
    var db = new Database(new EngineConfig.Database(args[0], args[1], args[2], 1));
    var store = new JobStore(db);
    for (int i = 1; i <= 100_000; i++) { // bounded: the test kills it long before
      store.apply(List.of(new Change.InsertJob(JobStoreTest.job("k" + i, i, "alice", null,
          JobState.QUEUED))));
      System.out.println("committed " + i);
      System.out.flush();
    }
  }
}
