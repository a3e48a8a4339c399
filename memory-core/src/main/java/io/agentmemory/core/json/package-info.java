/**
 * The versioned JSON form of {@link io.agentmemory.Message} that every backend stores:
 * {@link io.agentmemory.core.json.MessageJson}. Parameters and return values are never null.
 */
package io.agentmemory.core.json;
