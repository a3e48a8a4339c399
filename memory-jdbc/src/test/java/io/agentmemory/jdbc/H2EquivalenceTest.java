package io.agentmemory.jdbc;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The jdbc backend on H2 behaves as the in-memory reference. */
class H2EquivalenceTest extends InMemoryEquivalenceContract {
    @TempDir
    static Path directory;

    @Override
    protected Memory open(MemoryContext context) {
        return JdbcMemory.open(
                JdbcSettings.builder()
                        .url("jdbc:h2:file:" + directory.resolve("memory"))
                        .build(),
                context);
    }

    @Override
    protected int conversations() {
        return 150;
    }
}
