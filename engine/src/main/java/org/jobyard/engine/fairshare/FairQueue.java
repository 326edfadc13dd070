package org.jobyard.engine.fairshare;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The jobs waiting for one cluster, released in weighted fair queueing order: between users by
 * their {@link Shares}, between a user's sessions equally, and within a session by priority
 * (higher first), then in the order they were submitted.
 *
 * <p>Each level is start-time fair queueing: every flow (a user, or a session within a user)
 * carries a virtual start tag; the backlogged flow with the smallest tag goes next, and its tag
 * grows by {@code 1 / share} per job released. A flow that was idle starts at the current virtual
 * time, so it neither banks credit while idle nor waits behind the backlog of a busy flow: a
 * user with 20 jobs queued behind one with 10,000 gets every other slot from the first round.
 * Cost per operation: O(users + sessions of the user + log n). Not thread-safe: owned by the job
 * manager's thread (the shares alone may be swapped from another thread, at a reload).
 *
 * @param <T> the job type
 */
public final class FairQueue<T> {
  /** What the queue reads of a job; the values must not change while the job is queued. */
  public interface Keys<T> {
    String user(T job);

    String session(T job);

    int priority(T job);

    /** Submission order, unique per job. */
    long seq(T job);
  }

  private final Keys<T> keys;
  private final Comparator<T> order;
  private final Level<String, Level<String, TreeSet<T>>> users = new Level<>();
  private volatile Shares shares = Shares.EQUAL;
  private int size;

  public FairQueue(Keys<T> keys) {
    this.keys = requireNonNull(keys, "keys is null");
    this.order = Comparator.<T>comparingInt(j -> -keys.priority(j)).thenComparingLong(keys::seq);
  }

  /** Uses these shares from the next job released on. */
  public void shares(Shares newShares) {
    shares = requireNonNull(newShares, "shares is null");
  }

  public Shares shares() {
    return shares;
  }

  /** Queues the job (once: adding a queued job again changes nothing). */
  public boolean add(T job) {
    var user = keys.user(job) == null ? "" : keys.user(job);
    var session = keys.session(job) == null ? "" : keys.session(job);
    var sessions = users.flows.computeIfAbsent(user, u -> new Flow<>(new Level<>()));
    var jobs = sessions.items.flows.computeIfAbsent(session, s -> new Flow<>(new TreeSet<>(order)));
    if (!jobs.items.add(job)) {
      return false;
    }
    size++;
    sessions.items.activate(session, jobs);
    users.activate(user, sessions);
    return true;
  }

  /** The next job to release, removed from the queue; null when empty. */
  public T poll() {
    if (size == 0) {
      return null;
    }
    var current = shares;
    var user = users.next();
    var session = user.getValue().items.next();
    var job = session.getValue().items.pollFirst();
    size--;
    user.getValue().items.served(session.getKey(), session.getValue(), 1,
        session.getValue().items.isEmpty());
    users.served(user.getKey(), user.getValue(), current.of(user.getKey()),
        user.getValue().items.backlogged.isEmpty());
    return job;
  }

  /** Removes the job if it is queued. */
  public boolean remove(T job) {
    var user = keys.user(job) == null ? "" : keys.user(job);
    var session = keys.session(job) == null ? "" : keys.session(job);
    var sessions = users.flows.get(user);
    var jobs = sessions == null ? null : sessions.items.flows.get(session);
    if (jobs == null || !jobs.items.remove(job)) {
      return false;
    }
    size--;
    if (jobs.items.isEmpty()) {
      sessions.items.idle(session);
      if (sessions.items.backlogged.isEmpty()) {
        users.idle(user);
      }
    }
    return true;
  }

  /** Removes and returns the queued jobs that match, in release order within each session. */
  public List<T> removeIf(Predicate<T> which) {
    var matched = new ArrayList<T>();
    for (var sessions : users.flows.values()) {
      for (var jobs : sessions.items.flows.values()) {
        jobs.items.stream().filter(which).forEach(matched::add);
      }
    }
    matched.forEach(this::remove);
    return matched;
  }

  /** A copy of the queued jobs, in no particular order. */
  public List<T> items() {
    var out = new ArrayList<T>(size);
    users.flows.values().forEach(u -> u.items.flows.values().forEach(s -> out.addAll(s.items)));
    return out;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  public int size() {
    return size;
  }

  public void clear() {
    users.flows.clear();
    users.backlogged.clear();
    size = 0;
  }

  /** A user, or a session within a user: its items and its virtual start tag. */
  private static final class Flow<I> {
    final I items;
    double tag;

    Flow(I items) {
      this.items = items;
    }
  }

  /** One level of start-time fair queueing over flows named by K. */
  private static final class Level<K, I> {
    final Map<K, Flow<I>> flows = new HashMap<>();
    /** Flows with something queued; insertion order breaks ties between equal tags. */
    final Map<K, Flow<I>> backlogged = new LinkedHashMap<>();
    double virtualTime;

    /** The flow has something queued: an idle flow starts at the current virtual time. */
    void activate(K key, Flow<I> flow) {
      if (backlogged.putIfAbsent(key, flow) == null) {
        flow.tag = Math.max(flow.tag, virtualTime);
      }
    }

    /** The backlogged flow with the smallest start tag. */
    Map.Entry<K, Flow<I>> next() {
      Map.Entry<K, Flow<I>> best = null;
      for (var e : backlogged.entrySet()) {
        if (best == null || e.getValue().tag < best.getValue().tag) {
          best = e;
        }
      }
      return best;
    }

    /** One item of the flow was released: time moves to its tag, the tag grows by 1/share. */
    void served(K key, Flow<I> flow, double share, boolean nowEmpty) {
      virtualTime = Math.max(virtualTime, flow.tag);
      flow.tag += 1 / share;
      if (nowEmpty) {
        idle(key);
      }
    }

    /**
     * The flow has nothing queued. It is forgotten once its tag is behind the virtual time (it
     * would start there anyway), so a stream of one-off sessions does not grow the map.
     */
    void idle(K key) {
      var flow = backlogged.remove(key);
      if (flow != null && flow.tag <= virtualTime) {
        flows.remove(key);
      }
    }
  }
}
