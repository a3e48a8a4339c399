package io.agentmemory.internal;

import io.agentmemory.Added;
import io.agentmemory.BackendUnavailableException;
import io.agentmemory.ConfigurationException;
import io.agentmemory.ErrorCode;
import io.agentmemory.IntegrityException;
import io.agentmemory.InvalidInputException;
import io.agentmemory.MemoryException;
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
     * The result of {@link io.agentmemory.MemoryStore#addAndWindow} once {@code stored} is stored: the window, or the
     * failure to make it, of the same type and code, saying that the message was stored all the same and marked
     * {@link AfterStore}.
     */
    public static Added added(Message stored, Supplier<List<Message>> window) {
        try {
            return new Added(stored, window.get());
        } catch (MemoryException e) {
            if (e instanceof AfterStore) {
                throw e;
            }
            String message = e.getMessage() + "; the message was stored all the same, as sequence " + stored.sequence()
                    + ", and a retry with the same message stores nothing twice";
            if (e instanceof InvalidInputException) {
                throw new InvalidAfterStore(e.code(), message);
            }
            if (e instanceof BackendUnavailableException) {
                throw new UnavailableAfterStore(message, e);
            }
            if (e instanceof IntegrityException) {
                throw new IntegrityAfterStore(message, e);
            }
            if (e instanceof ConfigurationException) {
                throw new ConfigurationAfterStore(message, e);
            }
            throw new FailureAfterStore(e.code(), message, e);
        }
    }

    /**
     * Marks an exception of {@link io.agentmemory.MemoryStore#addAndWindow} thrown after its message was stored, when
     * only the window failed.
     */
    public interface AfterStore {}

    private static final class InvalidAfterStore extends InvalidInputException implements AfterStore {
        private static final long serialVersionUID = 1L;

        InvalidAfterStore(ErrorCode code, String message) {
            super(code, message);
        }
    }

    private static final class UnavailableAfterStore extends BackendUnavailableException implements AfterStore {
        private static final long serialVersionUID = 1L;

        UnavailableAfterStore(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final class IntegrityAfterStore extends IntegrityException implements AfterStore {
        private static final long serialVersionUID = 1L;

        IntegrityAfterStore(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final class ConfigurationAfterStore extends ConfigurationException implements AfterStore {
        private static final long serialVersionUID = 1L;

        ConfigurationAfterStore(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final class FailureAfterStore extends MemoryException implements AfterStore {
        private static final long serialVersionUID = 1L;

        FailureAfterStore(ErrorCode code, String message, Throwable cause) {
            super(code, message, cause);
        }
    }
}
