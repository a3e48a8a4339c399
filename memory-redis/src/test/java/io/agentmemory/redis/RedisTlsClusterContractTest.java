package io.agentmemory.redis;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MemoryStoreContract;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/**
 * The whole contract kit on a 3-master Redis Cluster that speaks TLS only, to clients and between its nodes
 * ({@code tls-cluster yes}); the client is seeded with one node by a {@code rediss://} url, trusts the test CA
 * through a PEM {@code trust-store}, and verifies every node it discovers by its certificate.
 */
class RedisTlsClusterContractTest extends MemoryStoreContract {
    private static final String PREFIX = TestRedis.newPrefix("tck-tls-cluster");
    private static TestCluster cluster;

    private static synchronized TestCluster cluster() {
        if (cluster == null) {
            cluster = TestCluster.startTls("tls-cluster", TestTls.shared());
        }
        return cluster;
    }

    @Override
    protected Memory createMemory(MemoryContext context) {
        return RedisMemory.open(
                RedisSettings.fromConfig(Map.of(
                        RedisSettings.URL,
                        cluster().seedUrl(),
                        RedisSettings.CLUSTER,
                        "true",
                        RedisSettings.TRUST_STORE,
                        TestTls.shared().caPem.toString(),
                        RedisSettings.TRUST_STORE_TYPE,
                        "PEM",
                        RedisSettings.KEY_PREFIX,
                        PREFIX)),
                context);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }
}
