package io.agentmemory.jdbc;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MemoryStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The whole contract kit on an H2 file database. */
class H2MemoryContractTest extends MemoryStoreContract {
    @TempDir
    static Path directory;

    @Override
    protected Memory createMemory(MemoryContext context) {
        return JdbcMemory.open(
                JdbcSettings.builder()
                        .url("jdbc:h2:file:" + directory.resolve("memory"))
                        .poolSize(10)
                        .build(),
                context);
    }
}
