package org.jobyard.examples.hello;

import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.ConfigurationException;

/**
 * The plugin's entry point, listed in {@code META-INF/services/org.jobyard.api.BackendProvider};
 * clusters select it with {@code backend: hello}. Setting {@code workdir}: an absolute folder on
 * the transport's host for the job folders; by default the cluster's folder on the engine's
 * machine if the transport shares the engine's filesystem, required otherwise.
 */
public final class HelloBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "hello";
  }

  @Override
  public Backend create(BackendContext context) throws ConfigurationException {
    var settings = context.settings(); // check settings here; do not contact the cluster yet
    var workdir = context.transport().sharesFilesystem()
        ? settings.string("workdir", context.workDir().resolve("jobs").toString())
        : settings.required("workdir");
    if (!workdir.startsWith("/")) {
      throw new ConfigurationException(settings.owner() + ": setting 'workdir' must be an "
          + "absolute path, got '" + workdir + "'");
    }
    return new HelloBackend(context, workdir);
  }
}
