package io.agentmemory.core.decorator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.agentmemory.Added;
import io.agentmemory.Capability;
import io.agentmemory.ErrorCode;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.core.metrics.MetricsMemory;
import io.agentmemory.core.scope.ScopingMemory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Proves that no method of {@link Memory} or {@link MemoryStore} can slip past a decorator: the forwarding bases
 * override and forward every method, default ones included, and every decorator of memory-core overrides exactly the
 * methods listed for it below and inherits the forwarding of all others. Modelled on Trino's
 * {@code InterfaceTestUtils}.
 */
class ForwardingCompletenessTest {
    private static final String SCOPE = "ScopingMemory";
    private static final String METRICS = "MetricsMemory";

    /**
     * Every decorator of memory-core, by name. A new decorator must be added here, and to the override tables below;
     * {@link #everyForwardingClassOfMemoryCoreIsAListedDecorator} fails until it is.
     */
    private static final Map<String, Function<Memory, Memory>> DECORATORS = Map.of(
            SCOPE, memory -> ScopingMemory.of(memory, "completeness"),
            METRICS, memory -> MetricsMemory.wrap(memory, new SimpleMeterRegistry(), "completeness"));

    /**
     * For each method of {@link Memory}, the decorators whose memory class overrides it on purpose; every other
     * decorator inherits {@link ForwardingMemory}'s forwarding.
     */
    private static final Map<String, Set<String>> MEMORY_OVERRIDES = Map.of(
            "session(SessionKey)", Set.of(SCOPE, METRICS), // wrap each store
            "session(String,String)", Set.of(), // ForwardingMemory routes it through session(SessionKey)
            "sessions(String)", Set.of(SCOPE, METRICS), // scope: only its own keys, unmapped; metrics: timed
            "delete(SessionKey)", Set.of(SCOPE, METRICS), // scope: maps the key; metrics: timed
            "capabilities()", Set.of(),
            "close()", Set.of());

    /**
     * For each method of {@link MemoryStore}, the decorators whose store class overrides it on purpose; every other
     * decorator's store inherits {@link ForwardingMemoryStore}'s forwarding.
     */
    private static final Map<String, Set<String>> STORE_OVERRIDES = Map.of(
            "key()", Set.of(SCOPE), // the caller's key, not the scoped one
            "add(Message)", Set.of(METRICS),
            "addAll(List)", Set.of(METRICS),
            "addAndWindow(Message,int)", Set.of(METRICS),
            "history(HistoryQuery)", Set.of(METRICS),
            "history()", Set.of(METRICS),
            "contextWindow(int)", Set.of(METRICS),
            "count()", Set.of(METRICS),
            "clear()", Set.of(METRICS));

    /**
     * Methods that reach the same data by two doors. ForwardingMemoryStore forwards each door to the delegate's
     * same door, so a decorator that overrides one door and not the other is bypassed through the other one (an
     * encrypting {@code add} with a forwarding {@code addAll} would store plaintext). A decorator overrides all
     * methods of a group or none.
     */
    private static final List<Set<String>> STORE_GROUPS = List.of(
            Set.of("add(Message)", "addAll(List)", "addAndWindow(Message,int)"),
            Set.of("history(HistoryQuery)", "history()"));

    /**
     * Default methods of {@link Memory} that {@link ForwardingMemory} deliberately routes through another method of
     * {@code this} rather than to the delegate's same method, so that a decorator overriding the other method covers
     * both. They are checked by {@link #sessionByTenantAndIdIsRoutedThroughSessionByKey}.
     */
    private static final Set<String> ROUTED_THROUGH_THIS = Set.of("session(String,String)");

    /**
     * Default methods of {@link MemoryStore} that {@link ForwardingMemoryStore} routes through another method of
     * {@code this}: {@code history()} through {@code history(HistoryQuery)} (checked by {@code
     * ForwardingMemoryStoreTest}), and {@code addAndWindow}, which forwards unless a decorator overrides {@code add}
     * or {@code contextWindow} alone (checked below).
     */
    private static final Set<String> STORE_ROUTED_THROUGH_THIS = Set.of("history()");

    // ----------------------------------------------------------------------------------------------------------------
    // (a) The forwarding bases.

    @Test
    void forwardingMemoryDeclaresEveryMethodOfMemory() {
        assertDeclaresEveryMethod(Memory.class, ForwardingMemory.class);
    }

    @Test
    void forwardingMemoryStoreDeclaresEveryMethodOfMemoryStore() {
        assertDeclaresEveryMethod(MemoryStore.class, ForwardingMemoryStore.class);
    }

    @TestFactory
    Stream<DynamicTest> forwardingMemoryForwardsEveryMethod() {
        return interfaceMethods(Memory.class).values().stream()
                .filter(m -> !ROUTED_THROUGH_THIS.contains(signature(m)))
                .map(m -> DynamicTest.dynamicTest(
                        signature(m),
                        () -> assertForwards(Memory.class, m, delegate -> new ForwardingMemory(delegate) {})));
    }

    @TestFactory
    Stream<DynamicTest> forwardingMemoryStoreForwardsEveryMethod() {
        return interfaceMethods(MemoryStore.class).values().stream()
                .filter(m -> !STORE_ROUTED_THROUGH_THIS.contains(signature(m)))
                .map(m -> DynamicTest.dynamicTest(
                        signature(m),
                        () -> assertForwards(
                                MemoryStore.class, m, delegate -> new ForwardingMemoryStore(delegate) {})));
    }

    @Test
    void sessionByTenantAndIdIsRoutedThroughSessionByKey() {
        Recorder recorder = new Recorder();
        Memory delegate = recorder.proxy(Memory.class);
        List<SessionKey> seenByOverride = new ArrayList<>();
        Memory forwarding = new ForwardingMemory(delegate) {
            @Override
            public MemoryStore session(SessionKey key) {
                seenByOverride.add(key);
                return super.session(key);
            }
        };

        MemoryStore store = forwarding.session("tenant-t", "session-s");

        assertThat(seenByOverride).containsExactly(SessionKey.of("tenant-t", "session-s"));
        assertThat(recorder.calls)
                .containsExactly(new Call("session(SessionKey)", List.of(SessionKey.of("tenant-t", "session-s"))));
        assertThat(store).isSameAs(recorder.returned.get(0));
    }

    /**
     * A decorator that overrides {@code add} or {@code contextWindow} but not {@code addAndWindow} (one written before
     * {@code addAndWindow} existed) gets {@code addAndWindow} as its own {@code add} then its own {@code contextWindow}:
     * the delegate's {@code addAndWindow} would bypass it.
     */
    @Test
    void addAndWindowGoesThroughADecoratorsOwnAddAndContextWindow() {
        Message message = Message.user("plain");
        Message sealed = Message.user("sealed");
        Recorder adds = new Recorder();
        MemoryStore sealing = new ForwardingMemoryStore(adds.proxy(MemoryStore.class)) {
            @Override
            public Message add(Message m) {
                return super.add(sealed);
            }
        };
        sealing.addAndWindow(message, 50);
        assertThat(adds.calls)
                .containsExactly(
                        new Call("add(Message)", List.of(sealed)), new Call("contextWindow(int)", List.of(50)));

        Recorder windows = new Recorder();
        class Redacting extends ForwardingMemoryStore {
            Redacting(MemoryStore delegate) {
                super(delegate);
            }

            @Override
            public List<Message> contextWindow(int maxTokens) {
                return List.of();
            }
        }
        MemoryStore redacting = new Redacting(windows.proxy(MemoryStore.class)) {}; // a subclass of the decorator too
        Added added = redacting.addAndWindow(message, 60);
        assertThat(added.window()).isEmpty();
        assertThat(added.message()).isSameAs(windows.returned.get(0));
        assertThat(windows.calls).containsExactly(new Call("add(Message)", List.of(message)));

        Recorder own = new Recorder();
        MemoryStore both = new ForwardingMemoryStore(own.proxy(MemoryStore.class)) {
            @Override
            public Message add(Message m) {
                return super.add(sealed);
            }

            @Override
            public Added addAndWindow(Message m, int maxTokens) {
                return super.addAndWindow(sealed, maxTokens);
            }
        };
        both.addAndWindow(message, 70);
        assertThat(own.calls).containsExactly(new Call("addAndWindow(Message,int)", List.of(sealed, 70)));
    }

    // ----------------------------------------------------------------------------------------------------------------
    // (b) The decorators.

    @Test
    void theOverrideTablesListEveryMethodAndOnlyKnownDecorators() {
        assertThat(MEMORY_OVERRIDES.keySet())
                .as("a method of Memory was added or removed: list which decorators override it")
                .containsExactlyInAnyOrderElementsOf(
                        interfaceMethods(Memory.class).keySet());
        assertThat(STORE_OVERRIDES.keySet())
                .as("a method of MemoryStore was added or removed: list which decorators override it")
                .containsExactlyInAnyOrderElementsOf(
                        interfaceMethods(MemoryStore.class).keySet());
        Stream.concat(MEMORY_OVERRIDES.values().stream(), STORE_OVERRIDES.values().stream())
                .forEach(names -> assertThat(DECORATORS.keySet()).containsAll(names));
        STORE_GROUPS.forEach(group -> assertThat(STORE_OVERRIDES.keySet()).containsAll(group));
    }

    @TestFactory
    Stream<DynamicTest> everyDecoratorOverridesExactlyItsListedMethods() {
        return new TreeMap<>(DECORATORS)
                .entrySet().stream()
                        .map(d -> DynamicTest.dynamicTest(d.getKey(), () -> {
                            try (Memory decorated =
                                    d.getValue().apply(InMemoryMemory.builder().build())) {
                                Class<?> memoryClass = decorated.getClass();
                                Class<?> storeClass = decorated
                                        .session(SessionKey.of("tenant-t", "session-s"))
                                        .getClass();
                                assertThat(ForwardingMemory.class).isAssignableFrom(memoryClass);
                                assertThat(ForwardingMemoryStore.class).isAssignableFrom(storeClass);

                                assertThat(overriddenMethods(Memory.class, memoryClass, ForwardingMemory.class))
                                        .as("methods of Memory that %s overrides", memoryClass.getName())
                                        .containsExactlyInAnyOrderElementsOf(expected(MEMORY_OVERRIDES, d.getKey()));
                                Set<String> storeOverrides =
                                        overriddenMethods(MemoryStore.class, storeClass, ForwardingMemoryStore.class);
                                assertThat(storeOverrides)
                                        .as("methods of MemoryStore that %s overrides", storeClass.getName())
                                        .containsExactlyInAnyOrderElementsOf(expected(STORE_OVERRIDES, d.getKey()));
                                for (Set<String> group : STORE_GROUPS) {
                                    Set<String> overridden = new TreeSet<>(group);
                                    overridden.retainAll(storeOverrides);
                                    assertThat(overridden.isEmpty() || overridden.equals(group))
                                            .as(
                                                    "%s overrides %s but not all of %s",
                                                    storeClass.getName(), overridden, group)
                                            .isTrue();
                                }
                            }
                        }));
    }

    /** Finds every forwarding class compiled into memory-core's main classes, so that no decorator goes unlisted. */
    @Test
    void everyForwardingClassOfMemoryCoreIsAListedDecorator() throws Exception {
        Set<Class<?>> listed = new HashSet<>();
        for (Function<Memory, Memory> decorator : DECORATORS.values()) {
            try (Memory decorated = decorator.apply(InMemoryMemory.builder().build())) {
                listed.add(decorated.getClass());
                listed.add(decorated
                        .session(SessionKey.of("tenant-t", "session-s"))
                        .getClass());
            }
        }

        Set<Class<?>> found = mainClasses().stream()
                .filter(c -> c != ForwardingMemory.class && c != ForwardingMemoryStore.class)
                .filter(c ->
                        ForwardingMemory.class.isAssignableFrom(c) || ForwardingMemoryStore.class.isAssignableFrom(c))
                .collect(Collectors.toSet());

        assertThat(found)
                .as("forwarding classes in memory-core; add new decorators to DECORATORS and the override tables")
                .isNotEmpty()
                .containsExactlyInAnyOrderElementsOf(listed);
    }

    // ----------------------------------------------------------------------------------------------------------------

    /** The public instance methods of {@code iface}, inherited ones included, by signature. */
    private static Map<String, Method> interfaceMethods(Class<?> iface) {
        Map<String, Method> methods = new TreeMap<>();
        for (Method m : iface.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            // A method redeclared in a subinterface (Memory.close over AutoCloseable.close) counts once.
            methods.merge(
                    signature(m), m, (a, b) -> a.getDeclaringClass().isAssignableFrom(b.getDeclaringClass()) ? b : a);
        }
        return methods;
    }

    private static String signature(Method m) {
        return m.getName()
                + Arrays.stream(m.getParameterTypes())
                        .map(Class::getSimpleName)
                        .collect(Collectors.joining(",", "(", ")"));
    }

    private static void assertDeclaresEveryMethod(Class<?> iface, Class<?> forwarding) {
        List<String> missing = new ArrayList<>();
        for (Method m : interfaceMethods(iface).values()) {
            try {
                Method declared = forwarding.getDeclaredMethod(m.getName(), m.getParameterTypes());
                if (Modifier.isAbstract(declared.getModifiers()) || declared.isBridge()) {
                    missing.add(signature(m));
                }
            } catch (NoSuchMethodException e) {
                missing.add(signature(m));
            }
        }
        assertThat(missing)
                .as("methods of %s that %s does not override", iface.getSimpleName(), forwarding.getSimpleName())
                .isEmpty();
    }

    /**
     * Calls {@code method} on a forwarding instance over a recording delegate: the delegate must see exactly one call,
     * of the same method with the same arguments, and the caller must get the delegate's result, or its exception.
     */
    private static <T> void assertForwards(Class<T> iface, Method method, Function<T, T> forwardingOf)
            throws Exception {
        Object[] args = sampleArguments(method);

        Recorder recorder = new Recorder();
        T forwarding = forwardingOf.apply(recorder.proxy(iface));
        Object result = invoke(method, forwarding, args);
        assertThat(recorder.calls).containsExactly(new Call(signature(method), Arrays.asList(args)));
        if (method.getReturnType() == void.class) {
            assertThat(result).isNull();
        } else if (method.getReturnType().isPrimitive()) {
            assertThat(result).isEqualTo(recorder.returned.get(0));
        } else {
            assertThat(result).isSameAs(recorder.returned.get(0));
        }

        MemoryException failure = new MemoryException(ErrorCode.BACKEND_UNAVAILABLE, "sample failure");
        Recorder failing = new Recorder(failure);
        T failingForwarding = forwardingOf.apply(failing.proxy(iface));
        assertThatThrownBy(() -> invoke(method, failingForwarding, args)).isSameAs(failure);
        assertThat(failing.calls).containsExactly(new Call(signature(method), Arrays.asList(args)));
    }

    private static Object invoke(Method method, Object target, Object[] args) throws Exception {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /** Real, distinct values for each parameter; a new parameter type needs a sample here. */
    private static Object[] sampleArguments(Method method) {
        Class<?>[] types = method.getParameterTypes();
        Object[] args = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            Class<?> type = types[i];
            if (type == SessionKey.class) {
                args[i] = new SessionKey("tenant-" + i, "session-" + i, "scope-" + i);
            } else if (type == String.class) {
                args[i] = "text-" + i;
            } else if (type == Message.class) {
                args[i] = Message.user("argument " + i);
            } else if (type == List.class) {
                args[i] = List.of(Message.user("first " + i), Message.assistant("second " + i));
            } else if (type == HistoryQuery.class) {
                args[i] = HistoryQuery.builder()
                        .limit(3)
                        .offset(1)
                        .roles(Message.USER)
                        .build();
            } else if (type == int.class) {
                args[i] = 7 + i;
            } else {
                fail("no sample argument of type " + type.getName() + " for " + signature(method) + "; add one");
            }
        }
        return args;
    }

    /** A fresh result of {@code type}, so that the test can tell it apart from any other by identity. */
    private static Object sampleResult(Class<?> type) {
        if (type == void.class) {
            return null;
        } else if (type == MemoryStore.class) {
            return new Recorder().proxy(MemoryStore.class);
        } else if (type == SessionKey.class) {
            return SessionKey.of("returned-tenant", "returned-session");
        } else if (type == Message.class) {
            return Message.user("returned");
        } else if (type == List.class) {
            return new ArrayList<>(List.of(Message.user("returned")));
        } else if (type == Added.class) {
            Message returned = Message.user("returned");
            return new Added(returned, List.of(returned));
        } else if (type == Set.class) {
            return EnumSet.of(Capability.PERSISTENT);
        } else if (type == boolean.class) {
            return true;
        } else if (type == long.class) {
            return 42L;
        }
        return fail("no sample result of type " + type.getName() + "; add one");
    }

    /** A call a recording delegate received. */
    private record Call(String method, List<Object> args) {}

    /** Makes delegates that record each call of an interface method and answer with a fresh sample, or throw. */
    private static final class Recorder {
        final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
        final List<Object> returned = Collections.synchronizedList(new ArrayList<>());
        private final RuntimeException failure;

        Recorder() {
            this(null);
        }

        Recorder(RuntimeException failure) {
            this.failure = failure;
        }

        <T> T proxy(Class<T> iface) {
            return iface.cast(Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[] {iface}, (p, m, a) -> {
                if (m.getDeclaringClass() == Object.class) {
                    return switch (m.getName()) {
                        case "equals" -> p == a[0];
                        case "hashCode" -> System.identityHashCode(p);
                        default -> "Recorder[" + iface.getSimpleName() + "]";
                    };
                }
                calls.add(new Call(signature(m), a == null ? List.of() : Arrays.asList(a)));
                if (failure != null) {
                    throw failure;
                }
                Object result = sampleResult(m.getReturnType());
                returned.add(result);
                return result;
            }));
        }
    }

    /** The methods of {@code iface} that {@code type} or a superclass below {@code base} declares. */
    private static Set<String> overriddenMethods(Class<?> iface, Class<?> type, Class<?> base) {
        Set<String> overridden = new TreeSet<>();
        for (Method m : interfaceMethods(iface).values()) {
            for (Class<?> c = type; c != base; c = c.getSuperclass()) {
                assertThat(c)
                        .as("%s must extend %s", type.getName(), base.getName())
                        .isNotNull();
                if (declares(c, m)) {
                    overridden.add(signature(m));
                    break;
                }
            }
        }
        return overridden;
    }

    private static boolean declares(Class<?> c, Method m) {
        try {
            return !c.getDeclaredMethod(m.getName(), m.getParameterTypes()).isBridge();
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static Set<String> expected(Map<String, Set<String>> overrides, String decorator) {
        return overrides.entrySet().stream()
                .filter(e -> e.getValue().contains(decorator))
                .map(Map.Entry::getKey)
                .collect(Collectors.toSet());
    }

    /** Every class compiled from memory-core's main sources, loaded without initialization. */
    private static List<Class<?>> mainClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Path root = Path.of(ForwardingMemory.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        assertThat(root)
                .as("memory-core's classes must be a directory to be scanned; run the test from the build")
                .isDirectory();
        List<String> names;
        try (Stream<Path> files = Files.walk(root.resolve("io/agentmemory/core"))) {
            names = files.filter(p -> p.toString().endsWith(".class"))
                    .map(p -> root.relativize(p).toString())
                    .map(n -> n.substring(0, n.length() - ".class".length())
                            .replace(root.getFileSystem().getSeparator(), "."))
                    .sorted()
                    .toList();
        }
        Map<String, Class<?>> classes = new LinkedHashMap<>();
        for (String name : names) {
            classes.put(name, Class.forName(name, false, ForwardingCompletenessTest.class.getClassLoader()));
        }
        return List.copyOf(classes.values());
    }
}
