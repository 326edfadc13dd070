package org.jobyard.engine.http;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import org.jobyard.engine.control.JobControl;

/**
 * The routes for machines, outside {@code /api/} and without a token: {@code /metrics}
 * (Prometheus; only for client addresses in the configuration's {@code metrics.allow}, loopback by
 * default), {@code /healthz} (the process answers) and {@code /readyz} (store and clusters
 * answer; 503 when not), for orchestrators and load balancers. Health answers say no more than
 * "ok" or "failing" per check, so they can be open to all.
 */
final class MetricsEndpoint {
  private final JobControl control;

  MetricsEndpoint(JobControl control) {
    this.control = control;
  }

  void routes(RoutesConfig r) {
    r.get("/metrics", this::metrics);
    r.get("/healthz", ctx -> {
      ctx.header("Cache-Control", "no-store");
      ApiServer.json(ctx, java.util.Map.of("status", "ok"));
    });
    r.get("/readyz", ctx -> {
      var readiness = control.readiness();
      var body = new LinkedHashMap<String, Object>();
      body.put("status", readiness.ready() ? "ready" : "not_ready");
      body.put("checks", readiness.checks());
      ctx.header("Cache-Control", "no-store");
      ctx.status(readiness.ready() ? 200 : 503);
      ApiServer.json(ctx, body);
    });
  }

  private void metrics(Context ctx) throws UnknownHostException {
    var metrics = control.metrics();
    // the TCP peer's address: a forwarded-for header is the client's word and proves nothing
    var peer = InetAddress.getByName(ctx.req().getRemoteAddr());
    if (!metrics.allows(peer)) {
      // the allowed ranges are not told to a client outside them
      throw new ApiException(403, "forbidden", "metrics are not served to " + peer.getHostAddress()
          + "; add its address or range to metrics.allow in the engine's configuration");
    }
    var scrape = metrics.scrape(ctx.header("Accept"));
    ctx.header("Cache-Control", "no-store");
    ctx.contentType(scrape.contentType()).result(scrape.body());
  }
}
