package io.agentmemory;

/**
 * The backend could not be reached or failed transiently. Whether the operation took effect is stated by the
 * backend's documentation; operations with caller-assigned message ids are safe to retry.
 */
public class BackendUnavailableException extends MemoryException {
    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(String message, Throwable cause) {
        super(ErrorCode.BACKEND_UNAVAILABLE, message, cause);
    }
}
