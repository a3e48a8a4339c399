package io.agentmemory.tck;

import io.agentmemory.Message;
import io.agentmemory.TokenCounter;

/**
 * The kit's token counter, chosen so that tests can build messages of an exact cost: a message costs its content's
 * length in UTF-16 characters, plus one, plus three per tool call. Thread-safe (stateless) and deterministic.
 */
public final class TckTokenCounter implements TokenCounter {
    /** The {@link #id()} of this counter. */
    public static final String ID = "tck-length-plus-one";

    /** What one tool call adds to a message's cost. */
    public static final int PER_TOOL_CALL = 3;

    @Override
    public int count(Message message) {
        return message.content().length()
                + 1
                + PER_TOOL_CALL * message.toolCalls().size();
    }

    @Override
    public String id() {
        return ID;
    }
}
