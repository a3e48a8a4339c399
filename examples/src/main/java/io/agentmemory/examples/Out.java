package io.agentmemory.examples;

import io.agentmemory.Message;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Readable console output for the examples. Not thread-safe. */
final class Out {
    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    private Out() {}

    static void title(String text) {
        OUT.println();
        OUT.println("== " + text + " " + "=".repeat(Math.max(3, 74 - text.length())));
    }

    static void line(String text) {
        OUT.println(text);
    }

    static void turn(String who, String text) {
        OUT.printf("  %-10s %s%n", who + ":", text);
    }

    static void messages(String caption, List<Message> messages) {
        OUT.println("  " + caption + " (" + messages.size() + "):");
        for (Message m : messages) {
            String content = m.content().length() > 60 ? m.content().substring(0, 57) + "..." : m.content();
            if (!m.toolCalls().isEmpty()) {
                content = "(calls " + m.toolCalls().get(0).name() + " as "
                        + m.toolCalls().get(0).id() + ") " + content;
            }
            if (m.isToolResult()) {
                content = "(answers " + m.toolCallId().orElseThrow() + ") " + content;
            }
            String tokens = m.tokenCount().map(t -> t.tokens() + " tok").orElse("");
            OUT.printf("    #%-3d %-9s %-7s %s%n", m.sequence(), m.role(), tokens, content);
        }
    }
}
