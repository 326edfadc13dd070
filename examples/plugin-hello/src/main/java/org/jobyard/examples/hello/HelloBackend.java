package org.jobyard.examples.hello;

import static org.jobyard.api.ShellQuoting.quote;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jobyard.api.Backend;
import org.jobyard.api.BackendContext;
import org.jobyard.api.BackendException;
import org.jobyard.api.Capability;
import org.jobyard.api.Command;
import org.jobyard.api.JobRef;
import org.jobyard.api.JobSpec;
import org.jobyard.api.JobStatus;
import org.jobyard.api.ShellQuoting;
import org.jobyard.api.SubmitOutcome;
import org.jobyard.api.SubmitRequest;
import org.jobyard.toolkit.ClusterCommands;
import org.jobyard.toolkit.HostScript;
import org.jobyard.toolkit.JobFolder;
import org.jobyard.toolkit.SubmitVerdict;

/**
 * Runs each job as a detached process in a session of its own on the transport's host (this
 * machine, or another over SSH). All work goes through the transport, and the job's folder {@code
 * <workdir>/<tag>} is the only record of it ({@code job.sh}, {@code pid}, {@code stdout}, {@code
 * stderr}, then {@code exit} or {@code cancelled}), so jobs outlive the engine and {@link #lookup}
 * finds them by tag after a crash. Needs {@code setsid} and procps {@code ps} (Linux). The
 * plugin toolkit runs the script and turns a host that does not answer, or a lost answer to a
 * submit, into what the engine expects.
 */
final class HelloBackend implements Backend {
  /** The host's side, run as {@code sh -c SCRIPT sh OP ARGS...}: data comes as arguments only. */
  private static final String SCRIPT = """
      alive() {  # the pid in folder $1 is still this job's (before or after exec), not a zombie
        case $(ps -ww -o args= -p "$(cat "$1/pid" 2>/dev/null)" 2>/dev/null) in
          *"$1/job.sh"* | *" $1 "*) return 0 ;;
        esac; return 1
      }
      op=$1; shift
      case $op in
      submit)  # $1: the job's folder, $2: its job.sh; starts it detached, prints its pid
        mkdir -p "$1" && printf '%s\\n' "$2" > "$1/job.sh" || exit 1
        setsid sh "$1/job.sh" </dev/null >/dev/null 2>&1 &
        echo $! > "$1/pid" && echo $! ;;
      poll)  # one line per folder, in order; a job that is not alive has written its exit if ever
        for d do
          if alive "$d"; then echo running
          elif [ -s "$d/exit" ]; then echo "exit $(cat "$d/exit")"
          elif [ ! -f "$d/pid" ]; then echo unknown
          elif [ -f "$d/cancelled" ]; then echo cancelled
          else echo vanished; fi
        done ;;
      cancel)  # marks and stops the jobs that still run; ended or unknown ones are left alone
        for d do
          alive "$d" && : > "$d/cancelled" && kill -s TERM -- "-$(cat "$d/pid")"
        done; exit 0 ;;
      lookup)  # $1: the workdir, then tags; one line per tag: the pid in its folder, or -
        w=$1; shift
        for t do if [ -s "$w/$t/pid" ]; then cat "$w/$t/pid"; else echo -; fi; done ;;
      esac
      """;

  private final ClusterCommands commands;
  private final HostScript host;
  private final JobFolder folder;
  private final String workdir;

  HelloBackend(BackendContext context, String workdir) {
    this.commands = new ClusterCommands(context.cluster(), context.transport(),
        Duration.ofSeconds(60));
    this.host = new HostScript(SCRIPT, commands);
    this.folder = new JobFolder(commands, workdir, "stdout", "stderr");
    this.workdir = workdir;
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of(Capability.STEPS);
  }

  @Override
  public List<SubmitOutcome> submit(List<SubmitRequest> jobs) throws BackendException {
    var outcomes = new ArrayList<SubmitOutcome>();
    for (var job : jobs) { // without BULK_SUBMIT the engine passes one job per call
      var spec = job.spec();
      var dir = workdir + "/" + job.tag(); // a tag is a safe folder name: jy-<id>.<attempt>
      if (!spec.inputFiles().isEmpty() || !spec.outputFiles().isEmpty()
          || spec.resources().walltime() != null
          || !spec.environment().keySet().stream().allMatch(ShellQuoting::isValidVariableName)) {
        outcomes.add(SubmitVerdict.REFUSED.outcome(job.jobId(), "backend 'hello' stages no "
            + "files, enforces no walltime and needs valid variable names"));
        continue;
      }
      var sent = commands.send(host.command("submit", List.of(dir, jobScript(dir, spec))),
          "start job " + job.tag());
      outcomes.add(switch (sent) {
        case ClusterCommands.Sent.Lost lost -> SubmitVerdict.IN_DOUBT.outcome(job.jobId(),
            lost.message());
        case ClusterCommands.Sent.Answered a when a.result().succeeded()
            && a.result().stdout().strip().matches("\\d+") -> new SubmitOutcome.Accepted(
                new JobRef(job.jobId(), a.result().stdout().strip(), Map.of("dir", dir)));
        case ClusterCommands.Sent.Answered a -> SubmitVerdict.ofExitCode(a.result().exitCode())
            .outcome(job.jobId(), commands.cluster() + ": cannot start a job in " + dir + ": "
                + a.result().summary());
      });
    }
    return outcomes;
  }

  /** The job as shell text: every value quoted, steps chained so that the first failure ends it. */
  private static String jobScript(String dir, JobSpec spec) {
    var cwd = spec.directory() == null ? dir : spec.directory();
    var body = new ArrayList<>(List.of("cd " + quote(cwd.startsWith("/") ? cwd : dir + "/" + cwd)));
    spec.environment().forEach((k, v) -> body.add("export " + k + "=" + quote(v)));
    spec.steps().forEach(step -> body.add(ShellQuoting.join(step.argv())));
    var d = quote(dir);
    return "{ " + String.join(" && ", body) + "; } >" + d + "/stdout 2>" + d + "/stderr\n"
        + "echo $? > " + d + "/exit.tmp && mv " + d + "/exit.tmp " + d + "/exit\n";
  }

  @Override
  public Map<String, JobStatus> poll(List<JobRef> jobs) throws BackendException {
    var lines = host.lines("poll", dirs(jobs)); // one command for all the jobs
    var statuses = new HashMap<String, JobStatus>();
    for (int i = 0; i < jobs.size(); i++) {
      var line = i < lines.size() ? lines.get(i) : "no answer";
      statuses.put(jobs.get(i).jobId(), switch (line) {
        case "running" -> new JobStatus.Running("RUNNING");
        case "cancelled" -> new JobStatus.Cancelled("CANCELLED", null);
        case "vanished" -> new JobStatus.Failed(-1, "VANISHED", "ended without an exit code");
        default -> line.matches("exit \\d+")
            ? new JobStatus.Exited(Integer.parseInt(line.substring(5)), "EXITED", null)
            : new JobStatus.Unknown("no job folder with a pid (" + line + ")"); // never Failed
      });
    }
    return statuses;
  }

  @Override
  public void cancel(List<JobRef> jobs) throws BackendException {
    host.run("cancel", dirs(jobs)); // the next poll sees the outcome
  }

  @Override
  public Map<String, JobRef> lookup(List<SubmitRequest> attempts) throws BackendException {
    var args = new ArrayList<>(List.of(workdir));
    attempts.forEach(a -> args.add(a.tag()));
    var pids = host.lines("lookup", args);
    var found = new HashMap<String, JobRef>();
    for (int i = 0; i < attempts.size() && i < pids.size(); i++) {
      var a = attempts.get(i);
      if (pids.get(i).matches("\\d+")) {
        found.put(a.jobId(), new JobRef(a.jobId(), pids.get(i),
            Map.of("dir", workdir + "/" + a.tag())));
      }
    }
    return found;
  }

  @Override
  public void collect(JobRef job, JobSpec spec) throws BackendException {
    folder.collect(job, spec); // the toolkit copies stdout and stderr from the job's folder
  }

  @Override
  public void clean(JobRef job) throws BackendException {
    var dir = job.attribute("dir");
    if (dir != null && dir.startsWith(workdir + "/")) {
      commands.runOrUnavailable(Command.of("rm", "-rf", "--", dir), "remove " + dir);
    }
  }

  private static List<String> dirs(List<JobRef> jobs) {
    return jobs.stream().map(j -> j.attributes().getOrDefault("dir", "/nonexistent")).toList();
  }
}
