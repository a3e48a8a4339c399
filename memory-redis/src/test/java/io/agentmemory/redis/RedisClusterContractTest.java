package io.agentmemory.redis;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MemoryStoreContract;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import redis.clients.jedis.Jedis;

/**
 * The whole contract kit on a local Redis Cluster of three masters ({@link TestCluster}), with a client seeded with
 * one node only: it discovers the others and follows MOVED redirections.
 */
class RedisClusterContractTest extends MemoryStoreContract {
    private static final String PREFIX = TestRedis.newPrefix("tck-cluster");

    @Override
    protected Memory createMemory(MemoryContext context) {
        TestCluster cluster = TestCluster.shared();
        return RedisMemory.open(
                RedisSettings.fromConfig(Map.of(
                        RedisSettings.URL,
                        cluster.seedUrl(),
                        RedisSettings.CLUSTER,
                        "true",
                        RedisSettings.KEY_PREFIX,
                        PREFIX)),
                context);
    }

    @AfterAll
    static void deleteKeys() {
        for (RedisProcess node : TestCluster.shared().nodes()) {
            try (Jedis jedis = TestCluster.jedis(node.port())) {
                TestRedis.deleteKeys(jedis, PREFIX);
            }
        }
    }
}
