package io.agentmemory.core.config;

import io.agentmemory.ConfigurationException;
import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.Retention;
import io.agentmemory.TokenCounter;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.DecoratorFactory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.spi.MemoryPlugin;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a {@link Memory} from configuration, without Guice: the backend named by {@code memory.backend}, wrapped in
 * the decorators named by {@code memory.decorators}, each with its settings under {@code memory.<name>.}. The Guice
 * {@code MemoryModule} assembles through this class too.
 *
 * <p>Settings:
 *
 * <table>
 *   <caption>core settings</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>memory.backend</td><td>the backend's name</td><td>memory (in-memory)</td></tr>
 *   <tr><td>memory.decorators</td><td>comma-separated decorator names, from the backend outwards: the first wraps
 *       the backend, each next one wraps the previous</td><td>none</td></tr>
 *   <tr><td>memory.retention.max-messages</td><td>{@link Retention#maxMessages()}</td><td>none</td></tr>
 *   <tr><td>memory.retention.max-tokens</td><td>{@link Retention#maxTokens()}</td><td>none</td></tr>
 *   <tr><td>memory.retention.max-age</td><td>{@link Retention#maxAge()}: 30m, 24h, 7d or ISO-8601; at most
 *       {@link Retention#MAX_AGE}</td><td>none</td></tr>
 *   <tr><td>memory.retention.overflow.max-size</td><td>{@link Retention.Overflow#maxSize()}</td><td>none</td></tr>
 *   <tr><td>memory.retention.overflow.keep-fraction</td><td>{@link Retention.Overflow#keepFraction()}</td>
 *       <td>0.8</td></tr>
 *   <tr><td>memory.tokens.counter</td><td>heuristic, cl100k_base or o200k_base</td><td>heuristic</td></tr>
 * </table>
 *
 * <p>Every key must be known: a core key, or a key the selected backend or a selected decorator declares. An unknown
 * key fails with the closest known one as a suggestion. When {@link Builder#environment(Map) an environment} is given,
 * a variable named like a known key in upper case with {@code _} for {@code .} and {@code -}
 * ({@code MEMORY_RETENTION_MAX_MESSAGES}) overrides it. Secret values never appear in logs or errors.
 */
public final class Memories {
    public static final String BACKEND = "memory.backend";
    public static final String DECORATORS = "memory.decorators";
    public static final String MAX_MESSAGES = "memory.retention.max-messages";
    public static final String MAX_TOKENS = "memory.retention.max-tokens";
    public static final String MAX_AGE = "memory.retention.max-age";
    public static final String OVERFLOW_MAX_SIZE = "memory.retention.overflow.max-size";
    public static final String OVERFLOW_KEEP_FRACTION = "memory.retention.overflow.keep-fraction";
    public static final String TOKEN_COUNTER = "memory.tokens.counter";

    private static final Set<String> CORE_KEYS = Set.of(
            BACKEND,
            DECORATORS,
            MAX_MESSAGES,
            MAX_TOKENS,
            MAX_AGE,
            OVERFLOW_MAX_SIZE,
            OVERFLOW_KEEP_FRACTION,
            TOKEN_COUNTER);
    private static final Logger LOG = LoggerFactory.getLogger(Memories.class);

    private Memories() {}

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The value {@code key} takes in a memory built from {@code config} and {@code environment}: the environment's
     * variable for it ({@code memory.jdbc.url} is {@code MEMORY_JDBC_URL}) over the setting; empty if neither has it.
     */
    public static Optional<String> setting(Map<String, String> config, Map<String, String> environment, String key) {
        String fromEnvironment = environment.get(Settings.environmentName(key));
        return Optional.ofNullable(fromEnvironment != null ? fromEnvironment : config.get(key));
    }

    /** The memory {@code config} describes, with plugins found on the class path. */
    public static Memory fromConfig(Map<String, String> config) {
        return builder().config(config).build();
    }

    /** Builds a {@link Memory}. Not thread-safe; {@link #build()} may be called more than once. */
    public static final class Builder {
        private final Map<String, String> config = new LinkedHashMap<>();
        private Map<String, String> environment = Map.of();
        private PluginRegistry registry;
        private final List<BackendFactory> extraBackends = new ArrayList<>();
        private final List<DecoratorFactory> extraDecorators = new ArrayList<>();
        private Clock clock = Clock.systemUTC();
        private TokenCounter tokenCounter;
        private Retention retention;
        private EvictionListener evictionListener = EvictionListener.NONE;
        private final Map<Class<?>, Object> services = new HashMap<>();

        private Builder() {}

        /** Adds settings; keys start with {@code memory.}. */
        public Builder config(Map<String, String> settings) {
            settings.forEach(this::set);
            return this;
        }

        /** Adds the {@code memory.*} entries of {@code properties}; other entries are ignored. */
        public Builder config(Properties properties) {
            for (String name : properties.stringPropertyNames()) {
                if (name.startsWith("memory.")) {
                    set(name, properties.getProperty(name));
                }
            }
            return this;
        }

        /** Sets one setting. */
        public Builder set(String key, String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, () -> "the value of " + key);
            if (!key.startsWith("memory.")) {
                throw new ConfigurationException(
                        "setting '" + key + "' is not a memory setting; memory settings start with 'memory.'");
            }
            config.put(key, value);
            return this;
        }

        /** Selects the backend by name ({@code memory.backend}). */
        public Builder backend(String name) {
            return set(BACKEND, name);
        }

        /** Selects the decorators by name, from the backend outwards ({@code memory.decorators}). */
        public Builder decorators(String... names) {
            return set(DECORATORS, String.join(",", names));
        }

        /** Variables that override settings, usually {@code System.getenv()}; none by default. */
        public Builder environment(Map<String, String> environment) {
            this.environment = Map.copyOf(environment);
            return this;
        }

        /** The plugins to choose from; by default those {@link PluginRegistry#discover() found} on the class path. */
        public Builder plugins(List<? extends MemoryPlugin> plugins) {
            this.registry = PluginRegistry.of(plugins);
            return this;
        }

        /** The registry to choose from. */
        public Builder registry(PluginRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /** Adds a backend factory besides the plugins' ones. */
        public Builder backendFactory(BackendFactory factory) {
            extraBackends.add(Objects.requireNonNull(factory, "factory"));
            return this;
        }

        /** Adds a decorator factory besides the plugins' ones. */
        public Builder decoratorFactory(DecoratorFactory factory) {
            extraDecorators.add(Objects.requireNonNull(factory, "factory"));
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The token counter; overrides {@code memory.tokens.counter}. */
        public Builder tokenCounter(TokenCounter tokenCounter) {
            this.tokenCounter = Objects.requireNonNull(tokenCounter, "tokenCounter");
            return this;
        }

        /** The retention; overrides the {@code memory.retention.*} settings. */
        public Builder retention(Retention retention) {
            this.retention = Objects.requireNonNull(retention, "retention");
            return this;
        }

        public Builder evictionListener(EvictionListener evictionListener) {
            this.evictionListener = Objects.requireNonNull(evictionListener, "evictionListener");
            return this;
        }

        /** Makes {@code service} available to plugins as {@link MemoryContext#service(Class)}. */
        public <T> Builder service(Class<T> type, T service) {
            services.put(Objects.requireNonNull(type, "type"), Objects.requireNonNull(service, "service"));
            return this;
        }

        /**
         * The memory.
         *
         * @throws ConfigurationException if a name or setting is unknown or invalid
         */
        public Memory build() {
            PluginRegistry plugins =
                    (registry != null ? registry : PluginRegistry.discover()).with(extraBackends, extraDecorators);
            String backendName = setting(config, environment, BACKEND)
                    .orElse(InMemoryMemory.NAME)
                    .strip();
            BackendFactory backend = plugins.backend(backendName);
            String decoratorList = setting(config, environment, DECORATORS).orElse("");
            Map<String, DecoratorFactory> decorators = new LinkedHashMap<>();
            for (String name : decoratorList.split(",")) {
                String n = name.strip();
                if (!n.isEmpty() && decorators.put(n, plugins.decorator(n)) != null) {
                    throw new ConfigurationException(DECORATORS + " names '" + n + "' twice");
                }
            }

            Set<String> known = new TreeSet<>(CORE_KEYS);
            Set<String> secrets = new LinkedHashSet<>();
            backend.configKeys().forEach(k -> known.add("memory." + backendName + "." + k));
            backend.secretKeys().forEach(k -> secrets.add("memory." + backendName + "." + k));
            decorators.forEach((name, d) -> {
                d.configKeys().forEach(k -> known.add("memory." + name + "." + k));
                d.secretKeys().forEach(k -> secrets.add("memory." + name + "." + k));
            });
            Settings.checkKnown(
                    config.keySet(),
                    known,
                    "backend '" + backendName + "' and decorators " + decorators.keySet()
                            + " are selected; a setting of another backend or decorator is not used");
            Map<String, String> merged = new LinkedHashMap<>(config);
            for (String key : known) {
                String fromEnvironment = environment.get(Settings.environmentName(key));
                if (fromEnvironment != null) {
                    merged.put(key, fromEnvironment);
                }
            }
            Settings settings = new Settings(merged, secrets);

            MemoryContext context = new MemoryContext(
                    clock,
                    tokenCounter != null
                            ? tokenCounter
                            : settings.get(TOKEN_COUNTER)
                                    .map(name -> name.equals("heuristic")
                                            ? TokenCounters.heuristic()
                                            : TokenCounters.forEncoding(name))
                                    .orElseGet(TokenCounters::heuristic),
                    retention != null ? retention : retention(settings),
                    evictionListener,
                    services);
            for (Map.Entry<String, DecoratorFactory> d : decorators.entrySet()) {
                context = d.getValue().prepare(settings.under("memory." + d.getKey() + "."), context);
            }
            Memory memory = backend.create(settings.under("memory." + backendName + "."), context);
            if (memory == null) {
                throw new ConfigurationException(
                        "backend '" + backendName + "' (" + backend.getClass().getName() + ") created no memory");
            }
            try {
                for (Map.Entry<String, DecoratorFactory> d : decorators.entrySet()) {
                    Memory decorated =
                            d.getValue().decorate(memory, settings.under("memory." + d.getKey() + "."), context);
                    if (decorated == null) {
                        throw new ConfigurationException("decorator '" + d.getKey() + "' ("
                                + d.getValue().getClass().getName() + ") gave no memory");
                    }
                    memory = decorated;
                }
            } catch (RuntimeException e) {
                memory.close();
                throw e;
            }
            LOG.info(
                    "memory assembled: backend={} decorators={} retention={} tokenCounter={} settings={}",
                    backendName,
                    decorators.keySet(),
                    context.retention(),
                    context.tokenCounter().id(),
                    settings);
            return memory;
        }

        private static Retention retention(Settings settings) {
            Retention.Builder r = Retention.builder();
            settings.integer(MAX_MESSAGES, 1).ifPresent(r::maxMessages);
            settings.longValue(MAX_TOKENS, 1).ifPresent(r::maxTokens);
            settings.duration(MAX_AGE).ifPresent(r::maxAge);
            settings.integer(OVERFLOW_MAX_SIZE, 1)
                    .ifPresent(size -> r.overflow(
                            size, settings.decimal(OVERFLOW_KEEP_FRACTION).orElse(0.8)));
            if (settings.get(OVERFLOW_MAX_SIZE).isEmpty()
                    && settings.get(OVERFLOW_KEEP_FRACTION).isPresent()) {
                throw new ConfigurationException(OVERFLOW_KEEP_FRACTION + " is set without " + OVERFLOW_MAX_SIZE);
            }
            return r.build();
        }
    }
}
