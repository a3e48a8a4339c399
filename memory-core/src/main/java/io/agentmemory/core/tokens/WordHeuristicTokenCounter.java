package io.agentmemory.core.tokens;

import io.agentmemory.Message;
import io.agentmemory.TokenCounter;
import io.agentmemory.ToolCall;

/** The spec's estimate of 1.3 tokens per word; see {@link TokenCounters#heuristic()}. Thread-safe (stateless). */
final class WordHeuristicTokenCounter implements TokenCounter {
    static final String ID = "heuristic-words-1.3";

    @Override
    public int count(Message message) {
        long n = estimate(message.content());
        for (ToolCall call : message.toolCalls()) {
            n += estimate(call.name()) + estimate(call.arguments());
        }
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    /** {@code ceil(1.3 × words)} in exact integer arithmetic (as a double, 10 × 1.3 would round up to 14). */
    static long estimate(String text) {
        return (words(text) * 13 + 9) / 10;
    }

    /** The number of words as Python's {@code str.split()} finds them. */
    static long words(String text) {
        long words = 0;
        boolean inWord = false;
        for (int i = 0; i < text.length(); i++) {
            // Every white-space character is in the BMP, so a surrogate is never one: chars suffice.
            boolean space = isSpace(text.charAt(i));
            if (!space && !inWord) {
                words++;
            }
            inWord = !space;
        }
        return words;
    }

    /** Python's {@code str.isspace()} for one character: Java's white space plus the no-break spaces and NEL. */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String toString() {
        return ID;
    }
}
