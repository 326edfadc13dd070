package org.jobyard.engine.http;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import org.jobyard.engine.control.AttemptView;
import org.jobyard.engine.control.JobControl;

/**
 * The web dashboard: plain HTML, CSS and JavaScript from the engine's jar, served at {@code /}.
 * The pages hold no data: the script asks the REST API with the user's token (kept in the
 * browser tab's session storage, sent as a bearer header, never in a URL), so the dashboard can
 * show and do exactly what the API allows that user. A strict Content-Security-Policy allows only
 * these files' own script and styles, as a second wall behind the script's escaping.
 *
 * <p>It also adds the one API route the dashboard needs beyond the CLI's: a job's attempts.
 */
final class DashboardRoutes {
  private static final String ROOT = "dashboard/";
  private static final Map<String, String> ASSETS = Map.of(
      "app.js", "text/javascript; charset=utf-8",
      "app.css", "text/css; charset=utf-8",
      "favicon.svg", "image/svg+xml");
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; "
      + "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
      + "frame-ancestors 'none'";

  private final JobControl control;

  DashboardRoutes(JobControl control) {
    this.control = control;
  }

  void routes(RoutesConfig r) {
    r.get("/", ctx -> asset(ctx, "index.html", "text/html; charset=utf-8"));
    r.get("/dashboard/{file}", ctx -> {
      var file = ctx.pathParam("file");
      var type = ASSETS.get(file);
      if (type == null) {
        throw new ApiException(404, "not_found", "no dashboard file '" + file + "'");
      }
      asset(ctx, file, type);
    });
    r.get("/api/v1/jobs/{id}/attempts", ctx -> {
      var attempts = control.attempts(JobsApi.caller(ctx), ctx.pathParam("id")).stream()
          .map(AttemptView::of).toList();
      ApiServer.json(ctx, Map.of("attempts", attempts));
    });
  }

  private static void asset(Context ctx, String name, String type) throws IOException {
    try (InputStream in = DashboardRoutes.class.getResourceAsStream(ROOT + name)) {
      if (in == null) {
        throw new ApiException(404, "not_found", "the dashboard's " + name
            + " is missing from this build");
      }
      ctx.header("Content-Security-Policy", CSP);
      ctx.header("X-Content-Type-Options", "nosniff");
      ctx.header("Referrer-Policy", "no-referrer");
      ctx.header("Cache-Control", "no-cache");
      ctx.contentType(type).result(in.readAllBytes());
    }
  }
}
