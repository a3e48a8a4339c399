package io.agentmemory.redis;

import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.backend.SessionCache;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What the context windows of a memory read last, per session, so that the next window of a session reads only the
 * messages added since (one script call) instead of the whole range again. Bounded by a number of messages across
 * sessions, the sessions least recently read or appended to dropped first ({@link SessionCache}). Thread-safe; entries
 * are immutable.
 *
 * <p>Why an entry stays exact (see the module's README, "context window"): a message is never changed once stored;
 * sequence numbers are handed out by the atomic append script, so once a window has seen the session's last sequence
 * number {@code last}, no message at or below it can appear later in the same epoch; and a session gets a new random
 * epoch whenever it is created, so a session deleted and written again is told apart. An entry records, from one
 * script call, the session's epoch and last sequence number, every pinned message, and the sequence numbers of every
 * unpinned message from {@code lo} to {@code last}; the unpinned ones it holds are those of that range that had not
 * expired. The next window asks for the messages above {@code last} and for how many unpinned messages are left in
 * {@code [lo, last]} and the oldest of them, {@code f}: since none can have been added there, they are the entry's
 * from {@code f} on exactly when their numbers agree, so removals at the old end (retention) keep the entry usable,
 * and any other removal sends the window to the full read.
 *
 * <p>An append of the memory itself brings its entry up to date ({@link Entry#appended}): the script's reply names
 * the version it found and the version it left, and every message its retention removed, so when the version found
 * is the entry's, the session after the append is the entry plus what was appended minus what was removed, from
 * anywhere in the session. The next window then only checks natively that the session is still at that version, with
 * the counts of its pinned and held unpinned messages.
 */
final class WindowCache {
    /** The most messages appends may add to an entry between two windows (as the {@code since} read takes). */
    static final int MAX_APPENDED = 64;

    /** A message and the stored bytes it was decoded from: the same bytes always decode to an equal message. */
    record Decoded(byte[] json, Message message) {
        long sequence() {
            return message.sequence();
        }
    }

    /**
     * What the {@code since} read of {@code read.lua} returned.
     *
     * @param epoch the session's epoch ("" for none: no session, or one stored before epochs)
     * @param last the session's last sequence number
     * @param anchorSeq the sequence number the entry's newest message has now (-1: it is gone)
     * @param above how many messages lie above the entry's {@code last}
     * @param pinned how many pinned messages the session holds
     * @param held how many unpinned messages lie in the entry's {@code [lo, last]}
     * @param oldestHeld the oldest of them, -1 for none
     * @param version the session's version (see {@code append.lua}), "" for none
     * @param anchorStamp the stamp stored under the entry's newest message's sequence number (see {@code append.lua}),
     *     "" for none
     * @param lastStamp the stamp of the message with the session's last sequence number, "" for none
     * @param newPinned the sequence numbers of the pinned messages above {@code last}; null when the messages above
     *     were not sent (more than the limit)
     * @param newestFirst the JSON of the messages above {@code last}, newest first; null when not sent
     */
    record Changes(
            String epoch,
            long last,
            long anchorSeq,
            long above,
            long pinned,
            long held,
            long oldestHeld,
            String version,
            String anchorStamp,
            String lastStamp,
            long[] newPinned,
            List<byte[]> newestFirst) {}

    /**
     * One session's entry.
     *
     * @param epoch the session's epoch as of the read, never empty
     * @param last the session's last sequence number as of the read
     * @param lo the sequence number from which {@code unpinned} lists every unpinned message (up to {@code last})
     * @param unpinned ascending: the sequence numbers of every unpinned message in {@code [lo, last]}, expired ones too
     * @param run newest first: the unpinned messages in {@code [lo, last]} that had not expired at {@code cutoff}
     * @param pinned ascending: every pinned message of the session
     * @param cutoff messages older than this had expired when the entry was made; null without a max age
     * @param exhausted whether no unpinned message older than {@code lo} had not expired at {@code cutoff}
     * @param version the session's version as of the read, "" when unknown
     * @param anchorStamp the stamp of {@link #anchor()} (see {@code append.lua}), "" when unknown
     * @param appended how many messages appends of this memory added to the entry since a window read it
     *     ({@link #appended}); when positive, the next window first checks that the session is still at {@code
     *     version}
     */
    record Entry(
            String epoch,
            long last,
            long lo,
            long[] unpinned,
            Decoded[] run,
            Decoded[] pinned,
            Instant cutoff,
            boolean exhausted,
            String version,
            String anchorStamp,
            int appended) {
        /**
         * The newest message held: the script checks that its id still has its sequence number, and the client that
         * its number still has the stamp the entry saw.
         */
        Decoded anchor() {
            Decoded newestRun = run.length == 0 ? null : run[0];
            Decoded newestPinned = pinned.length == 0 ? null : pinned[pinned.length - 1];
            if (newestRun == null) {
                return newestPinned;
            }
            return newestPinned == null || newestRun.sequence() > newestPinned.sequence() ? newestRun : newestPinned;
        }

        /**
         * Whether the entry can serve a window whose expiry cutoff is {@code cutoff}: a later cutoff only hides more
         * (which the client applies), an earlier one (a clock set back) would show messages the entry left out.
         */
        boolean serves(Instant cutoff) {
            if (this.cutoff == null || cutoff == null) {
                return this.cutoff == null && cutoff == null;
            }
            return !cutoff.isBefore(this.cutoff);
        }

        /**
         * Where the unpinned messages the session still holds in {@code [lo, last]} start in {@link #unpinned}, or -1
         * when the changes do not allow the entry to be used: another epoch (or none), the newest held message gone,
         * moved or stored again (a session restored from an older copy: another number, or another stamp), messages
         * above {@code last} not all sent, a pinned message missing, or unpinned ones missing other than the oldest.
         */
        int validFrom(Changes c) {
            if (!c.epoch().equals(epoch)
                    || c.anchorSeq() != anchor().sequence()
                    || (!anchorStamp.isEmpty() && !anchorStamp.equals(c.anchorStamp()))
                    || c.newestFirst() == null
                    || c.newestFirst().size() != c.above()
                    || c.pinned() != pinned.length + c.newPinned().length) {
                return -1;
            }
            // None can have been added in [lo, last]: the session's are the entry's from the oldest left on exactly
            // when their counts agree.
            int from = c.held() == 0 ? unpinned.length : firstAtLeast(unpinned, c.oldestHeld());
            return unpinned.length - from == c.held() ? from : -1;
        }

        /** The held message with sequence number {@code seq}, or null. */
        Decoded find(long seq) {
            Decoded d = search(run, seq, true);
            return d != null ? d : search(pinned, seq, false);
        }

        /** Binary search of {@code messages}, sorted by sequence number, newest first if {@code descending}. */
        private static Decoded search(Decoded[] messages, long seq, boolean descending) {
            int lo = 0;
            int hi = messages.length - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long s = messages[mid].sequence();
                if (s == seq) {
                    return messages[mid];
                }
                if ((s > seq) == descending) {
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            return null;
        }

        int weight() {
            return run.length + pinned.length;
        }

        /**
         * The changes a read would find if the session were still as this entry holds it: nothing above {@code last},
         * every held message in place.
         */
        Changes unchanged() {
            return new Changes(
                    epoch,
                    last,
                    anchor().sequence(),
                    0,
                    pinned.length,
                    unpinned.length,
                    unpinned.length == 0 ? -1 : unpinned[0],
                    version,
                    anchorStamp,
                    anchor().sequence() == last ? anchorStamp : "",
                    new long[0],
                    List.of());
        }

        /**
         * This entry after an append of this memory, or null when the append's reply does not tell the session's
         * new state exactly. The append script commits atomically and replaces the session's version with one drawn
         * from the version it found and a tag new for the append (see {@code append.lua}), so when its reply names
         * this entry's epoch and version as the session's before the call, no other write came between: the session
         * is this entry's plus the messages the append stored, minus those retention removed. Only unpinned messages
         * without tool fields are taken (the script may pin a tool result whose call is pinned), no pinned message
         * may have been removed, and an entry grows by at most {@value #MAX_APPENDED} messages between two windows
         * (a session that is only written does not copy an ever larger entry on every append).
         *
         * @param epoch the epoch of the reply
         * @param before the version the reply names as the session's before the call
         * @param after the version the reply names as the session's after it
         * @param added the appended messages as stored, ascending by sequence number, all unpinned
         * @param removed the sequence numbers the append's retention removed (some may be of {@code added})
         */
        Entry appended(String epoch, String before, String after, Decoded[] added, long[] removed) {
            if (version.isEmpty()
                    || !before.equals(version)
                    || !epoch.equals(this.epoch)
                    || added.length == 0
                    || appended + added.length > MAX_APPENDED) {
                return null;
            }
            long[] gone = removed.clone();
            Arrays.sort(gone);
            for (Decoded d : pinned) {
                if (Arrays.binarySearch(gone, d.sequence()) >= 0) {
                    return null;
                }
            }
            long[] keptUnpinned = new long[unpinned.length + added.length];
            int u = 0;
            for (long s : unpinned) {
                if (Arrays.binarySearch(gone, s) < 0) {
                    keptUnpinned[u++] = s;
                }
            }
            Decoded[] keptRun = new Decoded[run.length + added.length];
            int r = 0;
            for (int i = added.length - 1; i >= 0; i--) {
                Decoded d = added[i];
                if (Arrays.binarySearch(gone, d.sequence()) < 0) {
                    if (!expired(d.message(), cutoff)) {
                        keptRun[r++] = d;
                    }
                }
            }
            for (Decoded d : run) {
                if (Arrays.binarySearch(gone, d.sequence()) < 0) {
                    keptRun[r++] = d;
                }
            }
            for (Decoded d : added) {
                if (Arrays.binarySearch(gone, d.sequence()) < 0) {
                    keptUnpinned[u++] = d.sequence();
                }
            }
            if (r + pinned.length == 0) {
                return null;
            }
            Entry next = new Entry(
                    epoch,
                    added[added.length - 1].sequence(),
                    lo,
                    Arrays.copyOf(keptUnpinned, u),
                    Arrays.copyOf(keptRun, r),
                    pinned,
                    cutoff,
                    exhausted,
                    after,
                    "",
                    appended + added.length);
            // The newest message held now: one this append stored (its stamp is the version the append left), or
            // the one held before.
            long newest = next.anchor().sequence();
            Decoded held = anchor();
            return next.stamped(
                    held == null || newest > held.sequence() ? after : newest == held.sequence() ? anchorStamp : "");
        }

        /** This entry with {@code stamp} as its newest message's stamp. */
        Entry stamped(String stamp) {
            return new Entry(epoch, last, lo, unpinned, run, pinned, cutoff, exhausted, version, stamp, appended);
        }

        /** This entry, no longer taken as up to date: the next window reads what changed. */
        Entry read() {
            return appended == 0
                    ? this
                    : new Entry(epoch, last, lo, unpinned, run, pinned, cutoff, exhausted, version, anchorStamp, 0);
        }
    }

    /** Thrown by a walk over an entry when the window rule asks for a message older than any the entry holds. */
    static final class BeyondHeld extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final BeyondHeld INSTANCE = new BeyondHeld();

        private BeyondHeld() {
            super("the window reaches below the messages held", null, false, false);
        }
    }

    /** The unpinned messages of a window, newest first, as the window rule takes them; keeps what it handed out. */
    abstract static class Walk implements Iterator<Message> {
        private Decoded[] taken;
        private int size;
        private boolean ranOut;

        /** @param expected how many messages the window rule may take, a guess */
        Walk(int expected) {
            this.taken = new Decoded[Math.max(16, expected)];
        }

        /** Whether a message remains. */
        protected abstract boolean more();

        /** The next message; only after {@link #more()} said so. */
        protected abstract Decoded take();

        @Override
        public final boolean hasNext() {
            if (more()) {
                return true;
            }
            ranOut = true;
            return false;
        }

        @Override
        public final Message next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Decoded d = take();
            if (size == taken.length) {
                taken = Arrays.copyOf(taken, size * 2);
            }
            taken[size++] = d;
            return d.message();
        }

        /** The messages handed out, newest first. */
        Decoded[] taken() {
            return Arrays.copyOf(taken, size);
        }

        /** Whether the walk was asked for a message after its last one. */
        boolean ranOut() {
            return ranOut;
        }
    }

    /** A walk over given messages; asked for more, it throws {@link BeyondHeld} unless {@code exhausted}. */
    static final class HeldWalk extends Walk {
        private final Decoded[] messages;
        private final int size;
        private final boolean exhausted;
        private int next;

        HeldWalk(Decoded[] messages, int size, boolean exhausted) {
            super(size);
            this.messages = messages;
            this.size = size;
            this.exhausted = exhausted;
        }

        @Override
        protected boolean more() {
            if (next < size) {
                return true;
            }
            if (!exhausted) {
                throw BeyondHeld.INSTANCE;
            }
            return false;
        }

        @Override
        protected Decoded take() {
            return messages[next++];
        }
    }

    private final SessionCache<Entry> entries;

    /** @param capacity the most messages held across sessions; 0 holds none */
    WindowCache(int capacity) {
        this.entries = new SessionCache<>(capacity);
    }

    boolean enabled() {
        return entries.enabled();
    }

    /** The entry of {@code key}, or null. */
    Entry get(SessionKey key) {
        return entries.get(key);
    }

    void remove(SessionKey key) {
        entries.remove(key);
    }

    /**
     * Replaces {@code key}'s entry with what a window read, or removes it when nothing can be held (no epoch, or no
     * message to check the session against).
     *
     * @param epoch the session's epoch, from the same script call as {@code last}
     * @param last the session's last sequence number
     * @param pinned ascending: every pinned message of the session
     * @param walk the unpinned messages the window rule took, newest first (a run without gaps)
     * @param exhausted whether the walk ran out and no unpinned message older than its last was left unread
     * @param unpinned ascending: sequence numbers of unpinned messages, a superset of those in the walk's range
     *     {@code [lo, last]} (lo the oldest message taken); those outside it are ignored
     * @param cutoff the expiry cutoff the walk applied; null without a max age
     * @param version the session's version from the same script call as {@code last}, "" when unknown
     * @param lastStamp the stamp of the message with sequence number {@code last}, from the same script call, "" for
     *     none: the entry's newest message's when that is the one (else the entry's is unknown)
     */
    void put(
            SessionKey key,
            String epoch,
            long last,
            Decoded[] pinned,
            Decoded[] walk,
            boolean exhausted,
            long[] unpinned,
            Instant cutoff,
            String version,
            String lastStamp) {
        if (epoch.isEmpty() || (pinned.length == 0 && walk.length == 0)) {
            entries.remove(key);
            return;
        }
        long lo = walk.length == 0 ? last + 1 : walk[walk.length - 1].sequence();
        long[] range = Arrays.copyOfRange(unpinned, firstAtLeast(unpinned, lo), unpinned.length);
        Entry entry = new Entry(epoch, last, lo, range, walk, pinned, cutoff, exhausted, version, "", 0);
        if (entry.anchor().sequence() == last) {
            entry = entry.stamped(lastStamp);
        }
        entries.put(key, entry, entry.weight());
    }

    /** Replaces {@code key}'s entry with one brought up to date by an append ({@link Entry#appended}). */
    void put(SessionKey key, Entry entry) {
        entries.put(key, entry, entry.weight());
    }

    /** Whether an unpinned message has expired at {@code cutoff}: the rule read.lua and append.lua apply. */
    static boolean expired(Message m, Instant cutoff) {
        return cutoff != null && m.timestamp().isBefore(cutoff);
    }

    /** The index of the first element of ascending {@code values} that is at least {@code v}. */
    static int firstAtLeast(long[] values, long v) {
        int lo = 0;
        int hi = values.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (values[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** A new epoch: 63 random bits as base-36 text. */
    static byte[] newEpoch() {
        return Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36)
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
