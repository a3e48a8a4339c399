package io.agentmemory.core.backend;

import io.agentmemory.Message;
import io.agentmemory.ToolCall;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Decides, in append order, which messages a backend keeps with the pinned ones: pinned messages, and the tool
 * messages that answer a pinned assistant message. A tool message answers the newest message before it that made its
 * call (call ids come back in later replies), so it is pinned when that message is. Not thread-safe: use under the
 * session's lock.
 */
public final class PinnedCalls {
    private final Map<String, Boolean> newestCallerPinned = new HashMap<>();
    private final Predicate<String> earlier;

    /** For messages appended in order from the session's first: no call was made before them. */
    public PinnedCalls() {
        this(callId -> false);
    }

    /**
     * For messages appended after others already stored.
     *
     * @param earlier whether the newest stored message that made a call (by its id) is pinned; asked only for calls
     *     that no message given to {@link #admit} made
     */
    public PinnedCalls(Predicate<String> earlier) {
        this.earlier = earlier;
    }

    /** Whether {@code m} belongs with the pinned messages; records which message made each of its calls. */
    public boolean admit(Message m) {
        boolean pinned = m.isPinned()
                || (m.isToolResult() && newestCallerPinned(m.toolCallId().orElseThrow()));
        for (ToolCall call : m.toolCalls()) {
            newestCallerPinned.put(call.id(), pinned);
        }
        return pinned;
    }

    private boolean newestCallerPinned(String callId) {
        Boolean pinned = newestCallerPinned.get(callId);
        return pinned != null ? pinned : earlier.test(callId);
    }
}
