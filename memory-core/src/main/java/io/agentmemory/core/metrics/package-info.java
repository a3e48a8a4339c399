/**
 * The {@code metrics} decorator: Micrometer timers, counters and distribution summaries for every memory operation,
 * removal and context window; see {@link io.agentmemory.core.metrics.MetricsMemory}. Parameters and return values
 * are never null.
 */
package io.agentmemory.core.metrics;
