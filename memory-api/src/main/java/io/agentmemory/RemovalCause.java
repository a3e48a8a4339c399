package io.agentmemory;

/**
 * Why messages were removed from a session. Every physical removal carries exactly one cause. The declaration order
 * is the order in which retention applies the causes, so an {@link java.util.EnumMap} reports them in that order.
 */
public enum RemovalCause {
    /** The messages were older than {@link Retention#maxAge()}. */
    EXPIRED,
    /** The session overflowed {@link Retention.Overflow#maxSize()}; all but the newest fraction were handed off. */
    OVERFLOW,
    /** The session held more unpinned messages than {@link Retention#maxMessages()}; the oldest went first. */
    SIZE,
    /** The session's unpinned messages held more tokens than {@link Retention#maxTokens()}; the oldest went first. */
    TOKENS,
    /** The messages were replaced by a summary that records their ids. */
    SUMMARIZED,
    /** The session was cleared or deleted. */
    CLEARED
}
