package io.agentmemory.internal;

import io.agentmemory.Added;
import io.agentmemory.ErrorCode;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Message;
import java.util.List;
import java.util.function.Supplier;

/** Checks of the arguments of {@link io.agentmemory.MemoryStore}'s methods. Not API. Thread-safe (stateless). */
public final class Checks {
    private Checks() {}

    /** {@code message}, or {@link ErrorCode#INVALID_MESSAGE} if it is null. */
    public static Message message(Message message) {
        if (message == null) {
            throw new InvalidInputException(ErrorCode.INVALID_MESSAGE, "message is missing");
        }
        return message;
    }

    /** {@code maxTokens}, or {@link ErrorCode#INVALID_QUERY} if it is below 1. */
    public static int budget(int maxTokens) {
        if (maxTokens < 1) {
            throw new InvalidInputException(
                    ErrorCode.INVALID_QUERY, "maxTokens is " + maxTokens + "; a context window needs at least 1");
        }
        return maxTokens;
    }

    /**
     * The result of {@link io.agentmemory.MemoryStore#addAndWindow} once {@code stored} is stored: the window, or its
     * {@link ErrorCode#CONTEXT_BUDGET_EXCEEDED} with word that the message was stored all the same.
     */
    public static Added added(Message stored, Supplier<List<Message>> window) {
        try {
            return new Added(stored, window.get());
        } catch (InvalidInputException e) {
            if (e.code() != ErrorCode.CONTEXT_BUDGET_EXCEEDED) {
                throw e;
            }
            throw new InvalidInputException(
                    ErrorCode.CONTEXT_BUDGET_EXCEEDED,
                    e.getMessage() + "; the message was stored all the same, as sequence " + stored.sequence());
        }
    }
}
