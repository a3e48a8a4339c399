package io.agentmemory.core.inmemory;

import io.agentmemory.Message;
import io.agentmemory.core.window.ContextWindows;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A growable circular array of messages in sequence order: O(1) append, removal of the oldest and access by
 * position; O(log n) search by sequence; O(1) token total of the newest messages from any position, from running
 * token totals kept beside the messages. Not thread-safe.
 */
final class MessageRing {
    private Message[] elements = new Message[16];
    /** For each slot, the running token total of every message appended before it. */
    private long[] before = new long[16];
    /** The running token total after the newest message. */
    private long total;

    private int head;
    private int size;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The {@code i}-th oldest message, from 0. */
    Message get(int i) {
        return elements[(head + i) & (elements.length - 1)];
    }

    void addLast(Message m) {
        if (size == elements.length) {
            grow();
        }
        int slot = (head + size) & (elements.length - 1);
        elements[slot] = m;
        before[slot] = total;
        total += ContextWindows.tokens(m);
        size++;
    }

    /** The tokens of the messages from position {@code i} to the newest. */
    long tokensFrom(int i) {
        return i >= size ? 0 : total - before[(head + i) & (elements.length - 1)];
    }

    /** Copies the messages from position {@code from} to the newest into {@code into} at {@code at}. */
    void copyFrom(int from, Message[] into, int at) {
        int n = size - from;
        int first = (head + from) & (elements.length - 1);
        int firstPart = Math.min(n, elements.length - first);
        System.arraycopy(elements, first, into, at, firstPart);
        System.arraycopy(elements, 0, into, at + firstPart, n - firstPart);
    }

    Message removeFirst() {
        Message m = elements[head];
        elements[head] = null;
        head = (head + 1) & (elements.length - 1);
        size--;
        return m;
    }

    Message removeLast() {
        int i = (head + size - 1) & (elements.length - 1);
        Message m = elements[i];
        elements[i] = null;
        total = before[i];
        size--;
        return m;
    }

    /** Removes the {@code i}-th oldest message; O(n). */
    Message removeAt(int i) {
        Message m = get(i);
        int mask = elements.length - 1;
        long tokens = ContextWindows.tokens(m);
        for (int j = i; j < size - 1; j++) {
            int to = (head + j) & mask;
            int from = (head + j + 1) & mask;
            elements[to] = elements[from];
            before[to] = before[from] - tokens;
        }
        elements[(head + size - 1) & mask] = null;
        total -= tokens;
        size--;
        return m;
    }

    /** The position of the message with sequence {@code seq}, or -1. */
    int indexOfSequence(long seq) {
        int lo = 0;
        int hi = size - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long s = get(mid).sequence();
            if (s < seq) {
                lo = mid + 1;
            } else if (s > seq) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    void clear() {
        Arrays.fill(elements, null);
        head = 0;
        size = 0;
        total = 0;
    }

    /** Newest first, from position {@code size() - 1} down to 0. */
    Iterator<Message> newestFirst() {
        return new Iterator<>() {
            private int next = size - 1;

            @Override
            public boolean hasNext() {
                return next >= 0;
            }

            @Override
            public Message next() {
                if (next < 0) {
                    throw new NoSuchElementException();
                }
                return get(next--);
            }
        };
    }

    private void grow() {
        Message[] bigger = new Message[elements.length * 2];
        long[] biggerBefore = new long[elements.length * 2];
        for (int i = 0; i < size; i++) {
            int slot = (head + i) & (elements.length - 1);
            bigger[i] = elements[slot];
            biggerBefore[i] = before[slot];
        }
        elements = bigger;
        before = biggerBefore;
        head = 0;
    }
}
