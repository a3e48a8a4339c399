package io.agentmemory.examples.plugin;

import io.agentmemory.ConfigurationException;
import io.agentmemory.Memory;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.spi.MemoryPlugin;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Contributes the {@code journal} backend ({@link JournalMemory}). Listed in
 * {@code META-INF/services/io.agentmemory.spi.MemoryPlugin}; being on the class path turns nothing on, the setting
 * {@code memory.backend=journal} does. Thread-safe (stateless).
 *
 * <table>
 *   <caption>settings</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>memory.journal.directory</td><td>where the journal files go; created if missing; one process owns
 *       it</td><td>required</td></tr>
 *   <tr><td>memory.journal.fsync</td><td>force every append to disk before it returns</td><td>true</td></tr>
 * </table>
 */
public final class JournalPlugin implements MemoryPlugin {
    /** The setting (under {@code memory.journal.}) naming the directory. */
    public static final String DIRECTORY = "directory";

    /** The setting (under {@code memory.journal.}) that turns forcing appends to disk on or off. */
    public static final String FSYNC = "fsync";

    @Override
    public List<BackendFactory> backends() {
        return List.of(new Factory());
    }

    /** Creates {@link JournalMemory} instances from settings. Thread-safe (stateless). */
    private static final class Factory implements BackendFactory {
        @Override
        public String name() {
            return JournalMemory.NAME;
        }

        @Override
        public Set<String> configKeys() {
            return Set.of(DIRECTORY, FSYNC);
        }

        @Override
        public Set<String> secretKeys() {
            return Set.of();
        }

        @Override
        public Memory create(Map<String, String> config, MemoryContext context) {
            return JournalMemory.open(directory(config), fsync(config), context);
        }

        private static Path directory(Map<String, String> config) {
            String value = config.getOrDefault(DIRECTORY, "").strip();
            if (value.isEmpty()) {
                throw new ConfigurationException(setting(DIRECTORY)
                        + " is not set; give the directory the journal files go in, e.g. /var/lib/agent/memory");
            }
            try {
                return Path.of(value);
            } catch (InvalidPathException e) {
                throw new ConfigurationException(setting(DIRECTORY) + " is not a valid path: " + e.getReason(), e);
            }
        }

        private static boolean fsync(Map<String, String> config) {
            String value = config.getOrDefault(FSYNC, "true").strip().toLowerCase(Locale.ROOT);
            return switch (value) {
                case "true", "" -> true;
                case "false" -> false;
                default ->
                    throw new ConfigurationException(
                            setting(FSYNC) + " must be true or false, not '" + config.get(FSYNC) + "'");
            };
        }

        private static String setting(String key) {
            return "memory." + JournalMemory.NAME + "." + key;
        }
    }
}
