package io.agentmemory.examples;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.core.tokens.TokenCounters;

/**
 * The spec's token-limited memory: the session keeps the newest messages whose token counts, computed once with a
 * real BPE tokenizer when each message was written, add up to at most the limit.
 */
public final class TokenLimitedExample {
    private TokenLimitedExample() {}

    public static void main(String[] args) {
        run(ExampleMemory.fromSystem(args));
    }

    /** Runs the example on {@code memories}. */
    static void run(ExampleMemory memories) {
        Out.title("Token-limited memory (max 60 tokens, cl100k_base)");
        try (Memory memory = memories.builder()
                .tokenCounter(TokenCounters.cl100kBase())
                .retention(Retention.maxTokens(60))
                .evictionListener((key, removed, cause) -> {
                    if (cause != RemovalCause.CLEARED) { // the reset below is not an eviction to show
                        Out.line("  evicted " + removed.size() + " message(s) for " + cause);
                    }
                })
                .build()) {
            MemoryStore store = memory.session("acme", "long-chat");
            store.clear(); // the store outlives the program: start empty, so that every run prints the same
            String[] lines = {
                "Let us plan the trip to Lisbon.",
                "Flights leave Tuesday at 9 and arrive at noon.",
                "Book the hotel near Alfama, three nights.",
                "Add a dinner reservation for Wednesday evening.",
                "And a museum visit on Thursday morning."
            };
            for (String line : lines) {
                Message stored = store.add(Message.user(line));
                Out.line("  added #" + stored.sequence() + " ("
                        + stored.tokenCount().orElseThrow().tokens() + " tokens)");
            }
            Out.messages("kept", store.history());
            long total = store.history().stream()
                    .mapToLong(m -> m.tokenCount().orElseThrow().tokens())
                    .sum();
            Out.line("  total tokens kept: " + total + " <= 60");
        }
    }
}
