package org.jobyard.plugins.arc;

import static org.jobyard.api.ShellQuoting.quote;

import java.util.ArrayList;
import java.util.List;
import org.jobyard.api.PayloadScript;
import org.jobyard.api.SubmitRequest;

/**
 * A job as A-REX takes it: an ADL {@code ActivityDescription} and the session files the client
 * uploads. The spec's steps, arguments and environment travel in a POSIX-shell payload script
 * (quoted by {@link PayloadScript}), so they arrive byte for byte: A-REX's own job script is not
 * trusted with newlines, quotes or empty arguments. Files move under fixed session names
 * ({@code jobyard.in.N}, {@code jobyard.out.N}) that the script renames, so any user file name
 * (spaces, quotes, unicode) survives A-REX's staging lists.
 *
 * @param name the ADL job name: carries the attempt's tag, which lookup finds after a crash
 * @param adl the ActivityDescription element, without an XML declaration (goes into a wrapper)
 * @param script the payload script, uploaded as {@link #SCRIPT}
 * @param inputs session name to local source, in upload order (the script first); inputs from
 *     URLs are not among them: A-REX fetches those itself
 * @param outputs session name to local destination, fetched when the job has ended
 */
record ArcJobDescription(String name, String adl, String script, List<Upload> inputs,
    List<Download> outputs) {

  static final String SCRIPT = "jobyard.sh";
  static final String STDOUT = "jobyard.stdout";
  static final String STDERR = "jobyard.stderr";
  static final String NAME_PREFIX = "jobyard.";
  /**
   * How often A-REX may restart a failed job on request (without it, none); the CE's own
   * {@code maxrerun} caps it.
   */
  static final int RERUNS = 5;

  /** A file the client PUTs into the session: {@code source} on the engine's machine. */
  record Upload(String sessionName, String source) {}

  /** A session file brought home to {@code destination}; optional ones may be missing. */
  record Download(String sessionName, String destination, boolean optional) {}

  /** The ADL name of an attempt. */
  static String nameOf(String tag) {
    return NAME_PREFIX + tag;
  }

  static ArcJobDescription of(SubmitRequest request, String defaultQueue, String delegationId) {
    var spec = request.spec();
    var inputs = new ArrayList<Upload>();
    inputs.add(new Upload(SCRIPT, null));
    // inputs from URLs: A-REX downloads them itself in its data staging (session name to URL)
    var fetched = new java.util.LinkedHashMap<String, String>();
    var outputs = new ArrayList<Download>();
    outputs.add(new Download(STDOUT, spec.stdout(), true));
    outputs.add(new Download(STDERR, spec.stderr(), true));
    // inputs are linked (or copied), not moved: a restart on the CE (A-REX re-reads the staging
    // list and waits for any input missing from the session) finds them all in place
    var script = new StringBuilder(512).append("#!/bin/sh\n")
        .append("# Jobyard payload for ").append(request.tag()).append('\n')
        .append("d=$(pwd)\n");
    for (int i = 0; i < spec.inputFiles().size(); i++) {
      var in = spec.inputFiles().get(i);
      var staged = "jobyard.in." + i;
      if (in.fromUrl()) {
        fetched.put(staged, in.source());
      } else {
        inputs.add(new Upload(staged, in.source()));
      }
      script.append("mkdir -p -- \"$(dirname -- ").append(quote(in.destination()))
          .append(")\" && { ln -f -- ").append(staged).append(' ')
          .append(quote(in.destination())).append(" 2>/dev/null || cp -f -- ").append(staged)
          .append(' ').append(quote(in.destination())).append("; } || { echo ").append(quote("jobyard: cannot place input "
              + in.destination())).append(" >&2; exit ").append(PayloadScript.SETUP_FAILED)
          .append("; }\n");
    }
    // finish: move the declared outputs to their session names whatever the exit, then exit
    script.append("finish() {\n  c=$1\n  cd \"$d\" || exit \"$c\"\n");
    for (int i = 0; i < spec.outputFiles().size(); i++) {
      var out = spec.outputFiles().get(i);
      var staged = "jobyard.out." + i;
      outputs.add(new Download(staged, out.destination(), false));
      script.append("  [ -e ").append(quote(out.source())).append(" ] && cp -f -- ")
          .append(quote(out.source())).append(' ').append(staged).append('\n');
    }
    script.append("  exit \"$c\"\n}\n")
        .append("fail() { printf '%s\\n' \"$2\" >&2; finish \"$1\"; }\n")
        .append(PayloadScript.of(spec));
    var name = nameOf(request.tag());
    var adl = new StringBuilder(1024)
        .append("<ActivityDescription xmlns=\"http://www.eu-emi.eu/es/2010/12/adl\" "
            + "xmlns:nordugrid-adl=\"http://www.nordugrid.org/es/2011/12/nordugrid-adl\">")
        .append("<ActivityIdentification><Name>").append(xml(name))
        .append("</Name></ActivityIdentification>")
        .append("<Application><Executable><Path>/bin/sh</Path><Argument>").append(SCRIPT)
        .append("</Argument></Executable><Output>").append(STDOUT).append("</Output><Error>")
        .append(STDERR).append("</Error><nordugrid-adl:Rerun>").append(RERUNS)
        .append("</nordugrid-adl:Rerun></Application>");
    var resources = spec.resources();
    var queue = spec.queue() != null && !spec.queue().isBlank() ? spec.queue() : defaultQueue;
    var res = new StringBuilder();
    if (queue != null && !queue.isBlank()) {
      res.append("<QueueName>").append(xml(queue)).append("</QueueName>");
    }
    if (resources.memoryMb() > 0) {
      res.append("<IndividualPhysicalMemory>").append(resources.memoryMb() * 1024 * 1024)
          .append("</IndividualPhysicalMemory>");
    }
    if (resources.walltime() != null) {
      res.append("<WallTime>").append(Math.max(1, resources.walltime().toSeconds()))
          .append("</WallTime>");
    }
    if (resources.cores() > 0) {
      res.append("<SlotRequirement><NumberOfSlots>").append(resources.cores())
          .append("</NumberOfSlots></SlotRequirement>");
    }
    if (!res.isEmpty()) {
      adl.append("<Resources>").append(res).append("</Resources>");
    }
    adl.append("<DataStaging>");
    if (delegationId != null) {
      adl.append("<nordugrid-adl:DelegationID>").append(xml(delegationId))
          .append("</nordugrid-adl:DelegationID>");
    }
    // no Source: the client uploads each input with PUT, and A-REX waits for it; a Source URI:
    // A-REX downloads it (failing in PREPARING if it cannot, which a restart re-runs in place)
    inputs.forEach(u -> adl.append("<InputFile><Name>").append(u.sessionName())
        .append("</Name></InputFile>"));
    fetched.forEach((session, url) -> adl.append("<InputFile><Name>").append(session)
        .append("</Name><Source><URI>").append(xml(url)).append("</URI></Source></InputFile>"));
    // declared, or A-REX deletes them when the job ends
    outputs.forEach(d -> adl.append("<OutputFile><Name>").append(d.sessionName())
        .append("</Name></OutputFile>"));
    adl.append("</DataStaging></ActivityDescription>");
    return new ArcJobDescription(name, adl.toString(), script.toString(), List.copyOf(inputs),
        List.copyOf(outputs));
  }

  /** Many descriptions in one bulk submission, in order. */
  static String bulk(List<ArcJobDescription> jobs) {
    var sb = new StringBuilder("<ActivityDescriptions>");
    jobs.forEach(j -> sb.append(j.adl()));
    return sb.append("</ActivityDescriptions>").toString();
  }

  /** XML text content; characters XML 1.0 cannot carry are refused, naming them. */
  static String xml(String text) {
    var sb = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&apos;");
        default -> {
          if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            throw new IllegalArgumentException("'" + text.replace(c, '?') + "' holds control "
                + "character U+" + String.format("%04X", (int) c) + ", which an ADL job "
                + "description cannot carry");
          }
          sb.append(c);
        }
      }
    }
    return sb.toString();
  }
}
