package org.jobyard.engine.fairshare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FairQueueTest {
  /** A queued job: user, session, priority, and its submission order. */
  record J(String user, String session, int priority, long seq) {
    @Override
    public String toString() {
      return user + seq;
    }
  }

  static final FairQueue.Keys<J> KEYS = new FairQueue.Keys<>() {
    @Override
    public String user(J job) {
      return job.user();
    }

    @Override
    public String session(J job) {
      return job.session();
    }

    @Override
    public int priority(J job) {
      return job.priority();
    }

    @Override
    public long seq(J job) {
      return job.seq();
    }
  };

  long seq;

  /** "a a b:s2 c:s1:5": user, optional session, optional priority, in submission order. */
  List<J> jobs(String spec) {
    var out = new ArrayList<J>();
    for (var item : spec.trim().split("\\s+")) {
      var p = item.split(":");
      out.add(new J(p[0], p.length > 1 ? p[1] : null, p.length > 2 ? Integer.parseInt(p[2]) : 0,
          ++seq));
    }
    return out;
  }

  static String drain(FairQueue<J> q) {
    var out = new ArrayList<String>();
    for (J j; (j = q.poll()) != null; ) {
      out.add(j.toString());
    }
    return String.join(" ", out);
  }

  static Shares shares(String spec) {
    if (spec == null || spec.isBlank()) {
      return Shares.EQUAL;
    }
    var m = new java.util.HashMap<String, Double>();
    Arrays.stream(spec.split(" ")).map(s -> s.split("=")).forEach(kv -> m.put(kv[0],
        Double.parseDouble(kv[1])));
    return new Shares(m, 1);
  }

  @ParameterizedTest(name = "{0} with shares [{1}] goes {2}")
  @CsvSource(delimiter = '|', textBlock = """
      # queued, in submission order   | shares   | released
      a a a a b b                      |          | a1 b5 a2 b6 a3 a4
      a a a a a a b b                  | a=2      | a1 b7 a2 a3 b8 a4 a5 a6
      a a a a b b b b                  | b=3      | a1 b5 b6 b7 a2 b8 a3 a4
      a:x a:x a:y a:y                  |          | a1 a3 a2 a4
      a:x a:x:5 a:x:-1 a:x:5           |          | a2 a4 a1 a3
      a:x a:x a:y:9 b b                |          | a1 b4 a3 b5 a2
      a a b c c c                      |          | a1 b3 c4 a2 c5 c6
      """)
  void releasesJobsInWeightedFairOrder(String queued, String shareSpec, String released) {
    var q = new FairQueue<>(KEYS);
    q.shares(shares(shareSpec));
    jobs(queued).forEach(q::add);
    assertThat(drain(q)).isEqualTo(released);
    assertThat(q.isEmpty()).isTrue();
    assertThat(q.size()).isZero();
  }

  @Test
  void aUserWithTwentyJobsBehindTwoThousandGetsEveryOtherSlot() {
    var q = new FairQueue<>(KEYS);
    jobs("a ".repeat(2000)).forEach(q::add);
    jobs("b ".repeat(20)).forEach(q::add);
    var firstForty = new ArrayList<String>();
    for (int i = 0; i < 40; i++) {
      firstForty.add(q.poll().user());
    }
    assertThat(firstForty).filteredOn("b"::equals).hasSize(20);
    assertThat(q.size()).isEqualTo(1980);
  }

  @Test
  void aUserBackFromIdleBanksNoCreditAndWaitsBehindNoBacklog() {
    var q = new FairQueue<>(KEYS);
    jobs("a ".repeat(100)).forEach(q::add);
    var b1 = jobs("b").getFirst();
    q.add(b1);
    assertThat(q.poll().user()).isEqualTo("a"); // a was first
    assertThat(q.poll()).isEqualTo(b1);
    for (int i = 0; i < 50; i++) {
      q.poll(); // a alone for a while: b's idle time earns b nothing
    }
    jobs("b b b b").forEach(q::add);
    var next = new ArrayList<String>();
    for (int i = 0; i < 6; i++) {
      next.add(q.poll().user());
    }
    assertThat(next).containsExactly("b", "a", "b", "a", "b", "a");
  }

  @Test
  void removesAQueuedJobAndIgnoresOneNotQueued() {
    var q = new FairQueue<>(KEYS);
    var js = jobs("a a b");
    js.forEach(q::add);
    assertThat(q.add(js.getFirst())).as("already queued").isFalse();
    assertThat(q.remove(js.get(2))).isTrue();
    assertThat(q.remove(js.get(2))).isFalse();
    assertThat(q.removeIf(j -> j.seq() == js.get(1).seq())).containsExactly(js.get(1));
    assertThat(q.size()).isEqualTo(1);
    assertThat(drain(q)).isEqualTo("a" + js.getFirst().seq());
  }

  @Test
  void refusesAShareThatIsNotAboveZero() {
    assertThatThrownBy(() -> new Shares(Map.of("bob", 0.0), 1))
        .hasMessageContaining("fair_share.shares.bob").hasMessageContaining("above 0");
  }
}
