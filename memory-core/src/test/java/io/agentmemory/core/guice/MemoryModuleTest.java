package io.agentmemory.core.guice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.AbstractModule;
import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.ProvisionException;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.OptionalBinder;
import com.google.inject.name.Names;
import io.agentmemory.ConfigurationException;
import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.TokenCounter;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.core.metrics.MetricsMemory;
import io.agentmemory.core.scope.ScopingMemory;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.MemoryContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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
    void aNamedMemoryLivesBesideAnUnnamedOneAndBesideTheApplicationsOwnMemory() {
        Injector injector = Guice.createInjector(
                MemoryModule.builder().backend("memory").build(),
                MemoryModule.builder().named("chat").backend("memory").build());
        Memory plain = injector.getInstance(Memory.class);
        Memory chat = injector.getInstance(Key.get(Memory.class, Names.named("chat")));
        assertThat(chat).isNotSameAs(plain);
        plain.session("t", "s").add(Message.user("one"));
        assertThat(chat.session("t", "s").count()).isZero();
        plain.close();
        chat.close();

        Memory own = InMemoryMemory.builder().build();
        Injector withOwn = Guice.createInjector(
                new AbstractModule() {
                    @Override
                    protected void configure() {
                        bind(Memory.class).toInstance(own);
                    }
                },
                MemoryModule.builder().named("chat").backend("memory").build());
        assertThat(withOwn.getInstance(Memory.class)).isSameAs(own);
        Memory named = withOwn.getInstance(Key.get(Memory.class, Names.named("chat")));
        assertThat(named).isNotSameAs(own).isInstanceOf(InMemoryMemory.class);
        named.close();
        own.close();
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

    private static TokenCounter fixedCounter(int tokens) {
        return new TokenCounter() {
            @Override
            public int count(Message message) {
                return tokens;
            }

            @Override
            public String id() {
                return "fixed-" + tokens;
            }
        };
    }

    @Test
    void theApplicationsOwnBindingsOfTheSameTypesDoNotClashAndFillWhatTheBuilderLeavesOut() {
        Clock farFuture = Clock.fixed(Instant.parse("2100-01-01T00:00:00Z"), ZoneOffset.UTC);
        List<RemovalCause> removals = new CopyOnWriteArrayList<>();
        Injector injector = Guice.createInjector(
                new AbstractModule() {
                    @Override
                    protected void configure() {
                        bind(Clock.class).toInstance(farFuture);
                        bind(EvictionListener.class).toInstance((key, removed, cause) -> removals.add(cause));
                        bind(TokenCounter.class).toInstance(fixedCounter(3));
                        OptionalBinder.newOptionalBinder(binder(), MeterRegistry.class)
                                .setDefault()
                                .toInstance(new SimpleMeterRegistry());
                    }
                },
                MemoryModule.builder()
                        .decorators(MetricsMemory.NAME)
                        .set("memory.retention.max-age", "1d")
                        .tokenCounter(fixedCounter(7))
                        .meterRegistry(new SimpleMeterRegistry())
                        .build());
        Memory memory = injector.getInstance(Memory.class);
        MemoryStore store = memory.session("t", "s");
        // The builder's counter wins over the application's; the application's clock is used, since the builder was
        // given none: by that clock a message of today has long expired.
        assertThat(store.add(Message.user("hello")).tokenCount().orElseThrow().tokens())
                .isEqualTo(7);
        assertThat(store.count()).isZero();
        store.add(Message.user("again"));
        assertThat(removals).contains(RemovalCause.EXPIRED);
        memory.close();
    }

    @Test
    void aBackendTheApplicationBindsInItsOwnMapBinderIsSelectableByName() {
        BackendFactory mine = new BackendFactory() {
            @Override
            public String name() {
                return "mine";
            }

            @Override
            public Memory create(Map<String, String> config, MemoryContext context) {
                return InMemoryMemory.create(context);
            }
        };
        Injector injector = Guice.createInjector(
                new AbstractModule() {
                    @Override
                    protected void configure() {
                        MapBinder.newMapBinder(binder(), String.class, BackendFactory.class)
                                .addBinding("mine")
                                .toInstance(mine);
                    }
                },
                MemoryModule.builder().named("chat").backend("mine").build());
        Memory memory = injector.getInstance(Key.get(Memory.class, Names.named("chat")));
        memory.session("t", "s").add(Message.user("one"));
        assertThat(memory.session("t", "s").count()).isEqualTo(1);
        memory.close();
    }

    @Test
    void twoUnnamedMemoriesInOneInjectorFailAtCreation() {
        assertThatThrownBy(() ->
                        Guice.createInjector(MemoryModule.fromConfig(Map.of()), MemoryModule.fromConfig(Map.of())))
                .isInstanceOf(CreationException.class);
    }
}
