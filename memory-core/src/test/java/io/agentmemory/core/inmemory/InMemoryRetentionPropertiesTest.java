package io.agentmemory.core.inmemory;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.ToolCall;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.tck.MutableClock;
import java.time.Duration;
import java.time.Instant;
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

/** Random conversations against random retention settings: the invariants of {@link Retention} always hold. */
class InMemoryRetentionPropertiesTest {

    @Property(tries = 300)
    void retentionInvariantsHold(
            @ForAll long seed,
            @ForAll @IntRange(min = 1, max = 30) int maxMessages,
            @ForAll @IntRange(min = 1, max = 400) int maxTokens,
            @ForAll @IntRange(min = 0, max = 4) int mode) {
        Random random = new Random(seed);
        Retention.Builder retention = Retention.builder();
        switch (mode) {
            case 0 -> retention.maxMessages(maxMessages);
            case 1 -> retention.maxTokens(maxTokens);
            case 2 -> retention.overflow(maxMessages, 0.8);
            case 3 -> retention.maxAge(Duration.ofMinutes(30));
            default -> retention.maxMessages(maxMessages).maxTokens(maxTokens).maxAge(Duration.ofMinutes(30));
        }
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        MutableClock clock = new MutableClock(start);
        Map<String, RemovalCause> reported = new HashMap<>();
        List<String> duplicates = new ArrayList<>();
        EvictionListener listener = (key, removed, cause) -> {
            assertThat(removed).isNotEmpty();
            for (int i = 1; i < removed.size(); i++) {
                assertThat(removed.get(i).sequence())
                        .isGreaterThan(removed.get(i - 1).sequence());
            }
            removed.forEach(m -> {
                if (reported.put(m.id(), cause) != null) {
                    duplicates.add(m.id());
                }
            });
        };
        Retention r = retention.build();
        try (Memory memory = InMemoryMemory.builder()
                .clock(clock)
                .tokenCounter(m -> m.content().length())
                .retention(r)
                .evictionListener(listener)
                .build()) {
            MemoryStore store = memory.session("t", "s");
            List<Message> appended = new ArrayList<>();
            int call = 0;
            for (int step = 0; step < 120; step++) {
                clock.advance(java.time.Duration.ofSeconds(random.nextInt(120)));
                int kind = random.nextInt(10);
                String content = "x".repeat(1 + random.nextInt(30));
                if (kind == 0) {
                    appended.add(store.add(Message.builder(Message.SYSTEM, content)
                            .timestamp(clock.instant())
                            .build()));
                } else if (kind <= 2) {
                    List<ToolCall> calls = List.of(new ToolCall("c" + call++, "t", "{}"));
                    List<Message> group = new ArrayList<>();
                    group.add(Message.builder(Message.ASSISTANT, content)
                            .toolCalls(calls)
                            .timestamp(clock.instant())
                            .build());
                    if (random.nextBoolean()) {
                        group.add(Message.builder(Message.TOOL, content)
                                .toolCallId(calls.get(0).id())
                                .timestamp(clock.instant())
                                .build());
                    }
                    appended.addAll(store.addAll(group));
                } else {
                    appended.add(store.add(Message.builder(Message.USER, content)
                            .timestamp(clock.instant())
                            .build()));
                }
                check(store, r, clock.instant(), appended, reported);
            }
            assertThat(duplicates).as("messages reported twice").isEmpty();
        }
    }

    private static void check(
            MemoryStore store, Retention r, Instant now, List<Message> appended, Map<String, RemovalCause> reported) {
        List<Message> history = store.history();
        Set<String> held = new HashSet<>();
        for (int i = 0; i < history.size(); i++) {
            held.add(history.get(i).id());
            if (i > 0) {
                assertThat(history.get(i).sequence())
                        .isGreaterThan(history.get(i - 1).sequence());
            }
        }
        // Nothing lost: every appended message is held or was reported, never both.
        for (Message m : appended) {
            assertThat(held.contains(m.id()) ^ reported.containsKey(m.id()))
                    .as("message %s is held xor reported", m.sequence())
                    .isTrue();
            if (m.isPinned()) {
                assertThat(held).contains(m.id());
            }
        }
        List<Message> unpinned = history.stream().filter(m -> !m.isPinned()).toList();
        Map<String, Message> assistants = new HashMap<>();
        unpinned.forEach(m -> m.toolCalls().forEach(c -> assistants.put(c.id(), m)));
        // A tool result is never left without its assistant message (groups are removed whole).
        for (Message m : unpinned) {
            if (m.isToolResult()) {
                assertThat(assistants).containsKey(m.toolCallId().orElseThrow());
            }
        }
        int oldestGroup = unpinned.isEmpty()
                ? 0
                : 1
                        + (int) unpinned.stream()
                                .filter(m -> m.isToolResult()
                                        && unpinned.get(0).toolCalls().stream()
                                                .anyMatch(c -> c.id().equals(
                                                                m.toolCallId().orElseThrow())))
                                .count();
        r.maxMessages().ifPresent(max -> {
            if (unpinned.size() > max) {
                assertThat(oldestGroup)
                        .as("over maxMessages only to keep the newest group whole")
                        .isEqualTo(unpinned.size());
            }
        });
        r.overflow().ifPresent(o -> assertThat(unpinned.size()).isLessThanOrEqualTo(o.maxSize()));
        r.maxTokens().ifPresent(max -> {
            long tokens = unpinned.stream().mapToLong(ContextWindows::tokens).sum();
            if (tokens > max) {
                assertThat(oldestGroup)
                        .as("over maxTokens only to keep the newest group whole")
                        .isEqualTo(unpinned.size());
            }
        });
        r.maxAge().ifPresent(age -> {
            for (Message m : unpinned) {
                assertThat(m.timestamp()).isAfterOrEqualTo(now.minus(age));
            }
        });
        assertThat(store.count()).isEqualTo(history.size());
    }
}
