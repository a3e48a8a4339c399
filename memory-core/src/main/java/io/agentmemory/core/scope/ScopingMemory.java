package io.agentmemory.core.scope;

import io.agentmemory.ConfigurationException;
import io.agentmemory.ErrorCode;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.SessionKey;
import io.agentmemory.core.decorator.ForwardingMemory;
import io.agentmemory.internal.Text;
import java.util.List;
import java.util.Objects;

/**
 * The {@code scope} decorator: confines every caller to one named scope of each session, so that, for example, two
 * agents or two environments sharing one backend never see each other's messages. A key in the default scope maps
 * to the scope {@code name}; a key with scope {@code s} maps to {@code name:s}, so {@code s} may have at most
 * {@link SessionKey#MAX_LENGTH} minus the length of {@code name:} characters (a longer one is invalid input). Listing
 * returns keys as the caller sees them. Thread-safe when the delegate is.
 */
public final class ScopingMemory extends ForwardingMemory {
    /** The decorator's name in {@code memory.decorators}. */
    public static final String NAME = "scope";

    private final String scope;

    private ScopingMemory(Memory delegate, String scope) {
        super(delegate);
        this.scope = scope;
    }

    /**
     * Confines {@code delegate} to scope {@code scope}.
     *
     * @param scope non-blank, without ':', at most 128 characters
     */
    public static ScopingMemory of(Memory delegate, String scope) {
        try {
            Text.identifier(scope, "scope name", 128, ErrorCode.CONFIGURATION);
        } catch (InvalidInputException e) {
            throw new ConfigurationException("memory.scope.name: " + e.getMessage());
        }
        if (scope.indexOf(':') >= 0) {
            throw new ConfigurationException("memory.scope.name must not contain ':'");
        }
        return new ScopingMemory(Objects.requireNonNull(delegate, "delegate"), scope);
    }

    private SessionKey inner(SessionKey key) {
        if (key == null) {
            throw new InvalidInputException(ErrorCode.INVALID_SESSION_KEY, "session key is missing");
        }
        if (key.isDefaultScope()) {
            return key.withScope(scope);
        }
        int longest = SessionKey.MAX_LENGTH - scope.length() - 1;
        if (key.scope().length() > longest) {
            throw new InvalidInputException(
                    ErrorCode.INVALID_SESSION_KEY,
                    "scope is " + key.scope().length() + " characters long; under the scope decorator '" + scope
                            + "' at most " + longest + " are allowed, since it is stored as '" + scope
                            + ":' followed by the scope");
        }
        return key.withScope(scope + ":" + key.scope());
    }

    @Override
    public MemoryStore session(SessionKey key) {
        SessionKey outer = key;
        MemoryStore store = delegate().session(inner(key));
        return new io.agentmemory.core.decorator.ForwardingMemoryStore(store) {
            @Override
            public SessionKey key() {
                return outer;
            }
        };
    }

    @Override
    public List<SessionKey> sessions(String tenant) {
        String prefix = scope + ":";
        return delegate().sessions(tenant).stream()
                .filter(k -> k.scope().equals(scope) || k.scope().startsWith(prefix))
                .map(k -> k.withScope(k.scope().equals(scope) ? "" : k.scope().substring(prefix.length())))
                .sorted()
                .toList();
    }

    @Override
    public boolean delete(SessionKey key) {
        return delegate().delete(inner(key));
    }

    @Override
    public String toString() {
        return "ScopingMemory[scope=" + scope + ", " + delegate() + "]";
    }
}
