package io.agentmemory.internal;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Time-ordered message ids: UUID version 7 (RFC 9562) with a 48-bit millisecond timestamp followed by a counter, so
 * ids made in one JVM sort in the order they were made. Not API. Thread-safe.
 */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Milliseconds in the upper 48 bits, a 12-bit sequence within the millisecond in the lower 16 (4 of them zero). */
    private static final AtomicLong LAST = new AtomicLong();

    private Ids() {}

    /** A new UUIDv7 string, greater than every id this JVM made before. */
    public static String next() {
        long now = System.currentTimeMillis();
        long stamp = LAST.updateAndGet(prev -> {
            long prevMillis = prev >>> 16;
            if (now > prevMillis) {
                return now << 16;
            }
            long counter = (prev & 0xFFFF) + 1;
            return counter > 0xFFF ? (prevMillis + 1) << 16 : (prevMillis << 16) | counter;
        });
        long millis = stamp >>> 16;
        long counter = stamp & 0xFFF;
        long msb = (millis << 16) | 0x7000L | counter;
        long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }
}
