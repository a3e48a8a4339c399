package io.agentmemory;

/** Input was rejected before anything was changed: the store is exactly as it was. */
public class InvalidInputException extends MemoryException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(ErrorCode code, String message) {
        super(code, message);
    }
}
