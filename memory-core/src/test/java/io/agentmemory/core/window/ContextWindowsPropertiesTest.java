package io.agentmemory.core.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.ErrorCode;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Message;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ContextWindowsPropertiesTest {

    /** A random conversation: plain turns, pinned messages, tool-call groups, orphan tool results. */
    static List<Message> conversation(long seed, int size) {
        Random random = new Random(seed);
        List<Message> out = new ArrayList<>();
        long seq = 1;
        int call = 0;
        while (out.size() < size) {
            int kind = random.nextInt(10);
            int tokens = 1 + random.nextInt(40);
            if (kind == 0) {
                out.add(stored(Message.builder(Message.SYSTEM, "s"), seq++, tokens));
            } else if (kind == 1) {
                out.add(stored(Message.builder(Message.USER, "p").pinned(), seq++, tokens));
            } else if (kind <= 3) {
                int calls = 1 + random.nextInt(3);
                List<ToolCall> toolCalls = new ArrayList<>();
                for (int c = 0; c < calls; c++) {
                    toolCalls.add(new ToolCall("c" + call++, "tool", "{}"));
                }
                out.add(stored(Message.builder(Message.ASSISTANT, "").toolCalls(toolCalls), seq++, tokens));
                for (ToolCall tc : toolCalls) {
                    if (random.nextInt(5) > 0) { // some calls are not answered (yet)
                        out.add(stored(
                                Message.builder(Message.TOOL, "r").toolCallId(tc.id()), seq++, 1 + random.nextInt(40)));
                    }
                }
            } else if (kind == 4) {
                out.add(stored(Message.builder(Message.TOOL, "orphan").toolCallId("gone" + call++), seq++, tokens));
            } else {
                String role = random.nextBoolean() ? Message.USER : Message.ASSISTANT;
                out.add(stored(Message.builder(role, "m"), seq++, tokens));
            }
        }
        return out;
    }

    static Message stored(Message.Builder b, long seq, int tokens) {
        return b.sequence(seq).tokenCount(new TokenCount(tokens, "test")).build();
    }

    /** Splits like a backend does: pinned ones (and the tool results of pinned calls) versus the rest. */
    static List<List<Message>> split(List<Message> all) {
        List<Message> pinned = new ArrayList<>();
        List<Message> rest = new ArrayList<>();
        Set<String> pinnedCalls = new HashSet<>();
        for (Message m : all) {
            if (m.isPinned()
                    || (m.isToolResult() && pinnedCalls.contains(m.toolCallId().orElseThrow()))) {
                pinned.add(m);
                m.toolCalls().forEach(c -> pinnedCalls.add(c.id()));
            } else {
                rest.add(m);
            }
        }
        return List.of(pinned, rest);
    }

    static List<Message> select(int budget, List<Message> pinned, List<Message> rest) {
        List<Message> newestFirst = new ArrayList<>(rest);
        java.util.Collections.reverse(newestFirst);
        return ContextWindows.select(budget, pinned, newestFirst.iterator());
    }

    @Property(tries = 500)
    void windowObeysEveryRule(
            @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 60) int size,
            @ForAll @IntRange(min = 1, max = 1500) int budget) {
        List<Message> all = conversation(seed, size);
        List<List<Message>> parts = split(all);
        List<Message> pinned = parts.get(0);
        List<Message> rest = parts.get(1);
        long pinnedTokens = pinned.stream().mapToLong(ContextWindows::tokens).sum();
        if (pinnedTokens > budget) {
            assertThatThrownBy(() -> select(budget, pinned, rest))
                    .isInstanceOf(InvalidInputException.class)
                    .extracting(e -> ((InvalidInputException) e).code())
                    .isEqualTo(ErrorCode.CONTEXT_BUDGET_EXCEEDED);
            return;
        }
        List<Message> window = select(budget, pinned, rest);

        // Budget, and pinned first in chronological order.
        assertThat(window.stream().mapToLong(ContextWindows::tokens).sum()).isLessThanOrEqualTo(budget);
        assertThat(window.subList(0, pinned.size())).isEqualTo(pinned);
        List<Message> run = window.subList(pinned.size(), window.size());
        for (int i = 1; i < run.size(); i++) {
            assertThat(run.get(i).sequence()).isGreaterThan(run.get(i - 1).sequence());
        }

        // Tool calls whole: a result only with its assistant; an assistant with all of its stored results.
        Map<String, Message> assistantOfCall = new HashMap<>();
        Map<String, Message> resultOfCall = new HashMap<>();
        for (Message m : all) {
            m.toolCalls().forEach(c -> assistantOfCall.put(c.id(), m));
            m.toolCallId().ifPresent(id -> resultOfCall.putIfAbsent(id, m));
        }
        Set<Message> in = new HashSet<>(window);
        for (Message m : window) {
            if (m.isToolResult()) {
                assertThat(in).contains(assistantOfCall.get(m.toolCallId().orElseThrow()));
            }
            for (ToolCall c : m.toolCalls()) {
                Message result = resultOfCall.get(c.id());
                if (result != null) {
                    assertThat(in).contains(result);
                }
            }
        }

        // No holes: every non-orphan message newer than the oldest selected one is selected, and the group just
        // older than the run did not fit in what was left.
        if (!run.isEmpty()) {
            long oldest = run.get(0).sequence();
            for (Message m : rest) {
                boolean leftOut = m.isToolResult()
                        && !in.contains(assistantOfCall.get(m.toolCallId().orElseThrow()));
                if (m.sequence() > oldest && !leftOut) {
                    assertThat(in)
                            .as("message %s is newer than the run's start", m.sequence())
                            .contains(m);
                }
            }
        }
        long left = budget - window.stream().mapToLong(ContextWindows::tokens).sum();
        Message nextOlder = null;
        for (Message m : rest) {
            if (!m.isToolResult()
                    && !in.contains(m)
                    && (run.isEmpty() || m.sequence() < run.get(0).sequence())) {
                nextOlder = m;
            }
        }
        if (nextOlder != null) {
            long cost = ContextWindows.tokens(nextOlder);
            for (ToolCall c : nextOlder.toolCalls()) {
                Message result = resultOfCall.get(c.id());
                if (result != null) {
                    cost += ContextWindows.tokens(result);
                }
            }
            assertThat(cost).as("the next older group would have fitted").isGreaterThan(left);
        }
    }

    @Test
    void exactBudgetIsIncludedAndOneLessDropsTheOldest() {
        List<Message> rest = List.of(
                stored(Message.builder(Message.USER, "a"), 1, 10),
                stored(Message.builder(Message.ASSISTANT, "b"), 2, 20),
                stored(Message.builder(Message.USER, "c"), 3, 30));
        assertThat(select(60, List.of(), rest)).hasSize(3);
        assertThat(select(59, List.of(), rest)).extracting(Message::sequence).containsExactly(2L, 3L);
    }

    @Test
    void aBudgetBelowOneIsRejected() {
        assertThatThrownBy(() -> select(0, List.of(), List.of()))
                .isInstanceOf(InvalidInputException.class)
                .extracting(e -> ((InvalidInputException) e).code())
                .isEqualTo(ErrorCode.INVALID_QUERY);
    }
}
