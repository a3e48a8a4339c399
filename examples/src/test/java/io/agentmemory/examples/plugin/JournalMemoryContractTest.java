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
 * The journal backend as configured by default (every append forced to disk) passes the whole compatibility kit.
 * Each test gets a fresh directory; the memories of one test share it, so that the kit's reopening test sees the
 * files it wrote.
 */
class JournalMemoryContractTest extends MemoryStoreContract {
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
        return JournalMemory.open(directory, true, context);
    }

    /**
     * Each forced append costs a disk flush (about 3 ms here), so the kit's 8 x 5,000 appends would take minutes: the
     * kit's hook for slow backends shortens this run. {@link JournalMemoryNoFsyncContractTest} runs the full size.
     */
    @Override
    protected int appendsPerWriter() {
        return 500;
    }
}
