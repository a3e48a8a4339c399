package io.agentmemory.examples.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The persistent conversation, run three times on one H2 file database: every later run remembers the first. */
class PersistentConversationExampleTest {
    @TempDir
    Path directory;

    @Test
    void theSecondRunRemembersTheFirst() throws Exception {
        Map<String, String> settings = PersistentConversationExample.settings(directory, new Properties(), Map.of());
        String first = run(settings);
        assertThat(first).contains("== run 1", "Nice to meet you, Alice.");
        assertThat(Files.list(directory))
                .anyMatch(f -> f.getFileName().toString().startsWith("agentmemory"));

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Optional<String> remembered = PersistentConversationExample.run(
                settings, Map.of(), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String second = bytes.toString(StandardCharsets.UTF_8);
        assertThat(remembered).contains("Alice");
        assertThat(second).contains("== run 2", "What's my name?", "Your name is Alice.", "remembered name: Alice");

        assertThat(run(settings)).contains("== run 3", "remembered name: Alice", "stored messages: 7");
    }

    /**
     * Runs go on remembering once retention removes the oldest turns: the introduction is pinned, and the run number
     * comes from the newest turn.
     */
    @Test
    void everyRunRemembersOnceRetentionRemovesTheOldestTurns() {
        Map<String, String> settings =
                new HashMap<>(PersistentConversationExample.settings(directory, new Properties(), Map.of()));
        settings.put("memory.retention.max-messages", "4");
        assertThat(run(settings)).contains("== run 1");
        for (int run = 2; run <= 6; run++) {
            // The system prompt and the introduction (pinned), and at most 4 others.
            assertThat(run(settings))
                    .contains(
                            "== run " + run,
                            "Your name is Alice.",
                            "remembered name: Alice",
                            "stored messages: " + (run == 2 ? 5 : 6));
        }
    }

    @Test
    void systemPropertiesOverrideTheSettings() {
        Properties overrides = new Properties();
        overrides.setProperty("memory.jdbc.url", "jdbc:h2:file:" + directory.resolve("elsewhere"));
        overrides.setProperty("unrelated.property", "ignored");
        Map<String, String> settings = PersistentConversationExample.settings(directory, overrides, Map.of());
        assertThat(settings).containsEntry("memory.jdbc.url", "jdbc:h2:file:" + directory.resolve("elsewhere"));
        assertThat(settings).doesNotContainKey("unrelated.property");
    }

    @Test
    void anotherBackendSelectedByPropertyOrEnvironmentGetsNoH2Url() {
        Properties inMemory = new Properties();
        inMemory.setProperty("memory.backend", "memory");
        assertThat(PersistentConversationExample.settings(directory, inMemory, Map.of()))
                .containsExactly(Map.entry("memory.backend", "memory"));
        assertThat(PersistentConversationExample.settings(
                        directory, new Properties(), Map.of("MEMORY_BACKEND", "memory")))
                .doesNotContainKey("memory.jdbc.url");
        assertThat(run(PersistentConversationExample.settings(directory, inMemory, Map.of())))
                .contains("InMemoryMemory", "== run 1");
        assertThat(directory).isEmptyDirectory();
    }

    private static String run(Map<String, String> settings) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PersistentConversationExample.run(settings, Map.of(), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
