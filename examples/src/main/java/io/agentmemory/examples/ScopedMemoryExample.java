package io.agentmemory.examples;

import io.agentmemory.Memory;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.scope.ScopedMemory;

/** The spec's scoped memory: isolated named scopes of one session over one backend. */
public final class ScopedMemoryExample {
    private ScopedMemoryExample() {}

    public static void main(String[] args) {
        run(ExampleMemory.fromSystem(args));
    }

    /** Runs the example on {@code memories}. */
    static void run(ExampleMemory memories) {
        Out.title("Scoped memory");
        try (Memory memory = memories.builder().build()) {
            ScopedMemory scoped = ScopedMemory.over(memory, SessionKey.of("acme", "support-desk"));
            // the store outlives the program: start empty, so that every run prints the same
            scoped.scopes().forEach(scope -> scoped.scope(scope).clear());
            scoped.add(Message.user("I was charged twice"), "user_123");
            scoped.add(Message.user("How do I reset my password?"), "user_456");
            scoped.add(Message.system("Refunds above 100 EUR need approval"), "system");
            Out.line("  scopes: " + scoped.scopes());
            for (String scope : scoped.scopes()) {
                Out.messages("scope '" + scope + "'", scoped.scope(scope).history());
            }
        }
    }
}
