package io.agentmemory.benchmarks;

import io.agentmemory.Message;
import java.util.List;
import java.util.Random;

/**
 * The prebuilt messages of the agent-turn benchmarks, shared by {@link AgentTurnBenchmark} and {@link FloorBenchmark}
 * so that both handle the very same objects: building messages is part of neither measured turn.
 *
 * <p>One turn is a user message of about {@value #USER_CHARS} characters and an assistant message of about
 * {@value #ASSISTANT_CHARS}, English-like words from a fixed vocabulary (so that a BPE counter sees ordinary text).
 * The pool holds {@code history + 1} turns, each message with its own id, and is used round-robin: a message comes
 * back after {@code 2 * (history + 1)} newer ones, long after a session of {@code history} messages evicted it. (The
 * in-memory store treats a message whose id it still holds as an idempotent retry and stores nothing, which would
 * falsify the measurement.) The contents repeat every {@value #VARIANTS} turns; that changes no cost measured. Not
 * thread-safe: each benchmark thread has its own pool.
 */
final class TurnMessages {
    static final int USER_CHARS = 200;
    static final int ASSISTANT_CHARS = 600;
    static final int VARIANTS = 32;

    private static final List<String> WORDS = List.of(
            "the",
            "agent",
            "memory",
            "session",
            "message",
            "please",
            "could",
            "you",
            "summarize",
            "order",
            "invoice",
            "customer",
            "account",
            "shipping",
            "address",
            "changed",
            "yesterday",
            "because",
            "weather",
            "delayed",
            "delivery",
            "refund",
            "policy",
            "allows",
            "thirty",
            "days",
            "after",
            "purchase",
            "receipt",
            "attached",
            "here",
            "is",
            "what",
            "I",
            "found",
            "in",
            "your",
            "history",
            "and",
            "a",
            "short",
            "plan",
            "for",
            "next",
            "steps",
            "first",
            "check",
            "status",
            "then",
            "contact",
            "support",
            "team",
            "with",
            "reference",
            "number",
            "would",
            "like",
            "to",
            "update",
            "my",
            "email",
            "thanks",
            "of",
            "course",
            "sure",
            "let",
            "me",
            "look",
            "into",
            "that",
            "it",
            "seems",
            "package",
            "was",
            "scanned",
            "at",
            "warehouse",
            "on",
            "Monday",
            "morning.");

    private final Message[] users;
    private final Message[] assistants;
    private int next;

    /** A pool for a session that keeps {@code history} messages. */
    TurnMessages(int history) {
        int turns = history + 1;
        Random random = new Random(42);
        String[] userTexts = new String[VARIANTS];
        String[] assistantTexts = new String[VARIANTS];
        for (int v = 0; v < VARIANTS; v++) {
            userTexts[v] = text(random, USER_CHARS);
            assistantTexts[v] = text(random, ASSISTANT_CHARS);
        }
        users = new Message[turns];
        assistants = new Message[turns];
        for (int i = 0; i < turns; i++) {
            users[i] = Message.user(userTexts[i % VARIANTS]);
            assistants[i] = Message.assistant(assistantTexts[i % VARIANTS]);
        }
    }

    /** The user message of the current turn. */
    Message user() {
        return users[next];
    }

    /** The assistant message of the current turn; the next call of {@link #user()} belongs to the next turn. */
    Message assistant() {
        Message m = assistants[next];
        next = next + 1 == assistants.length ? 0 : next + 1;
        return m;
    }

    /** Words until at least {@code chars} characters, without a trailing space. */
    private static String text(Random random, int chars) {
        StringBuilder sb = new StringBuilder(chars + 16);
        while (sb.length() < chars) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(WORDS.get(random.nextInt(WORDS.size())));
        }
        return sb.toString();
    }
}
