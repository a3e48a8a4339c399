package io.agentmemory.examples;

import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny rule-based agent that stands in for an LLM: it answers from what its memory's context window holds, so
 * every memory call in the examples is real while no model is needed. Not thread-safe.
 */
final class ScriptedAgent {
    private static final Pattern NAME = Pattern.compile("(?i)\\bmy name is (\\p{L}+)");
    private static final Pattern REMEMBER = Pattern.compile("(?i)^remember (.+)$");

    private final String name;
    private final MemoryStore memory;
    private final int contextTokens;

    ScriptedAgent(String name, MemoryStore memory, String systemPrompt, int contextTokens) {
        this.name = name;
        this.memory = memory;
        this.contextTokens = contextTokens;
        if (memory.history(io.agentmemory.HistoryQuery.builder()
                        .roles(Message.SYSTEM)
                        .build())
                .isEmpty()) {
            memory.add(Message.system(systemPrompt));
        }
    }

    String name() {
        return name;
    }

    /**
     * Stores the user's message and reads the context window after it (one call), answers from the window and stores
     * the answer.
     */
    String call(String userText) {
        List<Message> window =
                memory.addAndWindow(Message.user(userText), contextTokens).window();
        String answer = answer(userText, window);
        memory.add(Message.builder(Message.ASSISTANT, answer)
                .metadata("agent", name)
                .build());
        return answer;
    }

    private String answer(String text, List<Message> window) {
        Matcher introduced = NAME.matcher(text);
        if (introduced.find()) {
            return "Nice to meet you, " + introduced.group(1) + ".";
        }
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.contains("what's my name") || lower.contains("what is my name")) {
            for (int i = window.size() - 1; i >= 0; i--) {
                Message m = window.get(i);
                Matcher known = NAME.matcher(m.content());
                if (m.role().equals(Message.USER) && known.find()) {
                    return "Your name is " + known.group(1) + ".";
                }
            }
            return "I don't know your name yet.";
        }
        if (lower.startsWith("summarize")) {
            List<String> notes = window.stream()
                    .filter(m ->
                            m.role().equals(Message.ASSISTANT) && m.content().startsWith("Noted: "))
                    .map(m -> m.content().substring("Noted: ".length()))
                    .toList();
            return notes.isEmpty() ? "Nothing to summarize yet." : "Summary of the notes: " + String.join("; ", notes);
        }
        Matcher remember = REMEMBER.matcher(text);
        if (remember.find()) {
            return "Noted: " + remember.group(1);
        }
        return "I see " + (window.size() - 1) + " earlier messages in my context.";
    }
}
