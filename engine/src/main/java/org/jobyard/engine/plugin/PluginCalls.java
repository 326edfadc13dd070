package org.jobyard.engine.plugin;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendProvider;
import org.jobyard.api.ConfigurationException;

/**
 * Runs plugin code with the plugin's class loader as the thread's context class loader (Trino's
 * rule), so that a plugin's Jackson, BouncyCastle or {@code ServiceLoader} lookups through the
 * context loader find the plugin's own jars, not the engine's.
 */
public final class PluginCalls {
  private PluginCalls() {}

  /** Calls the provider's {@code create} under its class loader. */
  public static Backend create(BackendProvider provider, BackendContext context)
      throws ConfigurationException {
    var thread = Thread.currentThread();
    var previous = thread.getContextClassLoader();
    thread.setContextClassLoader(provider.getClass().getClassLoader());
    try {
      return provider.create(context);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  /** The backend, with every call made under the class loader of the backend's own class. */
  public static Backend withContextLoader(Backend backend) {
    var loader = backend.getClass().getClassLoader();
    return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
        new Class<?>[] {Backend.class}, (proxy, method, args) -> {
          var thread = Thread.currentThread();
          var previous = thread.getContextClassLoader();
          thread.setContextClassLoader(loader);
          try {
            return method.invoke(backend, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          } finally {
            thread.setContextClassLoader(previous);
          }
        });
  }
}
