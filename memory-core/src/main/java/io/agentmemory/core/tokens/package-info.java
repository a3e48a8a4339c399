/**
 * Token counters: the spec's word heuristic and exact BPE counts for OpenAI's chat format, via jtokkit. Obtain them
 * from {@link io.agentmemory.core.tokens.TokenCounters}. Parameters and return values are never null.
 */
package io.agentmemory.core.tokens;
