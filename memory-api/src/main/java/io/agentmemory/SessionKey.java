package io.agentmemory;

import io.agentmemory.internal.Text;

/**
 * Addresses one conversation: a tenant, a session within it, and a scope within the session (empty for the default
 * scope). Two keys address the same messages exactly when they are equal. Each part is at most {@link #MAX_LENGTH}
 * characters of well-formed Unicode with no control characters; tenant and session are not blank. Any other
 * character, including {@code / * { } : " '} and spaces, is allowed: backends store keys so that they can neither
 * collide nor be interpreted.
 *
 * @param tenant the owner of the session, e.g. an organization
 * @param session the conversation's id within the tenant
 * @param scope a named scope within the session, or the empty string for the default scope
 */
public record SessionKey(String tenant, String session, String scope) implements Comparable<SessionKey> {
    /** The longest tenant, session or scope accepted, in UTF-16 characters. */
    public static final int MAX_LENGTH = 256;

    public SessionKey {
        Text.identifier(tenant, "tenant", MAX_LENGTH, ErrorCode.INVALID_SESSION_KEY);
        Text.identifier(session, "session id", MAX_LENGTH, ErrorCode.INVALID_SESSION_KEY);
        Text.boundedText(scope, "scope", MAX_LENGTH, ErrorCode.INVALID_SESSION_KEY);
    }

    /** The key of a session's default scope. */
    public static SessionKey of(String tenant, String session) {
        return new SessionKey(tenant, session, "");
    }

    /** The same session in another scope. */
    public SessionKey withScope(String scope) {
        return new SessionKey(tenant, session, scope);
    }

    /** Whether this is the session's default scope. */
    public boolean isDefaultScope() {
        return scope.isEmpty();
    }

    @Override
    public int compareTo(SessionKey o) {
        int c = tenant.compareTo(o.tenant);
        if (c == 0) {
            c = session.compareTo(o.session);
        }
        return c != 0 ? c : scope.compareTo(o.scope);
    }

    @Override
    public String toString() {
        return "SessionKey[tenant=" + tenant + ", session=" + session + (scope.isEmpty() ? "" : ", scope=" + scope)
                + "]";
    }
}
