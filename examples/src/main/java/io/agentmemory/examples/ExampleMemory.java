package io.agentmemory.examples;

import io.agentmemory.core.config.Memories;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.examples.jdbc.PersistentConversationExample;
import io.agentmemory.jdbc.JdbcMemory;
import io.agentmemory.jdbc.JdbcSettings;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where the examples keep their memory: the settings of {@link PersistentConversationExample#settings}, by default
 * the jdbc backend on an embedded H2 file database under {@code ./memory-data} (no server, and what one run stores the
 * next run finds), with every {@code memory.*} system property replacing or adding a setting
 * ({@code -Dmemory.backend=memory} runs in memory, {@code -Dmemory.jdbc.url=jdbc:postgresql://...} on PostgreSQL),
 * and the environment's variables ({@code MEMORY_JDBC_URL}...) replacing both. Immutable and thread-safe.
 *
 * @param settings the {@code memory.*} settings
 * @param environment the variables that override them
 */
record ExampleMemory(Map<String, String> settings, Map<String, String> environment) {
    private static final String URL = "memory." + JdbcMemory.NAME + "." + JdbcSettings.URL;
    private static final String H2_FILE = "jdbc:h2:file:";

    ExampleMemory {
        settings = Map.copyOf(settings);
        environment = Map.copyOf(environment);
    }

    /**
     * The memory of this process: an H2 file database in the directory {@code args} name first (else
     * {@code ./memory-data}), then the system properties and the environment.
     */
    static ExampleMemory fromSystem(String... args) {
        Map<String, String> environment = System.getenv();
        return new ExampleMemory(
                PersistentConversationExample.settings(
                        PersistentConversationExample.directory(args), System.getProperties(), environment),
                environment);
    }

    /** A builder with these settings; an example adds its retention, token counter and listener. */
    Memories.Builder builder() {
        return Memories.builder().config(settings).environment(environment);
    }

    /** Which backend the memory is on, for people: never a password, user or URL parameter. */
    String description() {
        String backend = backend();
        if (backend.equals(InMemoryMemory.NAME)) {
            return "the in-memory backend";
        }
        if (!backend.equals(JdbcMemory.NAME)) {
            return "the '" + backend + "' backend";
        }
        return h2Directory().isPresent()
                ? "the embedded H2 file store (jdbc backend)"
                : "the jdbc backend at " + JdbcSettings.redact(url());
    }

    /** Whether what one run stores outlives the program: not on the in-memory backend or an in-memory H2. */
    boolean persistent() {
        String backend = backend();
        return !backend.equals(InMemoryMemory.NAME)
                && !(backend.equals(JdbcMemory.NAME) && url().startsWith("jdbc:h2:mem:"));
    }

    /** The directory of the H2 file database, when the memory is on the embedded H2 file store. */
    Optional<Path> h2Directory() {
        String url = backend().equals(JdbcMemory.NAME) ? JdbcSettings.redact(url()) : "";
        if (!url.startsWith(H2_FILE) || url.startsWith(H2_FILE + "~")) {
            return Optional.empty();
        }
        return Optional.ofNullable(
                Path.of(url.substring(H2_FILE.length())).toAbsolutePath().getParent());
    }

    private String backend() {
        return Memories.setting(settings, environment, Memories.BACKEND)
                .orElse(InMemoryMemory.NAME)
                .strip();
    }

    private String url() {
        return Memories.setting(settings, environment, URL).orElse("");
    }
}
