package io.agentmemory.core.guice;

import com.google.inject.Binding;
import com.google.inject.BindingAnnotation;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.PrivateModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.TypeLiteral;
import com.google.inject.multibindings.MapBinder;
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
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.time.Clock;
import java.util.ArrayList;
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
 * by name, under a qualifier of the module's own; the factories of an application's own unqualified
 * {@code MapBinder<String, BackendFactory>} (or {@code DecoratorFactory}) join them. The clock, token counter,
 * eviction listener and Micrometer registry are those given to the builder; for each one the builder is not given,
 * the injector's binding of the type ({@link Clock}, {@link TokenCounter}, {@link EvictionListener},
 * {@link MeterRegistry}) if the application has one, else the default (the system clock in UTC, the counter of
 * {@code memory.tokens.counter}, no listener, no registry). The module is private and binds no key an application
 * may bind itself: it exposes only the {@link Memory}, unannotated or, with {@link Builder#named(String)}, as
 * {@code @Named(name)}, so several memories live in one injector. {@code configure()} does no I/O; the memory is
 * created, once, when first injected. Closing it is the application's job.
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

    /** Qualifies this module's own bindings, so that they never clash with an application's bindings of a type. */
    @BindingAnnotation
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.PARAMETER, ElementType.METHOD, ElementType.FIELD})
    @interface Own {}

    @Override
    protected void configure() {
        MapBinder<String, BackendFactory> backends =
                MapBinder.newMapBinder(binder(), String.class, BackendFactory.class, Own.class);
        registry.backends().forEach((n, f) -> backends.addBinding(n).toInstance(f));
        MapBinder<String, DecoratorFactory> decorators =
                MapBinder.newMapBinder(binder(), String.class, DecoratorFactory.class, Own.class);
        registry.decorators().forEach((n, f) -> decorators.addBinding(n).toInstance(f));
        // The memory is bound under this module's own key inside it, so that no binding of the application's (its
        // own Memory, or another module's unnamed one) clashes with it; only the exposed key leaves the module.
        Key<Memory> exposed = name == null ? Key.get(Memory.class) : Key.get(Memory.class, Names.named(name));
        bind(exposed).to(Key.get(Memory.class, Own.class));
        expose(exposed);
    }

    @Provides
    @Singleton
    @Own
    Memory memory(
            Injector injector,
            @Own Map<String, BackendFactory> backends,
            @Own Map<String, DecoratorFactory> decorators) {
        List<BackendFactory> allBackends = new ArrayList<>(backends.values());
        bound(injector, Key.get(new TypeLiteral<Map<String, BackendFactory>>() {}))
                .ifPresent(m -> allBackends.addAll(m.values()));
        List<DecoratorFactory> allDecorators = new ArrayList<>(decorators.values());
        bound(injector, Key.get(new TypeLiteral<Map<String, DecoratorFactory>>() {}))
                .ifPresent(m -> allDecorators.addAll(m.values()));
        Memories.Builder builder = Memories.builder()
                .registry(PluginRegistry.of(List.of()).with(allBackends, allDecorators))
                .config(config)
                .environment(environment)
                .clock(
                        clock != null
                                ? clock
                                : bound(injector, Key.get(Clock.class)).orElseGet(Clock::systemUTC))
                .evictionListener(
                        evictionListener != null
                                ? evictionListener
                                : bound(injector, Key.get(EvictionListener.class))
                                        .orElse(EvictionListener.NONE));
        Optional.ofNullable(tokenCounter)
                .or(() -> bound(injector, Key.get(TokenCounter.class)))
                .ifPresent(builder::tokenCounter);
        Optional.ofNullable(meterRegistry)
                .or(() -> bound(injector, Key.get(MeterRegistry.class)))
                .ifPresent(r -> builder.service(MeterRegistry.class, r));
        return builder.build();
    }

    /** The instance of {@code key} if the application binds it. */
    private static <T> Optional<T> bound(Injector injector, Key<T> key) {
        Binding<T> binding = injector.getExistingBinding(key);
        return binding == null
                ? Optional.empty()
                : Optional.ofNullable(binding.getProvider().get());
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
        private Clock clock;
        private TokenCounter tokenCounter;
        private EvictionListener evictionListener;
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

        /** The clock; by default the injector's {@link Clock} if the application binds one, else the system clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The token counter; by default the injector's {@link TokenCounter} if the application binds one, else the
         * counter of {@code memory.tokens.counter}.
         */
        public Builder tokenCounter(TokenCounter tokenCounter) {
            this.tokenCounter = Objects.requireNonNull(tokenCounter, "tokenCounter");
            return this;
        }

        /** The eviction listener; by default the injector's {@link EvictionListener} if the application binds one. */
        public Builder evictionListener(EvictionListener evictionListener) {
            this.evictionListener = Objects.requireNonNull(evictionListener, "evictionListener");
            return this;
        }

        /**
         * The registry the {@code metrics} decorator records to; by default the injector's {@link MeterRegistry} if
         * the application binds one.
         */
        public Builder meterRegistry(MeterRegistry meterRegistry) {
            this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry");
            return this;
        }

        public MemoryModule build() {
            return new MemoryModule(this);
        }
    }
}
