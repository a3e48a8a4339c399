package io.agentmemory.tck;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} that stands still until a test sets or advances it. Clocks made by {@link #withZone} share the
 * instant with the clock they were made from. Thread-safe.
 */
public final class MutableClock extends Clock {
    private final AtomicReference<Instant> instant;
    private final ZoneId zone;

    /** A clock in UTC showing {@code start}. */
    public MutableClock(Instant start) {
        this(new AtomicReference<>(Objects.requireNonNull(start, "start")), ZoneOffset.UTC);
    }

    private MutableClock(AtomicReference<Instant> instant, ZoneId zone) {
        this.instant = instant;
        this.zone = zone;
    }

    @Override
    public Instant instant() {
        return instant.get();
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return new MutableClock(instant, Objects.requireNonNull(zone, "zone"));
    }

    /** Shows {@code instant} from now on. */
    public void set(Instant instant) {
        this.instant.set(Objects.requireNonNull(instant, "instant"));
    }

    /**
     * Moves the clock by {@code duration} (backwards when negative).
     *
     * @return the new instant
     */
    public Instant advance(Duration duration) {
        Objects.requireNonNull(duration, "duration");
        return instant.updateAndGet(i -> i.plus(duration));
    }

    @Override
    public String toString() {
        return "MutableClock[" + instant.get() + ", " + zone + "]";
    }
}
