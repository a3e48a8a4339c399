package io.agentmemory.core.backend;

import io.agentmemory.Message;
import io.agentmemory.ToolCall;
import java.util.HashSet;
import java.util.Set;

/**
 * Decides, in append order, which messages a backend keeps with the pinned ones: pinned messages and the tool
 * messages that answer a pinned assistant message's calls. Not thread-safe: use under the session's lock.
 */
public final class PinnedCalls {
    private final Set<String> callIds = new HashSet<>();

    /** Whether {@code m} belongs with the pinned messages; records the calls of a pinned assistant message. */
    public boolean admit(Message m) {
        boolean answersPinned =
                m.isToolResult() && callIds.contains(m.toolCallId().orElseThrow());
        if (!m.isPinned() && !answersPinned) {
            return false;
        }
        for (ToolCall call : m.toolCalls()) {
            callIds.add(call.id());
        }
        return true;
    }

    /** Forgets every call. */
    public void clear() {
        callIds.clear();
    }
}
