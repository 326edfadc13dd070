package org.jobyard.plugins.local;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.jobyard.api.BackendException;
import org.jobyard.api.JobRef;
import org.jobyard.api.SubmitRequest;

/**
 * Where one attempt's files live on the execution host. The folder is named after the attempt's
 * tag ({@code <jobId>.<attempt>}): that name is how {@link LocalBackend#lookup} finds a job again
 * after the engine crashed.
 *
 * @param tag the attempt's identity tag, also the folder name
 * @param dir the job folder: {@code job.sh}, {@code pid}, {@code exitcode}, markers
 * @param stdout the file the job's standard output goes to on the execution host
 * @param stderr the file the job's standard error goes to on the execution host
 */
record JobFiles(String tag, String dir, String stdout, String stderr) {

  static final String ATTR_TAG = "tag";
  static final String ATTR_DIR = "dir";
  static final String ATTR_STDOUT = "stdout";
  static final String ATTR_STDERR = "stderr";

  /** Tags become folder names and shell words; engine ids fit in this. */
  private static final Pattern SAFE_TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]*");

  JobFiles {
    requireNonNull(tag, "tag is null");
    requireNonNull(dir, "dir is null");
    requireNonNull(stdout, "stdout is null");
    requireNonNull(stderr, "stderr is null");
  }

  /**
   * The files of an attempt under {@code workdir}. The job's stdout/stderr go straight to the
   * paths its spec names when the execution host shares the engine's filesystem; otherwise they
   * stay in the job folder and {@link LocalBackend#collect} brings them home.
   */
  static JobFiles of(String workdir, SubmitRequest request, boolean sharesFilesystem)
      throws BackendException {
    var tag = checkedTag(request);
    var dir = workdir + "/" + tag;
    var spec = request.spec();
    return new JobFiles(tag, dir, outputPath(dir, spec.stdout(), "stdout", sharesFilesystem),
        outputPath(dir, spec.stderr(), "stderr", sharesFilesystem));
  }

  /** The job folder name for a request, refused when it could not safely name a folder. */
  static String checkedTag(SubmitRequest request) throws BackendException {
    var tag = request.tag();
    if (!SAFE_TAG.matcher(tag).matches()) {
      throw BackendException.rejected("job id '" + request.jobId() + "' cannot name a job folder "
          + "for the local backend: use letters, digits, '.', '_' and '-'");
    }
    return tag;
  }

  /** Where the spec's output path lands: absolute as given, relative to the job folder. */
  static String outputPath(String dir, String specPath, String defaultName, boolean shares) {
    if (!shares || specPath == null || specPath.isBlank()) {
      return dir + "/" + defaultName;
    }
    return specPath.startsWith("/") ? specPath : dir + "/" + specPath;
  }

  /** The files as the engine keeps them with the attempt. */
  JobRef ref(String jobId, String nativeId) {
    var attributes = new HashMap<String, String>();
    attributes.put(ATTR_TAG, tag);
    attributes.put(ATTR_DIR, dir);
    attributes.put(ATTR_STDOUT, stdout);
    attributes.put(ATTR_STDERR, stderr);
    return new JobRef(jobId, nativeId, attributes);
  }

  /** The files of a job the engine knows, or null when the reference lacks them. */
  static JobFiles of(JobRef ref) {
    Map<String, String> a = ref.attributes();
    var dir = a.get(ATTR_DIR);
    if (dir == null || dir.isBlank()) {
      return null;
    }
    var tag = a.getOrDefault(ATTR_TAG, dir.substring(dir.lastIndexOf('/') + 1));
    return new JobFiles(tag, dir, a.getOrDefault(ATTR_STDOUT, dir + "/stdout"),
        a.getOrDefault(ATTR_STDERR, dir + "/stderr"));
  }

  String exitcode() {
    return dir + "/exitcode";
  }

  /** The spec's stdout when it is written in place (shared filesystem), for parent folders. */
  static String parentOf(String path) {
    int slash = path.lastIndexOf('/');
    return slash <= 0 ? null : path.substring(0, slash);
  }
}
