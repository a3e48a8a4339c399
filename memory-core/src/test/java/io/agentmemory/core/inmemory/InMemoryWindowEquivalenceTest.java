package io.agentmemory.core.inmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.InvalidInputException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.ToolCall;
import io.agentmemory.core.backend.PinnedCalls;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.tck.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The in-memory backend answers windows of tool-free sessions by a short cut over running token totals; whatever
 * the path, its windows equal the shared rule's ({@link ContextWindows#select}) over the same live messages.
 */
class InMemoryWindowEquivalenceTest {

    @Property(tries = 400)
    void windowsEqualTheSharedRule(
            @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 80) int size,
            @ForAll @IntRange(min = 1, max = 2000) int budget,
            @ForAll boolean withTools,
            @ForAll boolean withExpiry,
            @ForAll @IntRange(min = 0, max = 40) int evictAt) {
        Random random = new Random(seed);
        MutableClock clock = new MutableClock(Instant.parse("2026-05-01T00:00:00Z"));
        Retention.Builder retention = Retention.builder();
        if (withExpiry) {
            retention.maxAge(Duration.ofMinutes(20));
        }
        if (evictAt > 0) {
            retention.maxMessages(evictAt);
        }
        try (Memory memory = InMemoryMemory.builder()
                .clock(clock)
                .tokenCounter(m -> m.content().length())
                .retention(retention.build())
                .build()) {
            MemoryStore store = memory.session("t", "s");
            int call = 0;
            for (int i = 0; i < size; i++) {
                clock.advance(java.time.Duration.ofSeconds(random.nextInt(90)));
                String content = "x".repeat(random.nextInt(60));
                int kind = random.nextInt(12);
                if (kind == 0) {
                    store.add(Message.builder(Message.SYSTEM, content)
                            .timestamp(clock.instant())
                            .build());
                } else if (kind == 1) {
                    store.add(Message.builder(Message.USER, content)
                            .pinned()
                            .timestamp(clock.instant())
                            .build());
                } else if (withTools && kind <= 3) {
                    String id = "c" + call++;
                    store.addAll(List.of(
                            Message.builder(Message.ASSISTANT, content)
                                    .toolCalls(List.of(new ToolCall(id, "f", "{}")))
                                    .timestamp(clock.instant())
                                    .build(),
                            Message.builder(Message.TOOL, content)
                                    .toolCallId(id)
                                    .timestamp(clock.instant())
                                    .build()));
                } else {
                    store.add(Message.builder(random.nextBoolean() ? Message.USER : Message.ASSISTANT, content)
                            .timestamp(clock.instant())
                            .build());
                }
            }
            clock.advance(java.time.Duration.ofSeconds(random.nextInt(600)));

            List<Message> history = store.history();
            List<Message> pinned = new ArrayList<>();
            List<Message> rest = new ArrayList<>();
            PinnedCalls calls = new PinnedCalls();
            for (Message m : history) {
                (calls.admit(m) ? pinned : rest).add(m);
            }
            Collections.reverse(rest);
            // The given budget, and budgets that are exactly what a run of the newest messages needs, and one less.
            long pinnedTokens =
                    pinned.stream().mapToLong(ContextWindows::tokens).sum();
            List<Integer> budgets = new ArrayList<>(List.of(budget));
            long suffix = pinnedTokens;
            for (Message m : rest) {
                suffix += ContextWindows.tokens(m);
                if (random.nextInt(4) == 0 && suffix >= 2) {
                    budgets.add((int) suffix);
                    budgets.add((int) suffix - 1);
                }
            }
            for (int b : budgets) {
                List<Message> expected;
                try {
                    expected = ContextWindows.select(b, pinned, rest.iterator());
                } catch (InvalidInputException e) {
                    assertThatThrownBy(() -> store.contextWindow(b))
                            .isInstanceOf(InvalidInputException.class)
                            .hasMessage(e.getMessage());
                    continue;
                }
                assertThat(store.contextWindow(b)).as("window of %s tokens", b).isEqualTo(expected);
            }
        }
    }
}
