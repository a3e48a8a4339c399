package io.agentmemory.core.guice;

import com.google.inject.Key;
import com.google.inject.PrivateModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.OptionalBinder;
import com.google.inject.name.Names;
import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.TokenCounter;
import io.agentmemory.core.config.Memories;
import io.agentmemory.core.config.PluginRegistry;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.DecoratorFactory;
import io.agentmemory.spi.MemoryPlugin;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Binds a {@link Memory} assembled from configuration, as {@link Memories} does: the backend named by
 * {@code memory.backend}, the decorators of {@code memory.decorators}, their settings under {@code memory.<name>.}.
 *
 * <pre>{@code
 * Injector injector = Guice.createInjector(MemoryModule.fromConfig(Map.of("memory.backend", "memory")));
 * Memory memory = injector.getInstance(Memory.class);
 * }</pre>
 *
 * <p>Plugins found with {@link java.util.ServiceLoader} (when the module is created, never in {@code configure()})
 * and factories given to the builder enter {@link MapBinder}s of {@link BackendFactory} and {@link DecoratorFactory}
 * by name; the clock, token counter, eviction listener and Micrometer registry are {@link OptionalBinder}s whose
 * defaults the builder sets. The module is private: it
 * exposes only the {@link Memory}, unannotated or, with {@link Builder#named(String)}, as {@code @Named(name)}, so
 * several memories live in one injector. {@code configure()} does no I/O; the memory is created, once, when first
 * injected. Closing it is the application's job.
 */
public final class MemoryModule extends PrivateModule {
    private final Map<String, String> config;
    private final Map<String, String> environment;
    private final PluginRegistry registry;
    private final String name;
    private final Clock clock;
    private final TokenCounter tokenCounter;
    private final EvictionListener evictionListener;
    private final MeterRegistry meterRegistry;

    private MemoryModule(Builder b) {
        this.config = Map.copyOf(b.config);
        this.environment = b.environment;
        this.registry = (b.plugins != null ? PluginRegistry.of(b.plugins) : PluginRegistry.discover())
                .with(b.backends, b.decorators);
        this.name = b.name;
        this.clock = b.clock;
        this.tokenCounter = b.tokenCounter;
        this.evictionListener = b.evictionListener;
        this.meterRegistry = b.meterRegistry;
    }

    /** A module binding the memory {@code config} describes; environment variables do not apply. */
    public static MemoryModule fromConfig(Map<String, String> config) {
        return builder().config(config).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected void configure() {
        MapBinder<String, BackendFactory> backends =
                MapBinder.newMapBinder(binder(), String.class, BackendFactory.class);
        registry.backends().forEach((n, f) -> backends.addBinding(n).toInstance(f));
        MapBinder<String, DecoratorFactory> decorators =
                MapBinder.newMapBinder(binder(), String.class, DecoratorFactory.class);
        registry.decorators().forEach((n, f) -> decorators.addBinding(n).toInstance(f));
        OptionalBinder.newOptionalBinder(binder(), Clock.class).setDefault().toInstance(clock);
        OptionalBinder.newOptionalBinder(binder(), EvictionListener.class)
                .setDefault()
                .toInstance(evictionListener);
        OptionalBinder<TokenCounter> counter = OptionalBinder.newOptionalBinder(binder(), TokenCounter.class);
        if (tokenCounter != null) {
            counter.setDefault().toInstance(tokenCounter);
        }
        OptionalBinder<MeterRegistry> meters = OptionalBinder.newOptionalBinder(binder(), MeterRegistry.class);
        if (meterRegistry != null) {
            meters.setDefault().toInstance(meterRegistry);
        }
        if (name == null) {
            expose(Memory.class);
        } else {
            bind(Key.get(Memory.class, Names.named(name))).to(Memory.class);
            expose(Key.get(Memory.class, Names.named(name)));
        }
    }

    @Provides
    @Singleton
    Memory memory(
            Map<String, BackendFactory> backends,
            Map<String, DecoratorFactory> decorators,
            Clock clock,
            Optional<TokenCounter> tokenCounter,
            EvictionListener evictionListener,
            Optional<MeterRegistry> meterRegistry) {
        Memories.Builder builder = Memories.builder()
                .registry(PluginRegistry.of(List.of())
                        .with(List.copyOf(backends.values()), List.copyOf(decorators.values())))
                .config(config)
                .environment(environment)
                .clock(clock)
                .evictionListener(evictionListener);
        tokenCounter.ifPresent(builder::tokenCounter);
        meterRegistry.ifPresent(r -> builder.service(MeterRegistry.class, r));
        return builder.build();
    }

    @Override
    public String toString() {
        return "MemoryModule[" + (name == null ? "" : "@Named(" + name + ") ") + "backend="
                + config.getOrDefault(Memories.BACKEND, "memory") + "]";
    }

    /** Builds a {@link MemoryModule}. Not thread-safe. */
    public static final class Builder {
        private final Map<String, String> config = new LinkedHashMap<>();
        private Map<String, String> environment = Map.of();
        private List<? extends MemoryPlugin> plugins;
        private final java.util.ArrayList<BackendFactory> backends = new java.util.ArrayList<>();
        private final java.util.ArrayList<DecoratorFactory> decorators = new java.util.ArrayList<>();
        private String name;
        private Clock clock = Clock.systemUTC();
        private TokenCounter tokenCounter;
        private EvictionListener evictionListener = EvictionListener.NONE;
        private MeterRegistry meterRegistry;

        private Builder() {}

        /** Adds settings ({@code memory.*}); see {@link Memories}. */
        public Builder config(Map<String, String> settings) {
            config.putAll(settings);
            return this;
        }

        /** Sets one setting. */
        public Builder set(String key, String value) {
            config.put(key, value);
            return this;
        }

        /** Selects the backend ({@code memory.backend}). */
        public Builder backend(String name) {
            return set(Memories.BACKEND, name);
        }

        /** Selects the decorators, from the backend outwards ({@code memory.decorators}). */
        public Builder decorators(String... names) {
            return set(Memories.DECORATORS, String.join(",", names));
        }

        /** Variables that override settings, usually {@code System.getenv()}; none by default. */
        public Builder environment(Map<String, String> environment) {
            this.environment = Map.copyOf(environment);
            return this;
        }

        /** Uses exactly these plugins instead of those on the class path. */
        public Builder plugins(List<? extends MemoryPlugin> plugins) {
            this.plugins = List.copyOf(plugins);
            return this;
        }

        /** Adds a backend factory besides the plugins' ones. */
        public Builder backendFactory(BackendFactory factory) {
            backends.add(Objects.requireNonNull(factory, "factory"));
            return this;
        }

        /** Adds a decorator factory besides the plugins' ones. */
        public Builder decoratorFactory(DecoratorFactory factory) {
            decorators.add(Objects.requireNonNull(factory, "factory"));
            return this;
        }

        /** Exposes the memory as {@code @Named(name) Memory} instead of {@code Memory}. */
        public Builder named(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public Builder tokenCounter(TokenCounter tokenCounter) {
            this.tokenCounter = Objects.requireNonNull(tokenCounter, "tokenCounter");
            return this;
        }

        public Builder evictionListener(EvictionListener evictionListener) {
            this.evictionListener = Objects.requireNonNull(evictionListener, "evictionListener");
            return this;
        }

        /** The registry the {@code metrics} decorator records to. */
        public Builder meterRegistry(MeterRegistry meterRegistry) {
            this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry");
            return this;
        }

        public MemoryModule build() {
            return new MemoryModule(this);
        }
    }
}
