package io.agentmemory;

/** What went wrong, as a stable code that callers can switch on. */
public enum ErrorCode {
    /** A message failed validation: role, content, metadata, tool-call fields or token count. */
    INVALID_MESSAGE(false),
    /** A session key failed validation. */
    INVALID_SESSION_KEY(false),
    /** A history query or window request failed validation. */
    INVALID_QUERY(false),
    /** The pinned messages alone need more tokens than the requested context window allows. */
    CONTEXT_BUDGET_EXCEEDED(false),
    /** The backend does not support what was asked; see {@link Memory#capabilities()}. */
    UNSUPPORTED(false),
    /** The backend could not be reached or failed transiently; the operation may be retried. */
    BACKEND_UNAVAILABLE(true),
    /** Stored data was tampered with, corrupt or could not be decrypted. */
    INTEGRITY_FAILURE(false),
    /** The memory was configured wrongly. */
    CONFIGURATION(false),
    /** A user callback (eviction listener, token counter) threw; the operation was not applied. */
    CALLBACK_FAILED(false),
    /** The memory was closed. */
    CLOSED(false);

    private final boolean retryable;

    ErrorCode(boolean retryable) {
        this.retryable = retryable;
    }

    /** Whether repeating the same operation may succeed without any change by the caller. */
    public boolean retryable() {
        return retryable;
    }
}
