package io.agentmemory.jdbc.internal;

import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.backend.SessionCache;
import io.agentmemory.core.window.ContextWindows;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
 * was when the entry was made, minus what has been deleted since. A full window read asks for the text of every other
 * row, and checks the epoch the database reports in the same statement; a mismatch drops the entry and reads again.
 * A session put back from an older copy (a failover that lost committed transactions, a restored backup) keeps its
 * epoch and may hand out a lost message's number again; such a copy lacks the newest messages, so every statement that
 * relies on an entry also reports whether the row stored under the number of the entry's newest message holds that
 * message, with the stamp the entry saw (a random number written with each row: a message stored again after the copy
 * lost it, by a retry, has another); if not, the entry is dropped.
 *
 * <p>An entry also records the session's last sequence number and message count as of its read. The next window asks
 * only for the rows after that number, with the session's count now: the count minus those rows is the entry's count
 * exactly when no row the entry's read saw has been deleted since (every insert and delete updates the count in its
 * own transaction), and then the session is the entry's messages plus the new rows. When the entry held the whole
 * session, deletions of its oldest unpinned messages are allowed too: retention removes from the session's head, which
 * it records (no unpinned row below it is left; pinned rows are never removed), so the count minus the new rows is
 * the entry's pinned messages plus its unpinned ones from the head on exactly when nothing else was deleted.
 *
 * <p>Bounded by a number of messages across sessions: the least recently read sessions are dropped first
 * ({@link SessionCache}). Thread-safe.
 */
final class WindowCache {
    /**
     * What a window read, as of its statement: the session's epoch, the sequence numbers {@code lo} to {@code hi} the
     * entry holds every row of, the session's last sequence number and message count, whether the read reached the
     * session's oldest unpinned message, and the stamp of the row of the newest held message (0 if not known).
     */
    record Range(long epoch, long lo, long hi, long lastSeq, long count, boolean exhausted, long newestStamp) {}

    /** The most messages an entry grows by through appends (see {@link #appended}) between two window reads. */
    static final int MAX_APPENDED = 64;

    /**
     * One session's entry: its {@link Range}, the pinned messages (ascending sequence numbers) and the unpinned
     * messages the window took (newest first, a contiguous run from {@code hi} down to {@code lo}), kept as given, with
     * their token counts as the window rule counts them, and how many of them appends of this memory added since a
     * window read the session.
     */
    record Entry(
            Range range,
            List<Message> pinned,
            List<Message> taken,
            long pinnedTokens,
            int[] takenTokens,
            int appended) {
        long epoch() {
            return range.epoch();
        }

        long lo() {
            return range.lo();
        }

        long hi() {
            return range.hi();
        }

        long lastSeq() {
            return range.lastSeq();
        }

        long count() {
            return range.count();
        }

        boolean exhausted() {
            return range.exhausted();
        }

        /** The stamp of {@link #newest()}'s row, 0 if not known. */
        long newestStamp() {
            return range.newestStamp();
        }

        /** The held message with sequence number {@code seq}, or null. */
        Message message(long seq) {
            int lo = 0;
            int hi = taken.size() - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long s = taken.get(mid).sequence();
                if (s == seq) {
                    return taken.get(mid);
                }
                if (s > seq) {
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            lo = 0;
            hi = pinned.size() - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long s = pinned.get(mid).sequence();
                if (s == seq) {
                    return pinned.get(mid);
                }
                if (s < seq) {
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            return null;
        }

        /** The held message with the highest sequence number (an entry holds at least one unpinned message). */
        Message newest() {
            Message unpinned = taken.get(0);
            Message lastPinned = pinned.isEmpty() ? null : pinned.get(pinned.size() - 1);
            return lastPinned != null && lastPinned.sequence() > unpinned.sequence() ? lastPinned : unpinned;
        }

        /** Whether the held messages need more than {@code maxTokens}, as the window rule counts them. */
        boolean exceeds(long maxTokens) {
            long used = pinnedTokens;
            for (int tokens : takenTokens) {
                used += tokens;
                if (used > maxTokens) {
                    return true;
                }
            }
            return used > maxTokens;
        }

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

    /** A new message row's stamp: random and never 0 (0 stands for a stamp not known). */
    static long newStamp() {
        return newEpoch();
    }

    boolean enabled() {
        return entries.enabled();
    }

    /** The entry of {@code key}, or null. */
    Entry get(SessionKey key) {
        return entries.get(key);
    }

    /**
     * Replaces {@code key}'s entry with what a window read: the session's pinned messages (ascending) and the
     * unpinned ones it took, newest first, over {@code range}. Both lists are kept as they are: the caller gives
     * them up.
     */
    void put(SessionKey key, Range range, List<Message> pinned, List<Message> taken) {
        put(key, range, pinned, taken, 0);
    }

    /**
     * Replaces {@code key}'s entry, which held the session as of just before an append of this memory, with the
     * session after it: {@code stored}, the one message appended (with the sequence number after the entry's last),
     * added to the held ones, with its row's {@code stamp}, and the session's message count after the append. Does
     * nothing once the entry has grown by {@value #MAX_APPENDED} messages since a window read it: a session that is
     * only written does not copy an ever larger entry on every append (the next window reads what was added).
     */
    void appended(SessionKey key, Entry held, Message stored, boolean pinned, long count, long stamp) {
        if (held.appended() >= MAX_APPENDED) {
            return;
        }
        List<Message> newPinned = held.pinned();
        List<Message> newTaken = held.taken();
        if (pinned) {
            newPinned = new ArrayList<>(held.pinned().size() + 1);
            newPinned.addAll(held.pinned());
            newPinned.add(stored);
        } else {
            newTaken = new ArrayList<>(held.taken().size() + 1);
            newTaken.add(stored);
            newTaken.addAll(held.taken());
        }
        Range r = held.range();
        put(
                key,
                new Range(r.epoch(), r.lo(), stored.sequence(), stored.sequence(), count, r.exhausted(), stamp),
                newPinned,
                newTaken,
                held.appended() + 1);
    }

    private void put(SessionKey key, Range range, List<Message> pinned, List<Message> taken, int appended) {
        long pinnedTokens = 0;
        for (Message m : pinned) {
            pinnedTokens += ContextWindows.tokens(m);
        }
        int[] takenTokens = new int[taken.size()];
        for (int i = 0; i < takenTokens.length; i++) {
            takenTokens[i] = ContextWindows.tokens(taken.get(i));
        }
        entries.put(
                key,
                new Entry(
                        range,
                        Collections.unmodifiableList(pinned),
                        Collections.unmodifiableList(taken),
                        pinnedTokens,
                        takenTokens,
                        appended),
                pinned.size() + taken.size());
    }

    void remove(SessionKey key) {
        entries.remove(key);
    }
}
