package io.agentmemory;

import java.util.List;
import java.util.Objects;

/**
 * What {@link MemoryStore#addAndWindow} returns: the message as stored, and the session's context window after it.
 *
 * @param message the message as stored, with its sequence number and token count; the message the session already
 *     held when it held the id
 * @param window the context window, by the rules of {@link MemoryStore#contextWindow}; immutable
 */
public record Added(Message message, List<Message> window) {
    public Added {
        Objects.requireNonNull(message, "message");
        window = List.copyOf(window);
    }
}
