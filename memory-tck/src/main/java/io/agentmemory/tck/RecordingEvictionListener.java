package io.agentmemory.tck;

import io.agentmemory.EvictionListener;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.SessionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An {@link EvictionListener} that records every call, and that a test can make throw. A call that throws is not
 * recorded as an event (the removal it announced did not happen) but is counted. Thread-safe.
 */
public final class RecordingEvictionListener implements EvictionListener {
    /**
     * One call of {@link #onRemoval}.
     *
     * @param key the session
     * @param messages a copy of the removed messages, in the order given
     * @param cause the cause given
     */
    public record Event(SessionKey key, List<Message> messages, RemovalCause cause) {
        public Event {
            messages = List.copyOf(messages);
        }
    }

    private final List<Event> events = new ArrayList<>();
    private final List<List<Message>> given = new ArrayList<>();
    private RuntimeException failure;
    private Error error;
    private int failedCalls;

    @Override
    public synchronized void onRemoval(SessionKey key, List<Message> removed, RemovalCause cause) {
        if (failure != null) {
            failedCalls++;
            throw failure;
        }
        if (error != null) {
            failedCalls++;
            throw error;
        }
        events.add(new Event(key, removed, cause));
        given.add(removed);
    }

    /** Every call that did not throw, in the order of the calls. */
    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** The calls about {@code key}, in the order of the calls. */
    public synchronized List<Event> events(SessionKey key) {
        return events.stream().filter(e -> e.key().equals(key)).toList();
    }

    /** Every message reported for {@code key}, in the order reported. */
    public synchronized List<Message> removed(SessionKey key) {
        List<Message> all = new ArrayList<>();
        for (Event e : events(key)) {
            all.addAll(e.messages());
        }
        return all;
    }

    /** The lists exactly as the store passed them, in the order of the calls; for checking that they are immutable. */
    synchronized List<List<Message>> givenLists() {
        return List.copyOf(given);
    }

    /** Forgets the recorded events. */
    public synchronized void reset() {
        events.clear();
        given.clear();
        failedCalls = 0;
    }

    /** Makes every following call throw {@code failure} until {@link #stopFailing()}. */
    public synchronized void failWith(RuntimeException failure) {
        this.failure = Objects.requireNonNull(failure, "failure");
    }

    /** Makes every following call throw {@code error}, which no store may catch as a failure of its own. */
    public synchronized void failWithError(Error error) {
        this.error = Objects.requireNonNull(error, "error");
    }

    /** Makes following calls record again. */
    public synchronized void stopFailing() {
        this.failure = null;
        this.error = null;
    }

    /** How many calls threw because of {@link #failWith} or {@link #failWithError}. */
    public synchronized int failedCalls() {
        return failedCalls;
    }
}
