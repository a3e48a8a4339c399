package io.agentmemory;

/** The memory was configured wrongly; the message names the setting and what it accepts. */
public class ConfigurationException extends MemoryException {
    private static final long serialVersionUID = 1L;

    public ConfigurationException(String message) {
        super(ErrorCode.CONFIGURATION, message);
    }

    public ConfigurationException(String message, Throwable cause) {
        super(ErrorCode.CONFIGURATION, message, cause);
    }
}
