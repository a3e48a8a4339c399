package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.BackendUnavailableException;
import io.agentmemory.MemoryException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * What a careful caller does while Redis is down: repeat the same call (same message ids) until it succeeds. Every
 * failure must be a retryable {@link BackendUnavailableException} whose text holds no secret. Thread-safe.
 */
final class Retrying {
    private final AtomicInteger failures = new AtomicInteger();
    private final String secret;

    Retrying(String secret) {
        this.secret = secret;
    }

    <T> T call(Supplier<T> action) {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            try {
                return action.get();
            } catch (MemoryException e) {
                assertThat(e).as("a failure while Redis is away").isInstanceOf(BackendUnavailableException.class);
                assertThat(e.code().retryable()).isTrue();
                for (Throwable t = e; t != null; t = t.getCause()) {
                    assertThat(String.valueOf(t)).as("an exception's text").doesNotContain(secret);
                }
                failures.incrementAndGet();
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("Redis stayed unavailable for two minutes", e);
                }
                RedisProcess.sleep(20);
            }
        }
    }

    int failures() {
        return failures.get();
    }
}
