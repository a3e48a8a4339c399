package io.agentmemory;

/**
 * Optional features a {@link Memory} declares. A backend that does not declare a capability rejects its use: a
 * retention it cannot enforce at creation, with a {@link ConfigurationException}; a query filter it cannot evaluate
 * at the call, with {@link ErrorCode#UNSUPPORTED}. The compatibility kit checks both directions.
 */
public enum Capability {
    /** History queries filter on metadata equality. */
    METADATA_FILTER,
    /** History queries filter on a timestamp range. */
    TIME_RANGE_FILTER,
    /** {@link Retention#maxMessages()} is enforced. */
    MAX_MESSAGES,
    /** {@link Retention#maxTokens()} is enforced. */
    MAX_TOKENS,
    /** {@link Retention#maxAge()} is enforced. */
    MAX_AGE,
    /** {@link Retention#overflow()} is enforced. */
    OVERFLOW,
    /** {@link Memory#sessions(String)} lists a tenant's sessions. */
    SESSION_LISTING,
    /** Messages survive closing the memory and opening it again with the same settings. */
    PERSISTENT
}
