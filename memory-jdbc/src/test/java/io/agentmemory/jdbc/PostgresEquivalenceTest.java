package io.agentmemory.jdbc;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The jdbc backend on PostgreSQL behaves as the in-memory reference. */
class PostgresEquivalenceTest extends InMemoryEquivalenceContract {
    private static TestPostgres.Database database;

    @BeforeAll
    static void createDatabase() {
        database = TestPostgres.createDatabase("equivalence");
    }

    @AfterAll
    static void dropDatabase() {
        database.close();
    }

    @Override
    protected Memory open(MemoryContext context) {
        return JdbcMemory.open(
                JdbcSettings.builder().url(database.url()).poolSize(2).build(), context);
    }
}
