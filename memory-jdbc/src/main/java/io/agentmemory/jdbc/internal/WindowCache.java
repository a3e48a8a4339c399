package io.agentmemory.jdbc.internal;

import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.core.backend.SessionCache;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The decoded messages of the sessions whose context windows were read last, so that a window reads from the
 * database only the sequence numbers and token counts of the messages it already holds, not their text.
 *
 * <p>Why a held message is still the stored one: a stored row never changes (rows are inserted and deleted, never
 * updated); a session's sequence numbers are handed out under its row lock, so once a window has seen sequence number
 * {@code hi}, no row at or below it can appear later (a concurrent writer's row with a lower number committed before
 * the window's snapshot, or the window would not have seen {@code hi}); and a session row gets a new random
 * {@code epoch} whenever it is created, so a session deleted and created again, whose numbers start over, is told
 * apart. An entry therefore holds every row of its session's epoch with a sequence number in {@code [lo, hi]}, as it
 * was when the entry was made, minus what has been deleted since. A window asks for the text of every other row, and
 * checks the epoch the database reports in the same statement; a mismatch drops the entry and reads again.
 *
 * <p>Bounded by a number of messages across sessions: the least recently read sessions are dropped first
 * ({@link SessionCache}). Thread-safe.
 */
final class WindowCache {
    /**
     * What one session's entry holds: the epoch and range it covers, the messages by sequence number, and the token
     * counts of the unpinned messages the window took, newest first.
     */
    record Entry(long epoch, long lo, long hi, Map<Long, Message> messages, int[] takenTokens) {
        /**
         * How many of the newest unpinned messages a budget of {@code maxTokens} takes, as far as this entry knows:
         * the messages it took that fit, plus one for the first that does not (when the entry has one).
         */
        int rowsFor(long maxTokens) {
            long used = 0;
            for (int i = 0; i < takenTokens.length; i++) {
                used += takenTokens[i];
                if (used > maxTokens) {
                    return i + 1;
                }
            }
            return takenTokens.length;
        }
    }

    private final SessionCache<Entry> entries;

    /** @param capacity the most messages held across sessions; 0 holds none */
    WindowCache(int capacity) {
        this.entries = new SessionCache<>(capacity);
    }

    /** A new session row's epoch: random and never 0. */
    static long newEpoch() {
        long epoch;
        do {
            epoch = ThreadLocalRandom.current().nextLong();
        } while (epoch == 0);
        return epoch;
    }

    boolean enabled() {
        return entries.enabled();
    }

    /** The entry of {@code key}, or null. */
    Entry get(SessionKey key) {
        return entries.get(key);
    }

    /**
     * Replaces {@code key}'s entry with the messages a window read: every row of epoch {@code epoch} from sequence
     * number {@code lo} to {@code hi} (pinned and unpinned), and perhaps pinned rows below {@code lo}; {@code taken}
     * are the unpinned ones, newest first.
     */
    void put(SessionKey key, long epoch, long lo, long hi, List<Message> pinned, List<Message> taken) {
        Map<Long, Message> bySeq = new HashMap<>((pinned.size() + taken.size()) * 4 / 3 + 1);
        for (Message m : pinned) {
            bySeq.put(m.sequence(), m);
        }
        int[] takenTokens = new int[taken.size()];
        for (int i = 0; i < taken.size(); i++) {
            Message m = taken.get(i);
            bySeq.put(m.sequence(), m);
            takenTokens[i] = m.tokenCount().map(TokenCount::tokens).orElse(0);
        }
        entries.put(
                key,
                new Entry(epoch, lo, hi, Collections.unmodifiableMap(bySeq), takenTokens),
                pinned.size() + taken.size());
    }

    void remove(SessionKey key) {
        entries.remove(key);
    }
}
