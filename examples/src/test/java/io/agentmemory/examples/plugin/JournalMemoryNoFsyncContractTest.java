package io.agentmemory.examples.plugin;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MemoryStoreContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal backend with {@code memory.journal.fsync=false} passes the whole compatibility kit at its full size,
 * concurrency test included (8 writers x 5,000 appends).
 */
class JournalMemoryNoFsyncContractTest extends MemoryStoreContract {
    @TempDir
    static Path root;

    private Path directory;

    @Override
    protected Memory createMemory(MemoryContext context) {
        try {
            if (directory == null) {
                directory = Files.createTempDirectory(root, "test");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return JournalMemory.open(directory, false, context);
    }
}
