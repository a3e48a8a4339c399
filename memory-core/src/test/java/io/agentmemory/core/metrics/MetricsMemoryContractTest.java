package io.agentmemory.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Memory;
import io.agentmemory.RemovalCause;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.spi.DecoratorFactory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MemoryStoreContract;
import io.agentmemory.tck.RecordingEvictionListener.Event;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/**
 * The whole contract kit over the {@code metrics} decorator, assembled as configuration assembles it: the factory's
 * {@code prepare} step adjusts the kit's context, the in-memory backend is built with the adjusted context, and the
 * factory decorates it. After every test, the removal counters must equal what the kit's listener recorded.
 */
class MetricsMemoryContractTest extends MemoryStoreContract {
    private static final Map<String, String> CONFIG = Map.of(MetricsMemory.TAG_KEY, "memory");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final DecoratorFactory factory = MetricsMemory.decoratorFactory();

    @Override
    protected Memory createMemory(MemoryContext context) {
        MemoryContext prepared = factory.prepare(CONFIG, context.withService(MeterRegistry.class, registry));
        Memory memory = factory.decorate(InMemoryMemory.create(prepared), CONFIG, prepared);
        assertThat(memory).isInstanceOf(MetricsMemory.class);
        return memory;
    }

    /** Runs before the kit's own clean-up, which deletes the test's sessions and so removes more messages. */
    @AfterEach
    void removalsAreCountedExactlyAsTheListenerRecordedThem() {
        for (RemovalCause cause : RemovalCause.values()) {
            long reported = listener().events().stream()
                    .filter(e -> e.cause() == cause)
                    .map(Event::messages)
                    .mapToLong(List::size)
                    .sum();
            // The counters exist once a memory is created; a test that creates none has removed nothing.
            Counter counter = registry.find(MetricsMemory.REMOVALS)
                    .tags(
                            MetricsMemory.BACKEND_TAG,
                            "memory",
                            MetricsMemory.CAUSE_TAG,
                            cause.name().toLowerCase(Locale.ROOT))
                    .counter();
            double counted = counter == null ? 0 : counter.count();
            assertThat(counted).as("removals counted for %s", cause).isEqualTo((double) reported);
        }
    }
}
