package io.agentmemory.examples.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import io.agentmemory.Capability;
import io.agentmemory.ConfigurationException;
import io.agentmemory.Memory;
import io.agentmemory.Message;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.config.PluginRegistry;
import io.agentmemory.core.guice.MemoryModule;
import io.agentmemory.spi.BackendFactory;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal backend is found by its name alone, through the service file, {@link Memories} and Guice. */
class JournalDiscoveryTest {
    @TempDir
    Path dir;

    @Test
    void theServiceFileListsThePluginBesideTheCoreOne() {
        Map<String, BackendFactory> backends = PluginRegistry.discover().backends();
        assertThat(backends).containsKeys("journal", "memory");
        BackendFactory journal = backends.get("journal");
        assertThat(journal.configKeys()).containsExactlyInAnyOrder("directory", "fsync");
        assertThat(journal.secretKeys()).isEmpty();
    }

    @Test
    void memoriesBuildsTheJournalByName() {
        try (Memory memory = Memories.builder()
                .backend("journal")
                .set("memory.journal.directory", dir.toString())
                .build()) {
            assertThat(memory).isInstanceOf(JournalMemory.class);
            assertThat(memory.capabilities())
                    .containsExactlyInAnyOrder(
                            Capability.METADATA_FILTER,
                            Capability.TIME_RANGE_FILTER,
                            Capability.SESSION_LISTING,
                            Capability.PERSISTENT);
            memory.session("acme", "chat").add(Message.user("My name is Alice"));
            assertThat(memory.session("acme", "chat").history())
                    .extracting(Message::content)
                    .containsExactly("My name is Alice");
        }
    }

    @Test
    void memoriesTakesTheSettingsFromTheEnvironmentToo() {
        try (Memory memory = Memories.builder()
                .environment(Map.of("MEMORY_BACKEND", "journal", "MEMORY_JOURNAL_DIRECTORY", dir.toString()))
                .build()) {
            assertThat(memory).isInstanceOf(JournalMemory.class);
        }
    }

    /** What an application writes: its own module installs the memory module. */
    static final class AppModule extends AbstractModule {
        private final Path dir;

        AppModule(Path dir) {
            this.dir = dir;
        }

        @Override
        protected void configure() {
            install(MemoryModule.fromConfig(
                    Map.of("memory.backend", "journal", "memory.journal.directory", dir.toString())));
        }
    }

    @Test
    void aThreeLineUserModuleGetsTheJournalThroughGuice() {
        Injector injector = Guice.createInjector(new AppModule(dir));
        Memory memory = injector.getInstance(Memory.class);
        try (memory) {
            assertThat(memory).isInstanceOf(JournalMemory.class);
            assertThat(injector.getInstance(Memory.class)).isSameAs(memory);
            memory.session("acme", "chat").add(Message.user("hello"));
        }
        try (Memory reopened = Memories.builder()
                .backend("journal")
                .set("memory.journal.directory", dir.toString())
                .build()) {
            assertThat(reopened.session("acme", "chat").history())
                    .extracting(Message::content)
                    .containsExactly("hello");
        }
    }

    @Test
    void aMisspelledBackendNameListsTheJournal() {
        assertThatThrownBy(() -> Memories.builder().backend("jornal").build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("unknown backend 'jornal'")
                .hasMessageContaining("journal");
    }
}
