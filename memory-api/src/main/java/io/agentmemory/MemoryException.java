package io.agentmemory;

import java.util.Objects;

/**
 * The root of every exception agentmemory throws. Messages say what was wrong and how to fix it; they never contain
 * message content or secrets.
 */
public class MemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public MemoryException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public MemoryException(ErrorCode code, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** The stable code of this failure. */
    public ErrorCode code() {
        return code;
    }

    /** Whether the same operation may succeed if repeated; true only for transient backend failures. */
    public boolean isRetryable() {
        return code.retryable();
    }
}
