package io.agentmemory.examples;

import io.agentmemory.Message;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Readable console output for the examples. Not thread-safe. */
final class Out {
    private static PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    private Out() {}

    /** The stream the examples print to: standard output, unless {@link #printingTo} says otherwise. */
    static PrintStream stream() {
        return out;
    }

    /** Runs {@code body} printing to {@code target}, then prints where it printed before. */
    static void printingTo(PrintStream target, Runnable body) {
        PrintStream previous = out;
        out = target;
        try {
            body.run();
        } finally {
            out = previous;
        }
    }

    static void title(String text) {
        out.println();
        out.println("== " + text + " " + "=".repeat(Math.max(3, 74 - text.length())));
    }

    static void line(String text) {
        out.println(text);
    }

    static void turn(String who, String text) {
        out.printf("  %-10s %s%n", who + ":", text);
    }

    static void messages(String caption, List<Message> messages) {
        out.println("  " + caption + " (" + messages.size() + "):");
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
            out.printf("    #%-3d %-9s %-7s %s%n", m.sequence(), m.role(), tokens, content);
        }
    }
}
