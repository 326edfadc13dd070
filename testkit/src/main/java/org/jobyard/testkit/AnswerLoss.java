package org.jobyard.testkit;

import java.util.function.Consumer;
import org.jobyard.api.Backend;

/**
 * How the kit's lost-answer case loses a submit's answer after the batch system took the job
 * ({@link BackendConformanceTest#answerLoss()}). For a command backend the kit does it in the
 * transport ({@link AnswerLosingTransport}); a backend that talks to its cluster another way (an
 * HTTP backend) gives the kit a backend instance whose requests it can make lose their answers,
 * e.g. one built on an {@link AnswerLosingHttpClient}.
 */
public interface AnswerLoss {
  /** The backend instance the kit submits and looks up through, as the engine would. */
  Backend backend();

  /**
   * While on, every request {@link #backend()} sends reaches the cluster and is carried out
   * there, and then its answer is lost (the backend sees a dropped connection or a timeout).
   */
  void loseAnswers(boolean lose);

  static AnswerLoss of(Backend backend, Consumer<Boolean> switcher) {
    return new AnswerLoss() {
      @Override
      public Backend backend() {
        return backend;
      }

      @Override
      public void loseAnswers(boolean lose) {
        switcher.accept(lose);
      }
    };
  }
}
