/**
 * The {@code redis} backend: conversation memory in Redis, standalone or Redis Cluster, on Jedis.
 * {@link io.agentmemory.redis.RedisPlugin} registers it; {@link io.agentmemory.redis.RedisMemory} is the backend and
 * {@link io.agentmemory.redis.RedisSettings} its settings. See memory-redis/README.md for the key layout, the scripts
 * and the failure semantics.
 */
package io.agentmemory.redis;
