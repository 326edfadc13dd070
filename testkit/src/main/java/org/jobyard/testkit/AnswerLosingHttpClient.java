package org.jobyard.testkit;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * An HTTP client whose answers can be lost, for an HTTP backend's {@link AnswerLoss}: while
 * {@link #loseAnswers(boolean) armed}, every request really goes to the server and is answered,
 * and then the caller gets an {@link IOException} instead of the response, as when a connection
 * drops after the request was sent.
 */
public final class AnswerLosingHttpClient extends HttpClient {
  private final HttpClient delegate;
  private volatile boolean losing;

  public AnswerLosingHttpClient(HttpClient delegate) {
    this.delegate = java.util.Objects.requireNonNull(delegate, "delegate is null");
  }

  /** From now on, lose (or stop losing) the answer of every request. */
  public void loseAnswers(boolean lose) {
    losing = lose;
  }

  private IOException lost(HttpRequest request) {
    return new IOException("connection lost after " + request.method() + " " + request.uri()
        + " was sent (the kit drops the answer; the server carried the request out)");
  }

  @Override
  public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
      throws IOException, InterruptedException {
    var response = delegate.send(request, handler);
    if (losing) {
      throw lost(request);
    }
    return response;
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request,
      HttpResponse.BodyHandler<T> handler) {
    return sendAsync(request, handler, null);
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request,
      HttpResponse.BodyHandler<T> handler, HttpResponse.PushPromiseHandler<T> push) {
    var sent = delegate.sendAsync(request, handler, push);
    return !losing ? sent : sent.thenApply(r -> {
      throw new java.util.concurrent.CompletionException(lost(request));
    });
  }

  @Override
  public Optional<CookieHandler> cookieHandler() {
    return delegate.cookieHandler();
  }

  @Override
  public Optional<Duration> connectTimeout() {
    return delegate.connectTimeout();
  }

  @Override
  public Redirect followRedirects() {
    return delegate.followRedirects();
  }

  @Override
  public Optional<ProxySelector> proxy() {
    return delegate.proxy();
  }

  @Override
  public SSLContext sslContext() {
    return delegate.sslContext();
  }

  @Override
  public SSLParameters sslParameters() {
    return delegate.sslParameters();
  }

  @Override
  public Optional<Authenticator> authenticator() {
    return delegate.authenticator();
  }

  @Override
  public Version version() {
    return delegate.version();
  }

  @Override
  public Optional<Executor> executor() {
    return delegate.executor();
  }
}
