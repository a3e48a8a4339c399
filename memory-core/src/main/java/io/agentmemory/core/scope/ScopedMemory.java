package io.agentmemory.core.scope;

import io.agentmemory.Capability;
import io.agentmemory.ErrorCode;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import java.util.List;
import java.util.Objects;

/**
 * Named, isolated scopes of one session over one backend: each scope is a store of its own (the session's key with
 * {@link SessionKey#withScope(String) that scope}), so messages added to scope {@code "user_123"} are never seen in
 * scope {@code "system"}. Scopes are created by their first message. Thread-safe when the memory is.
 *
 * <pre>{@code
 * ScopedMemory scoped = ScopedMemory.over(memory, SessionKey.of("acme", "support"));
 * scoped.add(Message.user("Hi"), "user_123");
 * scoped.add(Message.system("Escalate refunds"), "system");
 * scoped.scope("user_123").history();   // only "Hi"
 * }</pre>
 */
public final class ScopedMemory {
    private final Memory memory;
    private final SessionKey session;

    private ScopedMemory(Memory memory, SessionKey session) {
        this.memory = Objects.requireNonNull(memory, "memory");
        this.session = Objects.requireNonNull(session, "session").withScope("");
    }

    /** Scopes of {@code session} (its own scope is ignored) stored in {@code memory}. */
    public static ScopedMemory over(Memory memory, SessionKey session) {
        return new ScopedMemory(memory, session);
    }

    /** The store of scope {@code name}; the empty name is the session's default scope. */
    public MemoryStore scope(String name) {
        if (name == null) {
            throw new InvalidInputException(ErrorCode.INVALID_SESSION_KEY, "scope name is missing");
        }
        return memory.session(session.withScope(name));
    }

    /** Adds {@code message} to scope {@code scope}. */
    public Message add(Message message, String scope) {
        return scope(scope).add(message);
    }

    /**
     * The names of the scopes that hold messages, sorted.
     *
     * @throws MemoryException with {@link ErrorCode#UNSUPPORTED} if the memory cannot list sessions
     */
    public List<String> scopes() {
        if (!memory.capabilities().contains(Capability.SESSION_LISTING)) {
            throw new MemoryException(ErrorCode.UNSUPPORTED, "this memory cannot list sessions, so not scopes either");
        }
        return memory.sessions(session.tenant()).stream()
                .filter(key -> key.session().equals(session.session()))
                .map(SessionKey::scope)
                .toList();
    }

    /** The session whose scopes these are. */
    public SessionKey session() {
        return session;
    }
}
