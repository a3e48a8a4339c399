/** The redis backend. */
package io.agentmemory.redis;
