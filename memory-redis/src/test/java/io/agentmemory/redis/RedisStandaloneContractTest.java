package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MemoryStoreContract;
import org.junit.jupiter.api.AfterAll;

/** The whole contract kit on a standalone Redis (MEMORY_TEST_REDIS_URL, or an embedded redis-server). */
class RedisStandaloneContractTest extends MemoryStoreContract {
    private static final String PREFIX = TestRedis.newPrefix("tck");

    @Override
    protected Memory createMemory(MemoryContext context) {
        return RedisMemory.open(TestRedis.settings(PREFIX), context);
    }

    /** The kit deleted every session it wrote; what remains are index keys of tenants, deleted here. */
    @AfterAll
    static void deleteKeys() {
        TestRedis.deleteKeys(TestRedis.url(), PREFIX);
        try (redis.clients.jedis.Jedis jedis = new redis.clients.jedis.Jedis(java.net.URI.create(TestRedis.url()))) {
            assertThat(TestRedis.countKeys(jedis, PREFIX)).isZero();
        }
    }
}
