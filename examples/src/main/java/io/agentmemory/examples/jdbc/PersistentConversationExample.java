package io.agentmemory.examples.jdbc;

import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.config.Memories;
import io.agentmemory.jdbc.JdbcMemory;
import io.agentmemory.jdbc.JdbcSettings;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The spec's conversation memory, persistent: the first run tells the agent "My name is Alice"; every later run asks
 * "What's my name?" and the agent answers from its memory alone, which lives in an H2 file database. Run it twice and
 * the second run remembers the first, and so does every run after it: the introduction is pinned, so the retention
 * (200 messages) that removes the oldest turns never removes it. Not thread-safe (a program).
 *
 * <p>The memory is configured by name only: {@code memory.backend=jdbc} and {@code memory.jdbc.url}. The default URL
 * is an H2 file database in the directory given as the first argument ({@code ./memory-data} under the working
 * directory when none is given). The same program runs on PostgreSQL by configuration alone, with system properties
 * or environment variables:
 *
 * <pre>
 * java -Dmemory.jdbc.url=jdbc:postgresql://localhost:5432/app -Dmemory.jdbc.user=app ... PersistentConversationExample
 * MEMORY_JDBC_URL=jdbc:postgresql://localhost:5432/app MEMORY_JDBC_USER=app MEMORY_JDBC_PASSWORD=... java ...
 * </pre>
 *
 * <p>{@link #settings} are also the settings of every pattern example and of the demo ({@code Demo}), which runs this
 * conversation first.
 */
public final class PersistentConversationExample {
    /** The conversation this example keeps. */
    public static final SessionKey CHAT = SessionKey.of("acme", "alice-chat");

    /** The directory of the H2 file database when none is given, under the working directory. */
    public static final String DIRECTORY = "memory-data";

    private static final Pattern NAME = Pattern.compile("(?i)\\bmy name is (\\p{L}+)");
    private static final int CONTEXT_TOKENS = 4000;
    private static final String MAX_MESSAGES = "200";
    private static final String URL = "memory." + JdbcMemory.NAME + "." + JdbcSettings.URL;

    private PersistentConversationExample() {}

    public static void main(String[] args) {
        run(
                settings(directory(args), System.getProperties(), System.getenv()),
                System.getenv(),
                new PrintStream(System.out, true, StandardCharsets.UTF_8));
    }

    /** The directory of the H2 file database: the first argument if there is one, else {@link #DIRECTORY}; absolute. */
    public static Path directory(String... args) {
        return Path.of(args.length > 0 ? args[0] : DIRECTORY).toAbsolutePath();
    }

    /**
     * The settings: the jdbc backend on an H2 file database under {@code directory}; any {@code memory.*} entry of
     * {@code overrides} (the system properties) replaces or adds one. The H2 URL is left out when {@code overrides}
     * or {@code environment} select another backend ({@code memory.backend=memory}, {@code MEMORY_BACKEND=redis}), as a
     * setting of a backend that is not selected fails the start.
     *
     * @param environment the variables the memory will be built with; here only {@code MEMORY_BACKEND} is read
     */
    public static Map<String, String> settings(Path directory, Properties overrides, Map<String, String> environment) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put(Memories.BACKEND, JdbcMemory.NAME);
        for (String name : overrides.stringPropertyNames()) {
            if (name.startsWith("memory.")) {
                settings.put(name, overrides.getProperty(name));
            }
        }
        String backend =
                Memories.setting(settings, environment, Memories.BACKEND).orElseThrow();
        if (backend.strip().equals(JdbcMemory.NAME)) {
            settings.putIfAbsent(URL, "jdbc:h2:file:" + directory.resolve("agentmemory"));
        }
        return settings;
    }

    /**
     * One run of the conversation, with a retention of 200 messages unless the settings or the environment give
     * another. It never clears the session: what earlier runs stored is what this run remembers.
     *
     * @param environment variables that override settings ({@code MEMORY_JDBC_URL}...)
     * @return the name the agent remembered, if it was asked
     */
    public static Optional<String> run(Map<String, String> settings, Map<String, String> environment, PrintStream out) {
        try (Memory memory = Memories.builder()
                .set(Memories.MAX_MESSAGES, MAX_MESSAGES) // a default: the settings and the environment may replace it
                .config(settings)
                .environment(environment)
                .build()) {
            out.println("memory: " + memory);
            MemoryStore chat = memory.session(CHAT);
            // The newest user message tells the last run (retention removes the oldest runs' messages).
            int run = 1
                    + chat
                            .history(HistoryQuery.builder()
                                    .roles(Message.USER)
                                    .limit(1)
                                    .build())
                            .stream()
                            .mapToInt(m -> ((Number) m.metadata().get("run")).intValue())
                            .sum();
            out.println("== run " + run + (run == 1 ? " (nothing remembered yet)" : " (remembering earlier runs)"));
            if (run == 1) {
                chat.add(Message.system("You are a helpful assistant. Reference previous messages when relevant."));
                turn(chat, run, "My name is Alice", true, out);
                out.println("Run this program again: the next run remembers the name.");
                return Optional.empty();
            }
            String answer = turn(chat, run, "What's my name?", false, out);
            Matcher named = Pattern.compile("Your name is (\\p{L}+)").matcher(answer);
            Optional<String> remembered = named.find() ? Optional.of(named.group(1)) : Optional.empty();
            out.println("remembered name: " + remembered.orElse("(none)"));
            out.println("stored messages: " + chat.count());
            return remembered;
        }
    }

    /**
     * Stores the user's message (pinned: a fact to keep) and reads the window after it, answers from the window alone,
     * stores the answer.
     */
    private static String turn(MemoryStore chat, int run, String text, boolean pinned, PrintStream out) {
        out.println("  user:      " + text);
        Message.Builder said = Message.builder(Message.USER, text).metadata("run", run);
        if (pinned) {
            said.pinned();
        }
        List<Message> window = chat.addAndWindow(said.build(), CONTEXT_TOKENS).window();
        String answer = answer(text, window);
        chat.add(Message.builder(Message.ASSISTANT, answer).metadata("run", run).build());
        out.println("  assistant: " + answer);
        return answer;
    }

    private static String answer(String text, List<Message> window) {
        Matcher introduced = NAME.matcher(text);
        if (introduced.find()) {
            return "Nice to meet you, " + introduced.group(1) + ".";
        }
        for (int i = window.size() - 1; i >= 0; i--) {
            Message m = window.get(i);
            Matcher known = NAME.matcher(m.content());
            if (m.role().equals(Message.USER) && known.find()) {
                return "Your name is " + known.group(1) + ".";
            }
        }
        return "I don't know your name yet.";
    }
}
