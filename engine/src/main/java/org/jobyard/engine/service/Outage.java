package org.jobyard.engine.service;

/**
 * Marks an exception that says a service the engine depends on is away (the database), as
 * opposed to a bug. A supervised service failing with one is restarted with back-off for as long
 * as it takes; it never counts toward the escalation that stops the engine.
 */
public interface Outage {}
