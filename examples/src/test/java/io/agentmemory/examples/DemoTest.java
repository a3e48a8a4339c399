package io.agentmemory.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.examples.jdbc.PersistentConversationExample;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's demo, run twice on one H2 file database: the second run remembers the name the first was told, and
 * every pattern prints the same both times (and the same as on the in-memory backend).
 */
class DemoTest {
    private static final String FIRST_PATTERN = "== Conversation memory";

    @TempDir
    Path directory;

    @Test
    void runsTwiceOnTheH2FileStoreAndTheSecondRunRemembers() {
        ExampleMemory h2 = memory(new Properties());
        String first = demo(h2);
        String second = demo(h2);

        assertThat(first)
                .contains(
                        "agentmemory demo on the embedded H2 file store (jdbc backend)",
                        "  data: " + directory.toAbsolutePath(),
                        "Persistent conversation (run the demo twice: the second run remembers)",
                        "== run 1 (nothing remembered yet)",
                        "assistant: Nice to meet you, Alice.");
        assertThat(directory.resolve("agentmemory.mv.db")).isRegularFile();
        assertThat(second)
                .contains(
                        "== run 2 (remembering earlier runs)",
                        "assistant: Your name is Alice.",
                        "remembered name: Alice",
                        "stored messages: 5");
        assertThat(patterns(first)).isEqualTo(patterns(second));
        assertKeyLines(patterns(second));
    }

    @Test
    void theBackendIsChosenBySystemPropertiesAndPrintsTheSameOnEach() {
        Properties inMemory = new Properties();
        inMemory.setProperty("memory.backend", "memory");
        String onMemory = demo(memory(inMemory));
        assertThat(onMemory)
                .contains(
                        "agentmemory demo on the in-memory backend",
                        "Persistent conversation (in memory: forgotten when the demo ends)",
                        "== run 1");
        assertThat(onMemory).doesNotContain("  data: ");
        assertThat(directory).isEmptyDirectory();

        assertThat(patterns(onMemory)).isEqualTo(patterns(demo(memory(new Properties()))));
    }

    private ExampleMemory memory(Properties systemProperties) {
        return new ExampleMemory(
                PersistentConversationExample.settings(directory, systemProperties, Map.of()), Map.of());
    }

    private static String demo(ExampleMemory memory) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Demo.run(memory, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The output from the first pattern on: everything after the persistent conversation. */
    private static String patterns(String output) {
        assertThat(output).contains(FIRST_PATTERN);
        return output.substring(output.indexOf(FIRST_PATTERN));
    }

    private static void assertKeyLines(String patterns) {
        assertThat(patterns)
                .contains(
                        // conversation memory
                        "ConversationBot: Your name is Alice.",
                        "stored history (5):",
                        // shared memory
                        "Writer:    Summary of the notes: revenue grew 12% in Q3",
                        "both agents see 5 messages, one system prompt each agent found in place: 1",
                        // scoped memory
                        "scopes: [system, user_123, user_456]",
                        "scope 'user_456' (1):",
                        // token-limited memory
                        "evicted 1 message(s) for TOKENS",
                        "total tokens kept: 54 <= 60",
                        // sliding window
                        "retention maxMessages(10): stored 10, oldest is 'Message 15', newest 'Message 24'",
                        "read-time newest(10): stored 25, read 10 from 'Message 15' to 'Message 24'",
                        "offset 10 limit 5: 'Message 10' .. 'Message 14'",
                        // overflow handler
                        "overflow: archived 3 messages, #13..#15",
                        "stored 8, archived 15, total 23 of 23: none lost",
                        // context window
                        "window of 60 tokens (2):",
                        "history still holds 7 messages",
                        "Done.")
                .doesNotContain("CLEARED");
    }
}
