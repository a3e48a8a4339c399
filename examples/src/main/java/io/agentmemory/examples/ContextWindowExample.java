package io.agentmemory.examples;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.ToolCall;
import io.agentmemory.core.tokens.TokenCounters;
import java.util.List;

/**
 * The context window, computed at read time from stored token counts: the system prompt is pinned, the newest turns
 * that fit follow, and a tool call never loses its result (or the result its call).
 */
public final class ContextWindowExample {
    private ContextWindowExample() {}

    public static void main(String[] args) {
        run(ExampleMemory.fromSystem(args));
    }

    /** Runs the example on {@code memories}. */
    static void run(ExampleMemory memories) {
        Out.title("Context window (pinned system prompt, tool calls kept whole)");
        try (Memory memory =
                memories.builder().tokenCounter(TokenCounters.cl100kBase()).build()) {
            MemoryStore store = memory.session("acme", "weather");
            store.clear(); // the store outlives the program: start empty, so that every run prints the same
            store.add(Message.system("You are a weather assistant."));
            store.add(Message.user("Hi! I live in Oslo."));
            store.add(Message.assistant("Hello! How can I help?"));
            store.add(Message.user("Will it rain tomorrow?"));
            store.add(Message.assistant(
                    "", List.of(new ToolCall("call_1", "forecast", "{\"city\":\"Oslo\",\"day\":\"tomorrow\"}"))));
            store.add(Message.tool("call_1", "{\"rain_mm\": 4.2, \"chance\": 0.8}"));
            store.add(Message.assistant("Yes, likely: about 4 mm of rain."));
            for (int budget : new int[] {200, 80, 60}) {
                Out.messages("window of " + budget + " tokens", store.contextWindow(budget));
            }
            Out.line("  history still holds " + store.count() + " messages");
        }
    }
}
