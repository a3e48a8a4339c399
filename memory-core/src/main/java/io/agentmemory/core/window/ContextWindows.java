package io.agentmemory.core.window;

import io.agentmemory.ErrorCode;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Message;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import io.agentmemory.internal.Checks;
import java.util.ArrayList;
import java.util.Arrays;
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
 * A tool message answers the newest assistant message before it that made its call (call ids may repeat across
 * replies); of several tool messages answering one call, the newest is in the group and the others are left out.
 */
public final class ContextWindows {
    private ContextWindows() {}

    /**
     * Checks a window budget.
     *
     * @throws InvalidInputException with {@link ErrorCode#INVALID_QUERY} if {@code maxTokens < 1}
     */
    public static int checkBudget(int maxTokens) {
        return Checks.budget(maxTokens);
    }

    /**
     * What a window of {@code maxTokens} leaves for unpinned messages once {@code pinned} are in.
     *
     * @throws InvalidInputException with {@link ErrorCode#INVALID_QUERY} if {@code maxTokens < 1}, or with
     *     {@link ErrorCode#CONTEXT_BUDGET_EXCEEDED} if the pinned messages need more
     */
    public static long budgetAfterPinned(int maxTokens, List<Message> pinned) {
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
        return maxTokens - pinnedTokens;
    }

    /** The stored token count of a message; stores count every message they keep. */
    public static int tokens(Message message) {
        TokenCount count = message.tokenCount().orElse(null);
        if (count == null) {
            throw new IllegalStateException(message + " has no stored token count");
        }
        return count.tokens();
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
        return select(maxTokens, pinned, newestFirst, 16);
    }

    /**
     * Selects a context window, like {@link #select(int, List, Iterator)}, with a hint of how many messages the walk
     * holds (a backend that knows it saves the copies of a growing buffer).
     *
     * @param sizeHint the number of messages {@code newestFirst} yields at most, or a guess
     */
    public static List<Message> select(
            int maxTokens, List<Message> pinned, Iterator<Message> newestFirst, int sizeHint) {
        long budget = budgetAfterPinned(maxTokens, pinned);
        // The run, filled from the back of the buffer so that it ends up chronological; sorted at the end only when
        // a tool-call group put results out of place.
        Message[] run = new Message[Math.max(1, sizeHint)];
        int start = run.length;
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
                if (start == 0) {
                    run = grow(run);
                    start = run.length / 2;
                }
                run[--start] = m;
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
            while (start < results.size() + 1) {
                run = grow(run);
                start += run.length / 2;
            }
            run[--start] = m;
            for (Message result : results) {
                run[--start] = result;
            }
            groupsAdded = true;
        }
        int size = run.length - start;
        if (pinned.isEmpty() && !groupsAdded) {
            return Collections.unmodifiableList(Arrays.asList(run).subList(start, run.length));
        }
        Message[] window = new Message[pinned.size() + size];
        for (int i = 0; i < pinned.size(); i++) {
            window[i] = pinned.get(i);
        }
        System.arraycopy(run, start, window, pinned.size(), size);
        if (groupsAdded) {
            Arrays.sort(window, pinned.size(), window.length, Comparator.comparingLong(Message::sequence));
        }
        return Collections.unmodifiableList(Arrays.asList(window));
    }

    /** A buffer twice as long with the contents moved to its back half. */
    private static Message[] grow(Message[] run) {
        Message[] bigger = new Message[run.length * 2];
        System.arraycopy(run, 0, bigger, run.length, run.length);
        return bigger;
    }
}
