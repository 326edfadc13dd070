package org.jobyard.plugins.condor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jobyard.api.BackendException;
import org.jobyard.api.Durations;
import org.jobyard.api.JobSpec;
import org.jobyard.api.PayloadScript;

/**
 * Builds what {@code condor_submit} reads, without running anything: the wrapper script each job
 * runs, and one submit description per group of jobs that differ only in their tag.
 *
 * <p>The payload goes into the wrapper as POSIX shell text ({@link PayloadScript}), so arguments
 * and environment values never pass through HTCondor's own argument or environment quoting: they
 * arrive byte for byte whatever they hold. Everything per job in the description derives from one
 * item variable, {@code JobyardTag}, with {@code queue JobyardTag from (...)}: N jobs of one shape
 * are one description, one cluster and one schedd transaction.
 */
final class SubmitDescription {
  /** The attribute every Jobyard job carries: its attempt's tag, for lookup after a crash. */
  static final String ID_ATTRIBUTE = "JobyardId";

  /** Folder file names; stdout and stderr are streamed there while the job runs (for tail). */
  static final String STDOUT = "stdout";
  static final String STDERR = "stderr";

  private static final Pattern NATIVE_KEY = Pattern.compile("[+A-Za-z_][A-Za-z0-9_.]*");
  private static final Pattern ACCOUNTING_GROUP = Pattern.compile("[A-Za-z0-9_.@-]+");

  /** What the backend itself sets: a native option may not move a job's folder or identity. */
  private static final Set<String> RESERVED = Set.of("executable", "initialdir", "initial_dir",
      "iwd", "output", "error", "log", "arguments", "args", "queue", "universe",
      "+jobyardid", "my.jobyardid", "jobyardtag", "jobyarddir", "stream_output",
      "stream_error", "should_transfer_files", "transfer_executable", "input", "getenv");

  private SubmitDescription() {}

  /** One job ready to submit. */
  record Job(String tag, JobSpec spec) {}

  /** The jobs of one description, in the order condor_submit numbers them. */
  record Group(String description, List<String> tags) {}

  /**
   * The wrapper a job runs: the payload in its working directory, exit code as its own (HTCondor
   * reports it as {@code ExitCode}); a payload that cannot start says why on stderr.
   */
  static String wrapper(String tag, String folder, JobSpec spec) {
    // HTCondor itself feeds the standard input file (`input`): the payload must not read it again
    var absolute = spec.withStdin(null);
    var directory = spec.directory();
    if (directory != null && !directory.isBlank() && !directory.startsWith("/")) {
      absolute = absolute.withPaths(folder + "/" + directory, spec.stdout(), spec.stderr(),
          spec.inputFiles(), spec.outputFiles());
    }
    return "#!/bin/sh\n"
        + "# Jobyard job " + tag + " (condor backend)\n"
        + "d=$(pwd)\n"
        + "finish() { exit \"$1\"; }\n"
        + "fail() { printf 'jobyard: %s\\n' \"$2\" >&2; exit \"$1\"; }\n"
        + PayloadScript.of(absolute);
  }

  /** Checks what only this job could get wrong, so that one bad job never sinks its batch. */
  static void check(String tag, JobSpec spec) throws BackendException {
    try {
      PayloadScript.of(spec);
    } catch (IllegalArgumentException e) {
      throw BackendException.rejected("job " + tag + ": " + e.getMessage());
    }
    if (spec.queue() != null && !spec.queue().isBlank()) {
      throw BackendException.rejected("job " + tag + ": HTCondor has no queues (got queue '"
          + spec.queue() + "'); select machines with native.condor requirements instead");
    }
    if (spec.account() != null && !ACCOUNTING_GROUP.matcher(spec.account()).matches()) {
      throw BackendException.rejected("job " + tag + ": account '" + spec.account()
          + "' cannot be an HTCondor accounting_group (letters, digits, '_', '.', '@', '-')");
    }
    for (var e : spec.nativeOptions("condor").entrySet()) {
      var key = e.getKey().strip();
      if (!NATIVE_KEY.matcher(key).matches()) {
        throw BackendException.rejected("job " + tag + ": native.condor key '" + e.getKey()
            + "' is not a submit command name");
      }
      if (RESERVED.contains(key.toLowerCase(Locale.ROOT))) {
        throw BackendException.rejected("job " + tag + ": native.condor '" + key
            + "' is set by Jobyard itself (job folder, output paths, identity); use the job "
            + "file's own fields");
      }
      if (e.getValue().indexOf('\n') >= 0 || e.getValue().indexOf('\r') >= 0) {
        throw BackendException.rejected("job " + tag + ": native.condor '" + key
            + "' must be on one line");
      }
    }
    var stdin = spec.stdin();
    if (stdin != null && (stdin.startsWith("/") || List.of(stdin.split("/")).contains("..")
        || !stdin.equals(stdin.strip()) || stdin.indexOf('\n') >= 0
        || stdin.indexOf('\r') >= 0)) {
      throw BackendException.rejected("job " + tag + ": stdin '" + stdin + "' cannot be "
          + "HTCondor's input file: it must be a path inside the job's directory without "
          + "line breaks or spaces at either end; rename the file");
    }
    for (var input : spec.inputFiles()) {
      var destination = input.destination();
      if (destination.isEmpty() || destination.startsWith("/")
          || List.of(destination.split("/")).contains("..")) {
        throw BackendException.rejected("job " + tag + ": input file destination '"
            + destination + "' must be a path inside the job's directory");
      }
    }
  }

  /** Whether stdout and stderr go to one file (the spec names the same path for both). */
  static boolean merged(JobSpec spec) {
    return spec.stdout() != null && spec.stdout().equals(spec.stderr());
  }

  /**
   * The descriptions for the jobs, one per shape, in first-seen order. Each job's folder is
   * {@code root/tag}, made beforehand with its wrapper and inputs.
   */
  static List<Group> groups(String root, List<Job> jobs) {
    var byShape = new LinkedHashMap<String, List<String>>();
    for (var job : jobs) {
      byShape.computeIfAbsent(shape(job.spec()), k -> new ArrayList<>()).add(job.tag());
    }
    var groups = new ArrayList<Group>();
    for (var e : byShape.entrySet()) {
      var sb = new StringBuilder(512);
      sb.append("JobyardDir = ").append(root).append("/$(JobyardTag)\n")
          .append("executable = $(JobyardDir)/job.sh\n")
          .append("initialdir = $(JobyardDir)\n")
          .append("log = $(JobyardDir)/log\n")
          .append("+").append(ID_ATTRIBUTE).append(" = \"$(JobyardTag)\"\n")
          .append(e.getKey())
          .append("queue JobyardTag from (\n");
      for (var tag : e.getValue()) {
        sb.append(tag).append('\n');
      }
      groups.add(new Group(sb.append(")\n").toString(), List.copyOf(e.getValue())));
    }
    return groups;
  }

  /** The lines that are the same for every job of one group (no tag, no folder). */
  static String shape(JobSpec spec) {
    var sb = new StringBuilder(256);
    sb.append("universe = vanilla\n")
        // HTCondor moves the files: the job needs no filesystem shared with the access point
        .append("should_transfer_files = YES\n")
        .append("when_to_transfer_output = ON_EXIT\n")
        // streamed: the folder holds the output while the job runs, for tail
        .append("output = $(JobyardDir)/").append(STDOUT).append('\n')
        .append("error = $(JobyardDir)/").append(merged(spec) ? STDOUT : STDERR).append('\n')
        .append("stream_output = True\n")
        .append("stream_error = True\n");
    if (!spec.inputFiles().isEmpty()) {
      // a trailing slash sends the folder's contents: names travel as they are, commas included
      sb.append("transfer_input_files = $(JobyardDir)/in/\n");
    }
    var r = spec.resources();
    if (r.cores() > 0) {
      sb.append("request_cpus = ").append(r.cores()).append('\n');
    }
    if (r.memoryMb() > 0) {
      sb.append("request_memory = ").append(r.memoryMb()).append('\n');
    }
    if (r.gpus() > 0) {
      sb.append("request_gpus = ").append(r.gpus()).append('\n');
    }
    if (r.walltime() != null) {
      // a job over it is held with HoldReasonCode 46, which ends it as failed
      sb.append("allowed_job_duration = ").append(Durations.ceilSeconds(r.walltime()))
          .append('\n');
    }
    if (spec.account() != null) {
      sb.append("accounting_group = ").append(spec.account()).append('\n');
    }
    if (spec.placement().diskMb() > 0) {
      // request_disk counts KiB
      sb.append("request_disk = ").append(spec.placement().diskMb() * 1024).append('\n');
    }
    if (spec.stdin() != null) {
      // staged into in/ with the other inputs; HTCondor transfers it and feeds it to the job
      // $(DOLLAR) is HTCondor's own escape: a '$' in a name must not start a macro
      sb.append("input = $(JobyardDir)/in/").append(spec.stdin().replace("$", "$(DOLLAR)"))
          .append('\n');
    }
    // HTCondor hands over condor_submit's environment only when asked; the wrapper then keeps
    // what was allowed (PayloadScript), so a list reaches the job whichever way HTCondor reads it
    if (spec.inheritsAllEnvironment()) {
      sb.append("getenv = true\n");
    } else if (!spec.inheritEnvironment().isEmpty()) {
      sb.append("getenv = ").append(String.join(", ", spec.inheritEnvironment())).append('\n');
    } else {
      sb.append("getenv = false\n");
    }
    // last, so that a user's request_disk or requirements is what HTCondor sees
    for (var e : new TreeMap<>(spec.nativeOptions("condor")).entrySet()) {
      sb.append(e.getKey().strip()).append(" = ").append(e.getValue()).append('\n');
    }
    return sb.toString();
  }
}
