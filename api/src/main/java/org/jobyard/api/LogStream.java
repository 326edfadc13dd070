package org.jobyard.api;

/** Which output of a job. */
public enum LogStream {
  STDOUT,
  STDERR
}
