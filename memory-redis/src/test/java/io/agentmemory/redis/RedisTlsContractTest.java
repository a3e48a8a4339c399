package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MemoryStoreContract;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import redis.clients.jedis.Jedis;

/**
 * The whole contract kit over TLS: a standalone redis-server with no plain port, certificates of a private CA made
 * at test time ({@link TestTls}), the client trusting that CA through {@code trust-store} (PKCS12 with a password).
 */
class RedisTlsContractTest extends MemoryStoreContract {
    private static final String PREFIX = TestRedis.newPrefix("tck-tls");
    private static RedisProcess server;

    private static synchronized RedisProcess server() {
        if (server == null) {
            server = RedisProcess.startTls("tls", TestTls.shared(), "no", List.of());
        }
        return server;
    }

    @Override
    protected Memory createMemory(MemoryContext context) {
        return RedisMemory.open(
                TestTls.shared().settings(server().port()).keyPrefix(PREFIX).build(), context);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            try (Jedis jedis = server.client()) {
                TestRedis.deleteKeys(jedis, PREFIX);
                assertThat(TestRedis.countKeys(jedis, PREFIX)).isZero();
            } finally {
                server.close();
            }
        }
    }
}
