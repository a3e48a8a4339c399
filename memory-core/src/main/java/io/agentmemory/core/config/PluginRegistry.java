package io.agentmemory.core.config;

import io.agentmemory.ConfigurationException;
import io.agentmemory.spi.BackendFactory;
import io.agentmemory.spi.DecoratorFactory;
import io.agentmemory.spi.MemoryPlugin;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The backend and decorator factories of a set of plugins, by name. Finding a plugin activates nothing. Two factories
 * of one kind with the same name fail, naming both; a plugin that fails to give its factories, or gives null, fails
 * naming it. Immutable and thread-safe.
 */
public final class PluginRegistry {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,62}");

    private final Map<String, BackendFactory> backends;
    private final Map<String, DecoratorFactory> decorators;

    private PluginRegistry(Map<String, BackendFactory> backends, Map<String, DecoratorFactory> decorators) {
        this.backends = Collections.unmodifiableMap(backends);
        this.decorators = Collections.unmodifiableMap(decorators);
    }

    /** The plugins listed in {@code META-INF/services/io.agentmemory.spi.MemoryPlugin} on the class path. */
    public static PluginRegistry discover() {
        return discover(Thread.currentThread().getContextClassLoader());
    }

    /** The plugins {@code loader} finds. */
    public static PluginRegistry discover(ClassLoader loader) {
        try {
            return of(ServiceLoader.load(MemoryPlugin.class, loader).stream()
                    .map(ServiceLoader.Provider::get)
                    .toList());
        } catch (ServiceConfigurationError e) {
            throw new ConfigurationException("a memory plugin could not be loaded: " + e.getMessage(), e);
        }
    }

    /** The factories of exactly these plugins. */
    public static PluginRegistry of(List<? extends MemoryPlugin> plugins) {
        Map<String, BackendFactory> backends = new TreeMap<>();
        Map<String, DecoratorFactory> decorators = new TreeMap<>();
        for (MemoryPlugin plugin : plugins) {
            add("backend", backends, factories(plugin, "backends", plugin::backends), BackendFactory::name);
            add("decorator", decorators, factories(plugin, "decorators", plugin::decorators), DecoratorFactory::name);
        }
        return new PluginRegistry(backends, decorators);
    }

    /** What {@code list} answers, or a {@link ConfigurationException} naming the plugin if it fails or holds null. */
    private static <F> List<F> factories(MemoryPlugin plugin, String kind, Supplier<List<F>> list) {
        List<F> factories;
        try {
            factories = list.get();
        } catch (RuntimeException e) {
            throw new ConfigurationException(
                    "memory plugin " + plugin.getClass().getName() + " failed to give its " + kind + ": " + e, e);
        }
        if (factories == null || factories.stream().anyMatch(Objects::isNull)) {
            throw new ConfigurationException(
                    "memory plugin " + plugin.getClass().getName() + " gave "
                            + (factories == null ? "null" : "a null factory") + " for its " + kind
                            + "; a plugin gives a list of factories, empty for none");
        }
        return factories;
    }

    /** This registry plus the given factories, with the same duplicate rule. */
    public PluginRegistry with(List<BackendFactory> moreBackends, List<DecoratorFactory> moreDecorators) {
        Map<String, BackendFactory> b = new TreeMap<>(backends);
        Map<String, DecoratorFactory> d = new TreeMap<>(decorators);
        add("backend", b, moreBackends, BackendFactory::name);
        add("decorator", d, moreDecorators, DecoratorFactory::name);
        return new PluginRegistry(b, d);
    }

    private static <F> void add(String kind, Map<String, F> into, List<F> factories, Function<F, String> name) {
        for (F factory : factories) {
            String n = name.apply(factory);
            if (n == null || !NAME.matcher(n).matches()) {
                throw new ConfigurationException(
                        kind + " factory " + factory.getClass().getName() + " has the name '" + n
                                + "'; names are lower case letters, digits and '-', starting with a letter");
            }
            F previous = into.putIfAbsent(n, factory);
            if (previous != null) {
                throw new ConfigurationException("two " + kind + "s are named '" + n + "': "
                        + previous.getClass().getName() + " and "
                        + factory.getClass().getName()
                        + "; remove one of their plugins from the class path");
            }
        }
    }

    /** The backend factories by name, sorted. */
    public Map<String, BackendFactory> backends() {
        return backends;
    }

    /** The decorator factories by name, sorted. */
    public Map<String, DecoratorFactory> decorators() {
        return decorators;
    }

    /**
     * The backend named {@code name}.
     *
     * @throws ConfigurationException naming the backends found
     */
    public BackendFactory backend(String name) {
        BackendFactory f = backends.get(name);
        if (f == null) {
            throw new ConfigurationException("unknown backend '" + name + "'; the backends found are "
                    + backends.keySet() + "; add the module that provides it to the class path");
        }
        return f;
    }

    /**
     * The decorator named {@code name}.
     *
     * @throws ConfigurationException naming the decorators found
     */
    public DecoratorFactory decorator(String name) {
        DecoratorFactory f = decorators.get(name);
        if (f == null) {
            throw new ConfigurationException(
                    "unknown decorator '" + name + "'; the decorators found are " + decorators.keySet());
        }
        return f;
    }
}
