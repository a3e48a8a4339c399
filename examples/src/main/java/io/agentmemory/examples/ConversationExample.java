package io.agentmemory.examples;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Retention;

/**
 * The spec's conversation memory: the agent remembers the name it was told, from its memory alone (within one run;
 * {@code jdbc.PersistentConversationExample} remembers it across runs).
 */
public final class ConversationExample {
    private ConversationExample() {}

    public static void main(String[] args) {
        run(ExampleMemory.fromSystem(args));
    }

    /** Runs the example on {@code memories}. */
    static void run(ExampleMemory memories) {
        Out.title("Conversation memory");
        try (Memory memory =
                memories.builder().retention(Retention.maxMessages(50)).build()) {
            MemoryStore store = memory.session("acme", "conversation-example");
            store.clear(); // the store outlives the program: start empty, so that every run prints the same
            ScriptedAgent bot = new ScriptedAgent(
                    "ConversationBot",
                    store,
                    "You are a helpful assistant. Reference previous messages when relevant.",
                    4000);
            ask(bot, "My name is Alice");
            ask(bot, "What's my name?");
            Out.messages("stored history", store.history());
        }
    }

    static void ask(ScriptedAgent agent, String text) {
        Out.turn("user", text);
        Out.turn(agent.name(), agent.call(text));
    }
}
