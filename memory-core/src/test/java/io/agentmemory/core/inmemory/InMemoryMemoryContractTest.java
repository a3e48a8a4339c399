package io.agentmemory.core.inmemory;

import io.agentmemory.Memory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MemoryStoreContract;

/** The in-memory backend passes the whole compatibility kit. */
class InMemoryMemoryContractTest extends MemoryStoreContract {
    @Override
    protected Memory createMemory(MemoryContext context) {
        return InMemoryMemory.create(context);
    }
}
