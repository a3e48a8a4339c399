package io.agentmemory.examples;

import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import java.util.ArrayList;
import java.util.List;

/**
 * The spec's overflow handler: when the session holds more than 10 messages, the oldest are handed to the handler in
 * one batch (here an archive list) and the newest 80% are kept. The handler runs before the removal is final: if it
 * throws, the write fails and nothing is lost.
 */
public final class OverflowExample {
    private OverflowExample() {}

    public static void main(String[] args) {
        run(ExampleMemory.fromSystem(args));
    }

    /** Runs the example on {@code memories}. */
    static void run(ExampleMemory memories) {
        Out.title("Overflow handler (max 10, keep the newest 80%)");
        List<Message> archive = new ArrayList<>();
        EvictionListener overflowHandler = (key, removed, cause) -> {
            if (cause == RemovalCause.OVERFLOW) {
                archive.addAll(removed);
                Out.line("  overflow: archived " + removed.size() + " messages, #"
                        + removed.get(0).sequence() + "..#"
                        + removed.get(removed.size() - 1).sequence());
            }
        };
        try (Memory memory = memories.builder()
                .retention(Retention.builder().overflow(10, 0.8).build())
                .evictionListener(overflowHandler)
                .build()) {
            MemoryStore store = memory.session("acme", "busy-chat");
            store.clear(); // the store outlives the program: start empty, so that every run prints the same
            for (int i = 1; i <= 23; i++) {
                store.add(Message.user("Message " + i));
            }
            Out.line("  stored " + store.count() + ", archived " + archive.size() + ", total "
                    + (store.count() + archive.size()) + " of 23: none lost");
        }
    }
}
