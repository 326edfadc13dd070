package org.jobyard.engine.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jobyard.testkit.Testbed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;

/**
 * The dashboard in a real browser: Debian's Chromium, driven through its own chromedriver by
 * Selenium (nothing is downloaded: both binaries are given explicitly). The engine behind it is
 * real (H2, the scripted backend), and jobs are submitted over the API while the page watches.
 */
class DashboardBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final String ALICE = "alice-dashboard-token-01";
  static final String BOB = "bob-dashboard-token-0123";
  /** The main test's user, whose jobs no other test adds to (its counts are exact). */
  static final String CAROL = "carol-dashboard-token-01";
  static final Duration LIVE = Duration.ofSeconds(30);

  @TempDir
  static Path home;

  static TestEngine running;
  static ApiServer server;
  static WebDriver browser;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    Testbed.requireInstalled(Testbed.BROWSER, "Debian's chromium and chromium-driver ("
        + CHROMIUM + ", " + CHROMEDRIVER + ")", Files.isExecutable(CHROMIUM)
        && Files.isExecutable(CHROMEDRIVER));
    running = TestEngine.start(home, """
        engine: {poll_interval: 100ms, retry_backoff: 100ms}
        clusters:
          t: {backend: scripted, users: ["*"]}
        api:
          listen: 127.0.0.1:0
          tokens:
            - {user: alice, token: %s}
            - {user: bob, token: %s}
            - {user: carol, token: %s}
        """.formatted(ALICE, BOB, CAROL));
    server = running.server();

    var options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--window-size=1366,850",
        "--user-data-dir=" + Files.createDirectories(home.resolve("chromium-profile")));
    var service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (running != null) {
      running.close();
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  static List<String> submit(String token, List<Map<String, Object>> jobs) throws Exception {
    return running.submit(token, jobs);
  }

  static Map<String, Object> job(String name, String session, String executable) {
    return Map.of("name", name, "session", session, "executable", executable);
  }

  static void open(String fragment) {
    browser.get(server.url().toString() + fragment);
  }

  static void logIn(String token) {
    await().atMost(LIVE).until(() -> browser.findElement(By.id("login-page")).isDisplayed());
    browser.findElement(By.id("token")).sendKeys(token);
    browser.findElement(By.id("login-button")).click();
  }

  static void logOutIfIn() {
    open("#/");
    var logout = browser.findElement(By.id("logout"));
    if (logout.isDisplayed()) {
      logout.click();
    }
  }

  /** The state shown in the row of a job, or null while it has no row. */
  static String rowState(String id) {
    // read in one script: the list is redrawn every second, so held elements go stale
    return (String) ((JavascriptExecutor) browser).executeScript("const r = document"
        + ".querySelector(`tr[data-job-id='${arguments[0]}']`); return r ? r.dataset.state : null;",
        id);
  }

  /** The text of the first element matching the selector, read at once ("" if none). */
  static String text(String css) {
    return (String) ((JavascriptExecutor) browser).executeScript("const e = document"
        + ".querySelector(arguments[0]); return e ? e.textContent : '';", css);
  }

  static long count(String css) {
    return (Long) ((JavascriptExecutor) browser).executeScript(
        "return document.querySelectorAll(arguments[0]).length;", css);
  }

  @SuppressWarnings("unchecked")
  static List<String> shownIds() {
    return (List<String>) ((JavascriptExecutor) browser).executeScript("return [...document"
        + ".querySelectorAll('#job-rows tr')].map(r => r.dataset.jobId);");
  }

  static void screenshot(String name) throws Exception {
    var png = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE);
    var dir = Files.createDirectories(Path.of("target", "screenshots"));
    Files.copy(png.toPath(), dir.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  static WebElement byId(String id) {
    return browser.findElement(By.id(id));
  }

  // --- tests -------------------------------------------------------------------------------

  @Test
  void aUserLogsInWatchesJobsFinishFiltersOpensOneAndKillsIt() throws Exception {
    var bobs = submit(BOB, List.of(job("bobs-private-job", "bob-session", "ok")));
    logOutIfIn();
    open("#/");
    logIn(CAROL);
    await().atMost(LIVE).ignoreExceptions().until(() -> byId("jobs-page").isDisplayed()
        && byId("who").getText().startsWith("carol"));

    // jobs submitted while the page is open appear, and their end shows without a reload
    var quick = submit(CAROL, List.of(job("quick-1", "s1", "hang"), job("quick-2", "s1", "hang"),
        job("quick-3", "s1", "hang")));
    var slow = submit(CAROL, List.of(job("slow-one", "s2", "hang"))).getFirst();
    var broken = submit(CAROL, List.of(job("broken", "s2", "fail"))).getFirst();
    await().atMost(LIVE).ignoreExceptions().until(() -> quick.stream()
        .allMatch(id -> "RUNNING".equals(rowState(id))) && "RUNNING".equals(rowState(slow))
        && "FAILED".equals(rowState(broken)));
    quick.forEach(id -> ScriptedBackend.finish(id, 0));
    await().atMost(LIVE).ignoreExceptions().until(() -> quick.stream()
        .allMatch(id -> "SUCCEEDED".equals(rowState(id))));
    await().atMost(LIVE).ignoreExceptions().until(() ->
        text(".count[data-state='SUCCEEDED'] .n").equals("3"));
    assertThat(text(".count[data-state='SUCCEEDED'] .split")).isEqualTo("t 3");
    assertThat(text(".count[data-state='TOTAL'] .n"))
        .isEqualTo("5");
    screenshot("dashboard-jobs");

    // another user's jobs never reach the page
    assertThat(shownIds()).doesNotContainAnyElementsOf(bobs);
    assertThat(browser.getPageSource()).doesNotContain("bobs-private-job");

    // filters: by name, by state, by session
    byId("filter-name").sendKeys("quick");
    await().atMost(LIVE).ignoreExceptions().until(() -> shownIds().size() == 3
        && shownIds().containsAll(quick));
    byId("filter-name").clear(); // the next refresh reads the filters again
    new Select(byId("filter-state")).selectByValue("RUNNING");
    await().atMost(LIVE).ignoreExceptions().until(() -> shownIds().equals(List.of(slow)));
    new Select(byId("filter-state")).selectByValue("");
    byId("filter-session").sendKeys("s2");
    await().atMost(LIVE).ignoreExceptions().until(() -> shownIds().size() == 2
        && shownIds().containsAll(List.of(slow, broken)));
    byId("filter-session").clear();

    // open the running job from its row, kill it from its page
    await().atMost(LIVE).ignoreExceptions().until(() -> {
      browser.findElement(By.cssSelector("tr[data-job-id='" + slow + "'] td.name a")).click();
      return byId("job-page").isDisplayed();
    });
    await().atMost(LIVE).ignoreExceptions().until(() -> byId("job-page").isDisplayed()
        && byId("job-title").getText().equals("slow-one") && count("#attempt-rows tr") == 1);
    assertThat(text("dd[data-field='id']"))
        .isEqualTo(slow);
    assertThat(byId("kill").isEnabled()).isTrue();
    assertThat(byId("restart").isEnabled()).isFalse();
    screenshot("dashboard-job");
    byId("kill").click();
    await().atMost(LIVE).ignoreExceptions().until(() -> "CANCELLED".equals(
        byId("job-page").getAttribute("data-state")));
    assertThat(byId("restart").isEnabled()).isTrue();
    // restart runs it again as a new attempt, shown on the same page
    byId("restart").click();
    await().atMost(LIVE).ignoreExceptions().until(() -> "RUNNING".equals(
        byId("job-page").getAttribute("data-state")) && count("#attempt-rows tr") == 2);
    byId("kill").click();
    await().atMost(LIVE).ignoreExceptions().until(() -> "CANCELLED".equals(
        byId("job-page").getAttribute("data-state")));

    // the failed job's page shows its reason and its attempt
    open("#/job/" + broken);
    await().atMost(LIVE).ignoreExceptions().until(() -> byId("job-title").getText()
        .equals("broken") && !text("dd[data-field='reason']").isBlank());
    assertThat(text("dd[data-field='exit code']"))
        .isEqualTo("3");
  }

  @Test
  void aBadOrMissingTokenGetsTheLoginPageAndNoData() throws Exception {
    submit(ALICE, List.of(job("visible-only-with-a-token", "auth", "ok")));
    logOutIfIn();
    open("#/");
    await().atMost(LIVE).until(() -> byId("login-page").isDisplayed());
    assertThat(byId("jobs-page").isDisplayed()).isFalse();
    assertThat(shownIds()).isEmpty();

    logIn("not-a-token-of-this-engine");
    await().atMost(LIVE).ignoreExceptions().until(() -> byId("login-error").isDisplayed()
        && byId("login-error").getText().contains("not valid"));
    assertThat(byId("login-page").isDisplayed()).isTrue();
    assertThat(browser.getPageSource()).doesNotContain("visible-only-with-a-token");
    assertThat(browser.getCurrentUrl()).doesNotContain("not-a-token");
    screenshot("dashboard-login");

    // a job page asked for directly without a token is the login page too
    open("#/job/jy-anything");
    await().atMost(LIVE).until(() -> byId("login-page").isDisplayed());
    assertThat(byId("job-page").isDisplayed()).isFalse();
  }

  @Test
  void aJobNamedLikeAScriptIsShownAsText() throws Exception {
    var name = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    var id = submit(ALICE, List.of(Map.of("name", name, "session", "xss", "executable", "ok",
        "arguments", List.of("<b>bold?</b>", "<script>alert(3)</script>"),
        "stdout", home.resolve("xss.out").toString()))).getFirst();
    logOutIfIn();
    open("#/");
    logIn(ALICE);
    await().atMost(LIVE).ignoreExceptions().until(() -> "SUCCEEDED".equals(rowState(id)));
    var cell = "tr[data-job-id='" + id + "'] td.name";
    assertThat(text(cell)).isEqualTo(name);
    assertThat(count(cell + " script, " + cell + " img")).isZero();

    open("#/job/" + id);
    await().atMost(LIVE).ignoreExceptions().until(() -> byId("stdout").getText()
        .contains("alert(3)"));
    assertThat(byId("job-title").getText()).isEqualTo(name);
    assertThat(byId("stdout").getText()).isEqualTo("<b>bold?</b>\n<script>alert(3)</script>");
    assertThat(count("#job-page script, #job-page img, #stdout b")).isZero();
    assertThatThrownBy(() -> browser.switchTo().alert())
        .isInstanceOf(NoAlertPresentException.class);
  }

  @Test
  void thePagesComeWithAContentSecurityPolicyAndTheAssetsFromTheJar() throws Exception {
    var page = http.send(HttpRequest.newBuilder(server.url()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("content-security-policy").orElse(""))
        .contains("script-src 'self'").contains("default-src 'none'");
    assertThat(page.body()).contains("/dashboard/app.js").doesNotContain("http://")
        .doesNotContain("https://");
    var missing = http.send(HttpRequest.newBuilder(server.url().resolve("dashboard/../x"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(missing.statusCode()).isEqualTo(404);
    var unknown = http.send(HttpRequest.newBuilder(server.url().resolve("dashboard/secret.txt"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(unknown.statusCode()).isEqualTo(404);
  }
}
