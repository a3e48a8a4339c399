package io.agentmemory.tck;

import io.agentmemory.HistoryQuery;
import io.agentmemory.Message;
import io.agentmemory.ToolCall;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The contract's read rules written as plainly as possible, for comparing a backend's answers with. Works on the
 * stored messages of one session in sequence order. Thread-safe (stateless).
 */
final class Reference {
    private Reference() {}

    /** {@link io.agentmemory.MemoryStore#history(HistoryQuery)}: filter, then offset and limit from the newest. */
    static List<Message> history(List<Message> stored, HistoryQuery query) {
        List<Message> matching = stored.stream().filter(query::matches).toList();
        int end = Math.max(0, matching.size() - query.offset());
        int start = query.limit().isPresent() ? Math.max(0, end - query.limit().getAsInt()) : 0;
        return matching.subList(start, end);
    }

    static int tokens(Message m) {
        return m.tokenCount().orElseThrow().tokens();
    }

    /**
     * {@link io.agentmemory.MemoryStore#contextWindow(int)} for a session whose tool messages directly follow the
     * assistant message that called them (or answer no stored call at all): every pinned message and the tool
     * messages answering a pinned assistant message, chronological; then the newest run of groups (a message, or an
     * assistant message with its stored tool messages) that fits, stopping at the first group that does not fit.
     *
     * @return the window, or empty if the pinned messages alone need more than {@code maxTokens}
     */
    static Optional<List<Message>> window(List<Message> stored, int maxTokens) {
        Set<String> allCalls = new HashSet<>();
        for (Message m : stored) {
            for (ToolCall c : m.toolCalls()) {
                allCalls.add(c.id());
            }
        }
        // A tool message answers the newest message before it that made its call, and is pinned when that one is.
        Map<String, Boolean> newestCallerPinned = new HashMap<>();
        List<Message> pinned = new ArrayList<>();
        List<Message> others = new ArrayList<>();
        long pinnedTokens = 0;
        for (Message m : stored) {
            for (ToolCall c : m.toolCalls()) {
                newestCallerPinned.put(c.id(), m.isPinned());
            }
            if (m.isPinned()
                    || (m.isToolResult()
                            && newestCallerPinned.getOrDefault(m.toolCallId().orElseThrow(), false))) {
                pinned.add(m);
                pinnedTokens += tokens(m);
            } else if (!m.isToolResult() || allCalls.contains(m.toolCallId().orElseThrow())) {
                others.add(m);
            }
        }
        if (pinnedTokens > maxTokens) {
            return Optional.empty();
        }
        long budget = maxTokens - pinnedTokens;
        Map<String, Message> waiting = new LinkedHashMap<>();
        List<Message> run = new ArrayList<>();
        for (int i = others.size() - 1; i >= 0; i--) {
            Message m = others.get(i);
            if (m.isToolResult()) {
                waiting.putIfAbsent(m.toolCallId().orElseThrow(), m);
                continue;
            }
            List<Message> group = new ArrayList<>(List.of(m));
            for (ToolCall c : m.toolCalls()) {
                Message result = waiting.remove(c.id());
                if (result != null) {
                    group.add(result);
                }
            }
            long cost = group.stream().mapToLong(Reference::tokens).sum();
            if (cost > budget) {
                break;
            }
            budget -= cost;
            run.addAll(group);
        }
        run.sort(Comparator.comparingLong(Message::sequence));
        List<Message> window = new ArrayList<>(pinned);
        window.addAll(run);
        return Optional.of(window);
    }
}
