package io.agentmemory;

/** Stored data failed an integrity check: it was tampered with, is corrupt, or could not be decrypted. */
public class IntegrityException extends MemoryException {
    private static final long serialVersionUID = 1L;

    public IntegrityException(String message) {
        super(ErrorCode.INTEGRITY_FAILURE, message);
    }

    public IntegrityException(String message, Throwable cause) {
        super(ErrorCode.INTEGRITY_FAILURE, message, cause);
    }
}
