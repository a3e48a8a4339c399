package io.agentmemory;

import java.util.List;
import java.util.Set;

/**
 * A conversation memory: opens the stores of sessions, lists and deletes sessions. Implementations are
 * thread-safe. Two calls of {@link #session} with equal keys give stores over the same messages, so agents that are
 * handed the same key share one memory.
 */
public interface Memory extends AutoCloseable {
    /** The store of the session {@code key}; opening does no I/O and creates nothing until the first write. */
    MemoryStore session(SessionKey key);

    /** The store of the default scope of session {@code session} of {@code tenant}. */
    default MemoryStore session(String tenant, String session) {
        return session(SessionKey.of(tenant, session));
    }

    /**
     * The keys of {@code tenant}'s sessions that hold messages, every scope included, sorted.
     *
     * @throws InvalidInputException with {@link ErrorCode#INVALID_SESSION_KEY} if {@code tenant} is not a valid tenant
     * @throws MemoryException with {@link ErrorCode#UNSUPPORTED} unless {@link Capability#SESSION_LISTING} is declared
     */
    List<SessionKey> sessions(String tenant);

    /**
     * Deletes a session's messages, reporting them as {@link RemovalCause#CLEARED}: every message it holds, expired
     * ones that retention has not removed yet included.
     *
     * @return whether the session held any message, expired or not
     */
    boolean delete(SessionKey key);

    /** What this memory supports beyond the core contract. */
    Set<Capability> capabilities();

    /** Releases the backend's resources; afterwards every call fails with {@link ErrorCode#CLOSED}. Idempotent. */
    @Override
    void close();
}
