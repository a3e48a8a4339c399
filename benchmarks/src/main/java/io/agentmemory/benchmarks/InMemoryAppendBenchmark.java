package io.agentmemory.benchmarks;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.core.inmemory.InMemoryMemory;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The cost of one append to a session that holds {@code history} messages. A max-messages retention of the same size
 * keeps the session at that length, so every measured append also evicts the oldest message: the steady state of a
 * long conversation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class InMemoryAppendBenchmark {
    @Param({"20", "20000"})
    public int history;

    private Memory memory;
    private MemoryStore store;
    private Message message;

    @Setup
    public void setUp() {
        memory = InMemoryMemory.builder()
                .retention(Retention.maxMessages(history))
                .build();
        store = memory.session("bench", "append");
        for (int i = 0; i < history; i++) {
            store.add(Message.user("message " + i + " " + "x".repeat(180)));
        }
        message = Message.user("a user message of about two hundred characters " + "y".repeat(150));
    }

    @TearDown
    public void tearDown() {
        memory.close();
    }

    /** One append; a fresh message id each time, since an id already stored is not appended again. */
    @Benchmark
    public Message append() {
        return store.add(message.toBuilder().id(null).build());
    }
}
