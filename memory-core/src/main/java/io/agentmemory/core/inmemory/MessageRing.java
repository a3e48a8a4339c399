package io.agentmemory.core.inmemory;

import io.agentmemory.Message;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A growable circular array of messages in sequence order: O(1) append, removal of the oldest and access by
 * position; O(log n) search by sequence. Not thread-safe.
 */
final class MessageRing {
    private Message[] elements = new Message[16];
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
        elements[(head + size) & (elements.length - 1)] = m;
        size++;
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
        size--;
        return m;
    }

    /** Removes the {@code i}-th oldest message; O(n). */
    Message removeAt(int i) {
        Message m = get(i);
        for (int j = i; j < size - 1; j++) {
            elements[(head + j) & (elements.length - 1)] = get(j + 1);
        }
        elements[(head + size - 1) & (elements.length - 1)] = null;
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
        for (int i = 0; i < size; i++) {
            bigger[i] = get(i);
        }
        elements = bigger;
        head = 0;
    }
}
