package io.agentmemory.examples.redis;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.config.Memories;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The spec's Redis conversation memory ({@code RedisMemoryStore(redis_url, ttl_hours=24, max_messages=1000)}),
 * configured by name only: {@code memory.backend=redis}, the server in {@code memory.redis.url}, the TTL in
 * {@code memory.redis.ttl}, the cap in {@code memory.retention.max-messages}. Nothing here names a Redis class.
 *
 * <p>Two "processes" share the conversation: the first tells the bot a name and closes its memory; the second opens
 * a new memory from the same settings and the bot still knows the name, because the session lives in Redis (for 24
 * hours after its last write). At the end the session is deleted, so that every run starts afresh.
 *
 * <p>Run it against a local Redis ({@code redis-server} on 6379) or name another one:
 *
 * <pre>
 * mvn -q -Pdemo -pl examples -am package -Ddemo.main=io.agentmemory.examples.redis.RedisConversationExample
 * MEMORY_REDIS_URL=redis://cache:6379 MEMORY_REDIS_PASSWORD=... (same command)
 * </pre>
 *
 * Every setting can be overridden from the environment ({@code MEMORY_REDIS_URL}, {@code MEMORY_REDIS_TTL},
 * {@code MEMORY_RETENTION_MAX_MESSAGES}...).
 */
public final class RedisConversationExample {
    /** The settings of the spec's store, by name. */
    public static final Map<String, String> SETTINGS = Map.of(
            "memory.backend", "redis",
            "memory.redis.url", "redis://127.0.0.1:6379",
            "memory.redis.ttl", "24h",
            "memory.retention.max-messages", "1000");

    private static final SessionKey SESSION = SessionKey.of("acme", "alice-chat");
    private static final Pattern NAME = Pattern.compile("(?i)\\bmy name is (\\p{L}+)");

    private RedisConversationExample() {}

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        run(SETTINGS, System.getenv(), out);
    }

    /**
     * Runs the conversation with {@code settings}, overridden by {@code environment}.
     *
     * @return the session's history as the second process saw it, before deleting the session
     */
    public static List<Message> run(Map<String, String> settings, Map<String, String> environment, PrintStream out) {
        out.println();
        out.println("== Redis conversation memory (ttl 24h, max 1000 messages) ==========================");
        try (Memory first = open(settings, environment)) {
            MemoryStore store = first.session(SESSION);
            store.clear();
            store.add(Message.system("You are a helpful assistant. Reference previous messages when relevant."));
            turn(store, "My name is Alice", out);
        }
        out.println("  (the first process closed its memory; a second one opens it by the same settings)");
        try (Memory second = open(settings, environment)) {
            MemoryStore store = second.session(SESSION);
            turn(store, "What's my name?", out);
            List<Message> history = store.history();
            out.println("  stored history (" + history.size() + " messages, kept 24h after the last write):");
            for (Message m : history) {
                out.printf("    #%-3d %-9s %s%n", m.sequence(), m.role(), m.content());
            }
            out.println("  sessions of tenant acme: " + second.sessions("acme"));
            second.delete(SESSION);
            return history;
        }
    }

    private static Memory open(Map<String, String> settings, Map<String, String> environment) {
        return Memories.builder()
                .config(new LinkedHashMap<>(settings))
                .environment(environment)
                .build();
    }

    /** One turn of a rule-based bot that answers from its context window, as an LLM would from its prompt. */
    private static void turn(MemoryStore store, String userText, PrintStream out) {
        out.printf("  %-10s %s%n", "user:", userText);
        // The user's message and the window after it in one call: with the window cache, one script call in all.
        List<Message> window = store.addAndWindow(Message.user(userText), 4000).window();
        String answer = answer(userText, window);
        store.add(Message.assistant(answer));
        out.printf("  %-10s %s%n", "bot:", answer);
    }

    private static String answer(String text, List<Message> window) {
        Matcher introduced = NAME.matcher(text);
        if (introduced.find()) {
            return "Nice to meet you, " + introduced.group(1) + ".";
        }
        if (text.toLowerCase(Locale.ROOT).contains("what's my name")) {
            for (int i = window.size() - 1; i >= 0; i--) {
                Matcher known = NAME.matcher(window.get(i).content());
                if (window.get(i).role().equals(Message.USER) && known.find()) {
                    return "Your name is " + known.group(1) + ".";
                }
            }
            return "I don't know your name yet.";
        }
        return "I see " + window.size() + " messages in my context.";
    }
}
