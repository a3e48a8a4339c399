package io.agentmemory.examples.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.inject.Guice;
import com.google.inject.ProvisionException;
import io.agentmemory.ConfigurationException;
import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.Retention;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.guice.MemoryModule;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Wrong journal settings fail at startup with a {@link ConfigurationException} that says what to fix. */
class JournalConfigurationTest {
    @TempDir
    Path dir;

    private Memories.Builder journal() {
        return Memories.builder().backend("journal");
    }

    @Test
    void aMisspelledSettingSuggestsTheRightOne() {
        assertThatThrownBy(() -> journal()
                        .set("memory.journal.directroy", dir.toString())
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("unknown setting 'memory.journal.directroy'")
                .hasMessageContaining("did you mean 'memory.journal.directory'?");
    }

    @Test
    void aMisspelledSettingFailsThroughGuiceToo() {
        Map<String, String> config = Map.of("memory.backend", "journal", "memory.journal.directroy", dir.toString());
        assertThatThrownBy(() ->
                        Guice.createInjector(MemoryModule.fromConfig(config)).getInstance(Memory.class))
                .isInstanceOf(ProvisionException.class)
                .rootCause()
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("did you mean 'memory.journal.directory'?");
    }

    @Test
    void theDirectoryIsRequired() {
        assertThatThrownBy(() -> journal().build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.journal.directory is not set");
        assertThatThrownBy(() -> journal().set("memory.journal.directory", " ").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.journal.directory is not set");
    }

    @Test
    void aFileIsNotADirectory() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertThatThrownBy(() -> journal()
                        .set("memory.journal.directory", file.toString())
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("cannot be created or opened");
    }

    @Test
    void fsyncIsTrueOrFalse() {
        for (String value : new String[] {"true", "FALSE", " false "}) {
            try (Memory memory = journal()
                    .set("memory.journal.directory", dir.toString())
                    .set("memory.journal.fsync", value)
                    .build()) {
                assertThat(memory.toString()).contains("fsync=" + value.strip().equalsIgnoreCase("true"));
            }
        }
        assertThatThrownBy(() -> journal()
                        .set("memory.journal.directory", dir.toString())
                        .set("memory.journal.fsync", "yes")
                        .build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("memory.journal.fsync must be true or false");
    }

    @Test
    void retentionIsRejectedSinceTheJournalDeclaresNone() {
        MemoryException e = catchThrowableOfType(
                ConfigurationException.class,
                () -> journal()
                        .set("memory.journal.directory", dir.toString())
                        .set(Memories.MAX_MESSAGES, "5")
                        .build());
        assertThat(e).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.CONFIGURATION);
        assertThat(e).hasMessageContaining("enforces no retention");
        MemoryContext context = new MemoryContext(
                Clock.systemUTC(), TokenCounters.heuristic(), Retention.maxTokens(100), EvictionListener.NONE);
        assertThatThrownBy(() -> JournalMemory.open(dir, true, context)).isInstanceOf(ConfigurationException.class);
    }

    @Test
    void aDirectoryLockedByAnotherOwnerIsRefused() throws Exception {
        try (FileChannel channel = FileChannel.open(
                        dir.resolve(JournalDirectory.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock held = channel.lock()) {
            assertThat(held.isValid()).isTrue();
            assertThatThrownBy(() -> journal()
                            .set("memory.journal.directory", dir.toString())
                            .build())
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("is in use by another process");
        }
        journal().set("memory.journal.directory", dir.toString()).build().close();
    }
}
