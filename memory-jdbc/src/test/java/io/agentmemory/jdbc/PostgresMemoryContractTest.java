package io.agentmemory.jdbc;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MemoryStoreContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole contract kit on PostgreSQL, in a database of its own whose commits do not wait for the disk (the kit commits
 * some 40,000 times; durability is the failure tests' subject).
 */
class PostgresMemoryContractTest extends MemoryStoreContract {
    private static TestPostgres.Database database;

    @BeforeAll
    static void createDatabase() {
        database = TestPostgres.createDatabase("contract", false);
    }

    @AfterAll
    static void dropDatabase() {
        database.close();
    }

    @Override
    protected Memory createMemory(MemoryContext context) {
        return JdbcMemory.open(
                JdbcSettings.builder().url(database.url()).poolSize(10).build(), context);
    }
}
