package io.agentmemory.core.window;

import io.agentmemory.ErrorCode;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Message;
import io.agentmemory.ToolCall;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The context-window rule of {@link io.agentmemory.MemoryStore#contextWindow(int)}, shared by every backend so that
 * all of them choose the same messages. Backends supply the pinned messages and a newest-first walk over the others;
 * the walk is consumed only as far as the budget reaches, so a backend can stream it in pages. Thread-safe
 * (stateless).
 *
 * <p>The rule: every pinned message first, chronological; then the newest run of unpinned messages whose stored
 * token counts fit in what the pinned ones leave. The run stops at the first message that does not fit, so the window
 * has no holes. An assistant message with tool calls and the tool messages answering it form one group that is
 * included whole or not at all; a tool message whose assistant message is not in the walk (an orphan) is left out.
 */
public final class ContextWindows {
    private ContextWindows() {}

    /**
     * Checks a window budget.
     *
     * @throws InvalidInputException with {@link ErrorCode#INVALID_QUERY} if {@code maxTokens < 1}
     */
    public static int checkBudget(int maxTokens) {
        if (maxTokens < 1) {
            throw new InvalidInputException(
                    ErrorCode.INVALID_QUERY, "maxTokens is " + maxTokens + "; a context window needs at least 1");
        }
        return maxTokens;
    }

    /** The stored token count of a message; stores count every message they keep. */
    public static int tokens(Message message) {
        return message.tokenCount()
                .orElseThrow(() -> new IllegalStateException(message + " has no stored token count"))
                .tokens();
    }

    /**
     * Selects a context window.
     *
     * @param maxTokens the budget, at least 1
     * @param pinned the pinned messages of the session, chronological, including the tool messages that answer a
     *     pinned assistant message
     * @param newestFirst the session's other messages, newest first; consumed lazily
     * @return the window: pinned messages, then the selected run, each chronological
     * @throws InvalidInputException with {@link ErrorCode#CONTEXT_BUDGET_EXCEEDED} if the pinned messages need more
     *     than {@code maxTokens}
     */
    public static List<Message> select(int maxTokens, List<Message> pinned, Iterator<Message> newestFirst) {
        checkBudget(maxTokens);
        long pinnedTokens = 0;
        for (Message m : pinned) {
            pinnedTokens += tokens(m);
        }
        if (pinnedTokens > maxTokens) {
            throw new InvalidInputException(
                    ErrorCode.CONTEXT_BUDGET_EXCEEDED,
                    "the " + pinned.size() + " pinned messages need " + pinnedTokens + " tokens, more than the "
                            + maxTokens + " asked for; raise maxTokens or unpin messages");
        }
        long budget = maxTokens - pinnedTokens;
        // The run, newest first; reversed at the end, or sorted when a tool-call group put results out of place.
        List<Message> run = new ArrayList<>();
        boolean groupsAdded = false;
        // Tool messages seen (newest first) whose assistant message has not been reached yet, by call id.
        Map<String, Message> waiting = null;
        while (newestFirst.hasNext()) {
            Message m = newestFirst.next();
            if (m.isToolResult()) {
                if (waiting == null) {
                    waiting = new LinkedHashMap<>();
                }
                waiting.putIfAbsent(m.toolCallId().orElseThrow(), m);
                continue;
            }
            long cost = tokens(m);
            if (m.toolCalls().isEmpty() || waiting == null || waiting.isEmpty()) {
                if (cost > budget) {
                    break;
                }
                budget -= cost;
                run.add(m);
                continue;
            }
            List<Message> results = new ArrayList<>(m.toolCalls().size());
            for (ToolCall call : m.toolCalls()) {
                Message result = waiting.get(call.id());
                if (result != null) {
                    results.add(result);
                    cost += tokens(result);
                }
            }
            if (cost > budget) {
                break;
            }
            budget -= cost;
            for (Message result : results) {
                waiting.remove(result.toolCallId().orElseThrow());
            }
            run.add(m);
            run.addAll(results);
            groupsAdded = true;
        }
        if (groupsAdded) {
            run.sort(Comparator.comparingLong(Message::sequence));
        } else {
            Collections.reverse(run);
        }
        if (pinned.isEmpty()) {
            return Collections.unmodifiableList(run);
        }
        List<Message> window = new ArrayList<>(pinned.size() + run.size());
        window.addAll(pinned);
        window.addAll(run);
        return Collections.unmodifiableList(window);
    }
}
