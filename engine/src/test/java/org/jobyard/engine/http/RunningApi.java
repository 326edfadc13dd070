package org.jobyard.engine.http;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jobyard.engine.Engine;
import org.jobyard.engine.config.ConfigLoader;
import org.jobyard.engine.control.JobControl;

/** An engine on a scripted backend with its API on a free loopback port, for API tests. */
record RunningApi(Engine engine, ApiServer server) implements AutoCloseable {
  static RunningApi start(Path home, String user, String token) throws Exception {
    var conf = home.resolve("jobyard.yaml");
    Files.writeString(conf, "engine: {poll_interval: 100ms}\nclusters: {t: {backend: scripted}}\n"
        + "api: {listen: '127.0.0.1:0', tokens: [{user: " + user + ", token: " + token + "}]}\n");
    var config = ConfigLoader.load(home, conf);
    var engine = Engine.create(config).start();
    try {
      return new RunningApi(engine, new ApiServer(new JobControl(engine),
          new Authenticator(config.api().tokens()), config.api().listen()).start());
    } catch (RuntimeException e) {
      engine.close();
      throw e;
    }
  }

  @Override
  public void close() {
    server.close();
    engine.close();
  }
}
