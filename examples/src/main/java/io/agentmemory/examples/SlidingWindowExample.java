package io.agentmemory.examples;

import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;

/**
 * The spec's sliding-window memory, two ways: a retention of the newest 10 messages (older ones are removed), or a
 * read of the newest 10 while the full history stays.
 */
public final class SlidingWindowExample {
    private SlidingWindowExample() {}

    public static void main(String[] args) {
        run(ExampleMemory.fromSystem(args));
    }

    /** Runs the example on {@code memories}. */
    static void run(ExampleMemory memories) {
        Out.title("Sliding-window memory (window of 10)");
        try (Memory memory =
                memories.builder().retention(Retention.maxMessages(10)).build()) {
            MemoryStore store = memory.session("acme", "ticker-retained");
            store.clear(); // the store outlives the program: start empty, so that every run prints the same
            for (int i = 0; i < 25; i++) {
                store.add(Message.user("Message " + i));
            }
            Out.line("  retention maxMessages(10): stored " + store.count() + ", oldest is '"
                    + store.history().get(0).content() + "', newest '"
                    + store.history().get(9).content() + "'");
        }
        try (Memory memory = memories.builder().build()) {
            MemoryStore store = memory.session("acme", "ticker-full"); // not the session above: that one keeps 10
            store.clear(); // the store outlives the program: start empty, so that every run prints the same
            for (int i = 0; i < 25; i++) {
                store.add(Message.user("Message " + i));
            }
            var window = store.history(HistoryQuery.newest(10));
            Out.line("  read-time newest(10): stored " + store.count() + ", read " + window.size() + " from '"
                    + window.get(0).content() + "' to '" + window.get(9).content() + "'");
            var page = store.history(HistoryQuery.builder().offset(10).limit(5).build());
            Out.line("  the page before it, offset 10 limit 5: '" + page.get(0).content() + "' .. '"
                    + page.get(4).content() + "'");
        }
    }
}
