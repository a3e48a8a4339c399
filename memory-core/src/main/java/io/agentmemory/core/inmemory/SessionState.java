package io.agentmemory.core.inmemory;

import io.agentmemory.Added;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import io.agentmemory.core.backend.BackendSupport;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.internal.Checks;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The messages of one session. Pinned messages (and the tool messages answering a pinned assistant message) live in
 * a list; all others in a ring in sequence order, so appends, removal of the oldest and reads of the newest cost
 * O(1) per message. Thread-safe: writes take the write lock, reads the read lock.
 */
final class SessionState {
    private final SessionKey key;
    private final InMemoryMemory owner;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    private boolean discarded;
    private long nextSequence = 1;
    private final List<Message> pinned = new ArrayList<>();
    private final MessageRing unpinned = new MessageRing();
    private long unpinnedTokens;
    /** Unpinned tool messages and assistant messages with tool calls; while there are none, windows take a short cut. */
    private int unpinnedToolMessages;

    private final Map<String, Message> byId = new HashMap<>();
    /**
     * The newest pinned message that made each call, by call id. A tool message answers the newest message before it
     * that made its call: it is pinned when that is a pinned message newer than the call's unpinned owner.
     */
    private final Map<String, Long> pinnedCallOwner = new HashMap<>();
    /**
     * The tool-call groups of the unpinned messages. A tool message answers the newest assistant message stored
     * before it that made its call (call ids may repeat across replies), as in the window rule; of several tool
     * messages answering one call, the newest is the one in the group. By call id, the stored unpinned messages that
     * made the call: the newest is the call's owner. The rule reads what is stored, as the window rule does: when a
     * caller is removed before an older one (expired by a backdated timestamp), the older one owns the call again if
     * the removed one did, and the tool messages that answered the removed one answer it.
     */
    private final Map<String, TreeSet<Long>> unpinnedCallers = new HashMap<>();
    /**
     * The stored tool messages answering each call of an assistant message, oldest first, by the assistant message's
     * sequence and the call id: the newest is the one in the call's group (an older one is again when a newer one
     * expires first).
     */
    private final Map<GroupCall, ArrayDeque<Long>> unpinnedResultByCall = new HashMap<>();
    /** The group call each unpinned tool message answered when it was stored. */
    private final Map<Long, GroupCall> unpinnedCallOfResult = new HashMap<>();
    /** Whether the ring is also in timestamp order, so that expired messages form a prefix. */
    private boolean timestampsOrdered = true;

    private Instant newestUnpinnedTimestamp;

    /** One call of an assistant message: the message's sequence and the call's id. */
    private record GroupCall(long assistant, String callId) {}

    SessionState(SessionKey key, InMemoryMemory owner) {
        this.key = key;
        this.owner = owner;
    }

    /**
     * Appends counted messages, applies retention and reports removals.
     *
     * @return the stored messages, or null if this state was discarded and the caller must use a fresh one
     */
    List<Message> append(List<Message> incoming, List<TokenCount> counts) {
        lock.writeLock().lock();
        try {
            if (discarded) {
                return null;
            }
            long savedNextSequence = nextSequence;
            List<Message> stored = new ArrayList<>(incoming.size());
            for (int i = 0; i < incoming.size(); i++) {
                Message m = incoming.get(i);
                Message existing = byId.get(m.id());
                if (existing != null) {
                    stored.add(existing);
                    continue;
                }
                Message s = m.stored(nextSequence++, counts.get(i));
                insert(s);
                stored.add(s);
            }
            if (nextSequence == savedNextSequence) {
                return stored;
            }
            Map<RemovalCause, List<Message>> removed = new EnumMap<>(RemovalCause.class);
            boolean applied = false;
            try {
                applyRetention(owner.now(), removed);
                owner.report(key, removed);
                applied = true;
            } finally {
                if (!applied) {
                    // Whatever failed (a listener or clock that threw, an Error included), nothing was written.
                    rollBack(savedNextSequence, removed);
                }
            }
            return stored;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Reports and removes every message, then discards this state.
     *
     * @return whether the session held any message, or null if this state was already discarded
     */
    Boolean discard() {
        lock.writeLock().lock();
        try {
            if (discarded) {
                return null;
            }
            List<Message> all = new ArrayList<>(pinned.size() + unpinned.size());
            all.addAll(pinned);
            for (int i = 0; i < unpinned.size(); i++) {
                all.add(unpinned.get(i));
            }
            all.sort(Comparator.comparingLong(Message::sequence));
            if (!all.isEmpty()) {
                Map<RemovalCause, List<Message>> removed = new EnumMap<>(RemovalCause.class);
                removed.put(RemovalCause.CLEARED, all);
                owner.report(key, removed);
            }
            discarded = true;
            pinned.clear();
            unpinned.clear();
            byId.clear();
            pinnedCallOwner.clear();
            clearGroups();
            unpinnedTokens = 0;
            unpinnedToolMessages = 0;
            return !all.isEmpty();
        } finally {
            lock.writeLock().unlock();
        }
    }

    List<Message> history(HistoryQuery query) {
        lock.readLock().lock();
        try {
            Iterator<Message> unpinnedLive = liveNewestFirst(owner.expiryCutoff());
            Iterator<Message> merged = new Iterator<>() {
                private int j = pinned.size() - 1;
                private Message nextUnpinned = unpinnedLive.hasNext() ? unpinnedLive.next() : null;

                @Override
                public boolean hasNext() {
                    return nextUnpinned != null || j >= 0;
                }

                @Override
                public Message next() {
                    if (nextUnpinned != null
                            && (j < 0 || nextUnpinned.sequence() > pinned.get(j).sequence())) {
                        Message m = nextUnpinned;
                        nextUnpinned = unpinnedLive.hasNext() ? unpinnedLive.next() : null;
                        return m;
                    }
                    if (j < 0) {
                        throw new NoSuchElementException();
                    }
                    return pinned.get(j--);
                }
            };
            return BackendSupport.history(query, merged);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The unpinned messages that have not expired, newest first; stops early when expiry is a prefix. */
    private Iterator<Message> liveNewestFirst(Instant cutoff) {
        Iterator<Message> all = unpinned.newestFirst();
        if (cutoff == null) {
            return all;
        }
        return new Iterator<>() {
            private Message next = advance();

            private Message advance() {
                while (all.hasNext()) {
                    Message m = all.next();
                    if (!m.timestamp().isBefore(cutoff)) {
                        return m;
                    }
                    if (timestampsOrdered) {
                        return null; // every older unpinned message is expired too
                    }
                }
                return null;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public Message next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                Message m = next;
                next = advance();
                return m;
            }
        };
    }

    /**
     * Appends one counted message and returns it with the window after it, under one hold of the write lock, so that
     * no other write comes between; null if this state was discarded and the caller must use a fresh one.
     */
    Added appendAndWindow(Message message, TokenCount count, int maxTokens) {
        lock.writeLock().lock();
        try {
            List<Message> stored = append(List.of(message), List.of(count));
            return stored == null ? null : Checks.added(stored.get(0), () -> contextWindow(maxTokens));
        } finally {
            lock.writeLock().unlock();
        }
    }

    List<Message> contextWindow(int maxTokens) {
        lock.readLock().lock();
        try {
            Instant cutoff = owner.expiryCutoff();
            if (unpinnedToolMessages == 0 && (cutoff == null || timestampsOrdered)) {
                return newestThatFit(maxTokens, cutoff);
            }
            Iterator<Message> live = liveNewestFirst(cutoff);
            return ContextWindows.select(maxTokens, List.copyOf(pinned), live, unpinned.size());
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The window rule of {@link ContextWindows#select} for a ring without tool messages and with its expired
     * messages (if any) at the front: the run is the longest suffix of live messages within the budget, found by
     * binary search over the ring's running token totals and copied in bulk. O(log n) plus the copy.
     */
    private List<Message> newestThatFit(int maxTokens, Instant cutoff) {
        long budget = ContextWindows.budgetAfterPinned(maxTokens, pinned);
        int lo = cutoff == null ? 0 : firstLive(cutoff);
        int hi = unpinned.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (unpinned.tokensFrom(mid) <= budget) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Message[] window = new Message[pinned.size() + unpinned.size() - lo];
        for (int i = 0; i < pinned.size(); i++) {
            window[i] = pinned.get(i);
        }
        unpinned.copyFrom(lo, window, pinned.size());
        return Collections.unmodifiableList(Arrays.asList(window));
    }

    /** The position of the oldest unexpired message, for a ring in timestamp order. */
    private int firstLive(Instant cutoff) {
        int lo = 0;
        int hi = unpinned.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (unpinned.get(mid).timestamp().isBefore(cutoff)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    long count() {
        lock.readLock().lock();
        try {
            return pinned.size() + unpinned.size() - expiredCount(owner.expiryCutoff());
        } finally {
            lock.readLock().unlock();
        }
    }

    private int expiredCount(Instant cutoff) {
        if (cutoff == null) {
            return 0;
        }
        if (timestampsOrdered) {
            return firstLive(cutoff);
        }
        int n = 0;
        for (int i = 0; i < unpinned.size(); i++) {
            if (unpinned.get(i).timestamp().isBefore(cutoff)) {
                n++;
            }
        }
        return n;
    }

    private void insert(Message m) {
        insert(
                m,
                m.isPinned()
                        || (m.isToolResult() && answersPinned(m.toolCallId().orElseThrow())));
    }

    /** Stores {@code m} with the pinned messages or with the others, as {@code asPinned} says. */
    private void insert(Message m, boolean asPinned) {
        byId.put(m.id(), m);
        if (asPinned) {
            pinned.add(m);
            for (ToolCall call : m.toolCalls()) {
                pinnedCallOwner.put(call.id(), m.sequence());
            }
            return;
        }
        unpinned.addLast(m);
        unpinnedTokens += ContextWindows.tokens(m);
        if (m.isToolResult() || !m.toolCalls().isEmpty()) {
            unpinnedToolMessages++;
        }
        for (ToolCall call : m.toolCalls()) {
            unpinnedCallers.computeIfAbsent(call.id(), c -> new TreeSet<>()).add(m.sequence());
        }
        m.toolCallId().ifPresent(callId -> {
            Long assistant = unpinnedCallOwner(callId);
            if (assistant != null) {
                GroupCall groupCall = new GroupCall(assistant, callId);
                unpinnedResultByCall
                        .computeIfAbsent(groupCall, g -> new ArrayDeque<>())
                        .addLast(m.sequence());
                unpinnedCallOfResult.put(m.sequence(), groupCall);
            }
        });
        if (newestUnpinnedTimestamp != null && m.timestamp().isBefore(newestUnpinnedTimestamp)) {
            timestampsOrdered = false;
        }
        if (newestUnpinnedTimestamp == null || m.timestamp().isAfter(newestUnpinnedTimestamp)) {
            newestUnpinnedTimestamp = m.timestamp();
        }
    }

    /** The newest stored unpinned message that made call {@code callId}, or null. */
    private Long unpinnedCallOwner(String callId) {
        TreeSet<Long> callers = unpinnedCallers.get(callId);
        return callers == null ? null : callers.last();
    }

    /** Whether the newest stored message that made call {@code callId} is pinned. */
    private boolean answersPinned(String callId) {
        Long pinnedOwner = pinnedCallOwner.get(callId);
        if (pinnedOwner == null) {
            return false;
        }
        Long unpinnedOwner = unpinnedCallOwner(callId);
        return unpinnedOwner == null || unpinnedOwner < pinnedOwner;
    }

    private void forget(Message m) {
        byId.remove(m.id());
        unpinnedTokens -= ContextWindows.tokens(m);
        if (m.isToolResult() || !m.toolCalls().isEmpty()) {
            unpinnedToolMessages--;
        }
        for (ToolCall call : m.toolCalls()) {
            TreeSet<Long> callers = unpinnedCallers.get(call.id());
            // Usually the oldest, with none before it: retention removes the oldest first, but for expiry by
            // backdated timestamps.
            Long previous = callers.lower(m.sequence());
            callers.remove(m.sequence());
            if (callers.isEmpty()) {
                unpinnedCallers.remove(call.id());
            }
            ArrayDeque<Long> answers = unpinnedResultByCall.remove(new GroupCall(m.sequence(), call.id()));
            if (answers != null) {
                GroupCall to = previous == null ? null : new GroupCall(previous, call.id());
                for (Long answer : answers) {
                    if (to == null) {
                        unpinnedCallOfResult.remove(answer);
                    } else {
                        // Newer than every tool message of the previous caller's group: the order stays.
                        unpinnedResultByCall
                                .computeIfAbsent(to, g -> new ArrayDeque<>())
                                .addLast(answer);
                        unpinnedCallOfResult.put(answer, to);
                    }
                }
            }
        }
        GroupCall answered = unpinnedCallOfResult.remove(m.sequence());
        if (answered != null) {
            ArrayDeque<Long> answers = unpinnedResultByCall.get(answered);
            if (answers != null) {
                answers.removeFirstOccurrence(m.sequence());
                if (answers.isEmpty()) {
                    unpinnedResultByCall.remove(answered);
                }
            }
        }
    }

    private void clearGroups() {
        unpinnedCallers.clear();
        unpinnedResultByCall.clear();
        unpinnedCallOfResult.clear();
    }

    /** The sequence of the tool message in the group of {@code call} of the assistant message {@code m}, or null. */
    private Long resultOf(Message m, ToolCall call) {
        ArrayDeque<Long> answers = unpinnedResultByCall.get(new GroupCall(m.sequence(), call.id()));
        return answers == null ? null : answers.peekLast();
    }

    /** Removes what retention asks for, into {@code removed}, each cause's messages in chronological order. */
    private void applyRetention(Instant now, Map<RemovalCause, List<Message>> removed) {
        Retention retention = owner.retention();
        if (retention.isNone()) {
            return;
        }
        Instant cutoff = owner.expiryCutoff(now);
        if (cutoff != null) {
            removeExpired(cutoff, removed);
        }
        retention.overflow().ifPresent(overflow -> {
            if (unpinned.size() > overflow.maxSize()) {
                while (unpinned.size() > overflow.keep()) {
                    removeOldestGroup(RemovalCause.OVERFLOW, removed);
                }
            }
        });
        retention.maxMessages().ifPresent(max -> {
            while (unpinned.size() > max && !oldestGroupHoldsNewest()) {
                removeOldestGroup(RemovalCause.SIZE, removed);
            }
        });
        retention.maxTokens().ifPresent(max -> {
            while (unpinnedTokens > max && !oldestGroupHoldsNewest()) {
                removeOldestGroup(RemovalCause.TOKENS, removed);
            }
        });
        removed.values().forEach(list -> list.sort(Comparator.comparingLong(Message::sequence)));
    }

    private void removeExpired(Instant cutoff, Map<RemovalCause, List<Message>> removed) {
        if (timestampsOrdered) {
            while (!unpinned.isEmpty() && unpinned.get(0).timestamp().isBefore(cutoff)) {
                removeOldestGroup(RemovalCause.EXPIRED, removed);
            }
            return;
        }
        Set<Long> doomed = new HashSet<>();
        for (int i = 0; i < unpinned.size(); i++) {
            Message m = unpinned.get(i);
            if (m.timestamp().isBefore(cutoff)) {
                doomed.add(m.sequence());
                for (ToolCall call : m.toolCalls()) {
                    Long result = resultOf(m, call);
                    if (result != null) {
                        doomed.add(result);
                    }
                }
            }
        }
        if (doomed.isEmpty()) {
            return;
        }
        List<Message> kept = new ArrayList<>(unpinned.size() - doomed.size());
        List<Message> expired = removed.computeIfAbsent(RemovalCause.EXPIRED, c -> new ArrayList<>());
        while (!unpinned.isEmpty()) {
            Message m = unpinned.removeFirst();
            if (doomed.contains(m.sequence())) {
                forget(m);
                expired.add(m);
            } else {
                kept.add(m);
            }
        }
        timestampsOrdered = true;
        Instant newest = null;
        for (Message m : kept) {
            unpinned.addLast(m);
            if (newest != null && m.timestamp().isBefore(newest)) {
                timestampsOrdered = false;
            }
            if (newest == null || m.timestamp().isAfter(newest)) {
                newest = m.timestamp();
            }
        }
        newestUnpinnedTimestamp = newest;
    }

    /**
     * Whether the oldest group (the oldest message and its tool messages, if any) holds the newest message, which
     * {@link Retention#maxMessages()} and {@link Retention#maxTokens()} never remove. A group's tool messages need
     * not follow it directly, so the oldest group may hold the newest message while others lie between.
     */
    private boolean oldestGroupHoldsNewest() {
        Message oldest = unpinned.get(0);
        long newest = unpinned.get(unpinned.size() - 1).sequence();
        if (oldest.sequence() == newest) {
            return true;
        }
        for (ToolCall call : oldest.toolCalls()) {
            Long result = resultOf(oldest, call);
            if (result != null && result == newest) {
                return true;
            }
        }
        return false;
    }

    private void removeOldestGroup(RemovalCause cause, Map<RemovalCause, List<Message>> removed) {
        List<Message> list = removed.computeIfAbsent(cause, c -> new ArrayList<>());
        Message oldest = unpinned.removeFirst();
        List<Long> results = new ArrayList<>(oldest.toolCalls().size());
        for (ToolCall call : oldest.toolCalls()) {
            Long result = resultOf(oldest, call);
            if (result != null) {
                results.add(result);
            }
        }
        forget(oldest);
        list.add(oldest);
        for (Long result : results) {
            int at = unpinned.indexOfSequence(result);
            if (at >= 0) {
                Message m = at == 0 ? unpinned.removeFirst() : unpinned.removeAt(at);
                forget(m);
                list.add(m);
            }
        }
    }

    /** Undoes an append that failed before its removals were reported: restores the state before it. Costs O(n). */
    private void rollBack(long savedNextSequence, Map<RemovalCause, List<Message>> removed) {
        List<Message> unpinnedBefore = new ArrayList<>();
        for (int i = 0; i < unpinned.size(); i++) {
            unpinnedBefore.add(unpinned.get(i));
        }
        removed.values().forEach(unpinnedBefore::addAll);
        unpinnedBefore.removeIf(m -> m.sequence() >= savedNextSequence);
        unpinnedBefore.sort(Comparator.comparingLong(Message::sequence));
        List<Message> pinnedBefore = new ArrayList<>(pinned);
        pinnedBefore.removeIf(m -> m.sequence() >= savedNextSequence);

        pinned.clear();
        unpinned.clear();
        byId.clear();
        pinnedCallOwner.clear();
        clearGroups();
        unpinnedTokens = 0;
        unpinnedToolMessages = 0;
        timestampsOrdered = true;
        newestUnpinnedTimestamp = null;
        List<Message> all = new ArrayList<>(pinnedBefore);
        all.addAll(unpinnedBefore);
        all.sort(Comparator.comparingLong(Message::sequence));
        // Each message goes back where it was: whether a tool message is pinned was decided when it was stored.
        Set<Long> wasPinned = new HashSet<>();
        pinnedBefore.forEach(m -> wasPinned.add(m.sequence()));
        all.forEach(m -> insert(m, wasPinned.contains(m.sequence())));
        nextSequence = savedNextSequence;
    }

    /** Whether the session holds any message that is not expired. */
    boolean hasLiveMessages() {
        return count() > 0;
    }
}
