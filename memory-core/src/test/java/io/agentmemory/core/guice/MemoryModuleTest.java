package io.agentmemory.core.guice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.ProvisionException;
import com.google.inject.name.Names;
import io.agentmemory.ConfigurationException;
import io.agentmemory.Memory;
import io.agentmemory.Message;
import io.agentmemory.TokenCounter;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.core.scope.ScopingMemory;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryModuleTest {

    @Test
    void aThreeLineModuleGivesAWorkingMemoryByBackendName() {
        Injector injector = Guice.createInjector(MemoryModule.fromConfig(Map.of("memory.backend", "memory")));
        Memory memory = injector.getInstance(Memory.class);
        memory.session("acme", "chat").add(Message.user("My name is Alice"));
        assertThat(injector.getInstance(Memory.class)).isSameAs(memory);
        assertThat(memory.session("acme", "chat").history())
                .extracting(Message::content)
                .containsExactly("My name is Alice");
        memory.close();
    }

    @Test
    void severalNamedMemoriesLiveInOneInjector() {
        Injector injector = Guice.createInjector(
                MemoryModule.builder().named("chat").backend("memory").build(),
                MemoryModule.builder()
                        .named("agents")
                        .decorators("scope")
                        .set("memory.scope.name", "planner")
                        .build());
        Memory chat = injector.getInstance(Key.get(Memory.class, Names.named("chat")));
        Memory agents = injector.getInstance(Key.get(Memory.class, Names.named("agents")));
        assertThat(chat).isInstanceOf(InMemoryMemory.class);
        assertThat(agents).isInstanceOf(ScopingMemory.class);
        chat.session("t", "s").add(Message.user("one"));
        assertThat(agents.session("t", "s").count()).isZero();
    }

    @Test
    void creatingTheModuleAndInjectorBuildsNothingUntilTheMemoryIsAskedFor() {
        // A misconfigured memory does not fail configure(): the error comes when the memory is provided.
        Injector injector = Guice.createInjector(MemoryModule.fromConfig(Map.of("memory.backend", "nosuch")));
        assertThatThrownBy(() -> injector.getInstance(Memory.class))
                .isInstanceOf(ProvisionException.class)
                .hasRootCauseInstanceOf(ConfigurationException.class)
                .hasMessageContaining("unknown backend 'nosuch'");
    }

    @Test
    void theBuilderReplacesTheDefaultTokenCounter() {
        TokenCounter fixed = new TokenCounter() {
            @Override
            public int count(Message message) {
                return 7;
            }

            @Override
            public String id() {
                return "fixed-7";
            }
        };
        Memory memory = Guice.createInjector(
                        MemoryModule.builder().tokenCounter(fixed).build())
                .getInstance(Memory.class);
        assertThat(memory.session("t", "s")
                        .add(Message.user("hello there"))
                        .tokenCount()
                        .orElseThrow()
                        .tokens())
                .isEqualTo(7);
    }

    @Test
    void twoUnnamedMemoriesInOneInjectorFailAtCreation() {
        assertThatThrownBy(() ->
                        Guice.createInjector(MemoryModule.fromConfig(Map.of()), MemoryModule.fromConfig(Map.of())))
                .isInstanceOf(CreationException.class);
    }
}
