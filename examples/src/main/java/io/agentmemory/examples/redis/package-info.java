/** The spec's Redis conversation memory, configured by name only. */
package io.agentmemory.examples.redis;
