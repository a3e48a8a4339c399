package io.agentmemory.examples;

import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Retention;

/** The spec's shared memory: two agents handed one store see one conversation. */
public final class SharedMemoryExample {
    private SharedMemoryExample() {}

    public static void main(String[] args) {
        run(ExampleMemory.fromSystem(args));
    }

    /** Runs the example on {@code memories}. */
    static void run(ExampleMemory memories) {
        Out.title("Shared memory between two agents");
        try (Memory memory =
                memories.builder().retention(Retention.maxMessages(200)).build()) {
            MemoryStore shared = memory.session("acme", "report-q3");
            shared.clear(); // the store outlives the program: start empty, so that every run prints the same
            ScriptedAgent analyst = new ScriptedAgent("Analyst", shared, "You analyse data.", 4000);
            ScriptedAgent writer = new ScriptedAgent("Writer", shared, "You write reports.", 4000);
            ConversationExample.ask(analyst, "remember revenue grew 12% in Q3");
            ConversationExample.ask(writer, "Summarize what the analyst found");
            Out.messages(
                    "what the Writer reads of the Analyst's turns",
                    shared.history(
                            HistoryQuery.builder().metadata("agent", "Analyst").build()));
            Out.line("  both agents see " + shared.count() + " messages, one system prompt each agent found in place: "
                    + shared.history(HistoryQuery.builder().roles("system").build())
                            .size());
        }
    }
}
