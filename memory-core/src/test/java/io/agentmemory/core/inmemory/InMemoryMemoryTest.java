package io.agentmemory.core.inmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.ErrorCode;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.TokenCounter;
import io.agentmemory.ToolCall;
import io.agentmemory.tck.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Behaviour of the in-memory backend beyond the contract kit (which {@link InMemoryMemoryContractTest} runs). */
class InMemoryMemoryTest {

    @Test
    void appendingAnIdTheSessionHoldsReturnsTheStoredMessageAndWritesNothing() {
        try (Memory memory = InMemoryMemory.builder().build()) {
            MemoryStore store = memory.session("t", "s");
            Message m = Message.user("hello");
            Message first = store.add(m);
            Message again = store.add(m);
            assertThat(again).isEqualTo(first);
            assertThat(store.count()).isEqualTo(1);
            List<Message> batch = store.addAll(List.of(m, Message.user("next")));
            assertThat(batch.get(0)).isEqualTo(first);
            assertThat(batch.get(1).sequence()).isEqualTo(2);
            assertThat(store.count()).isEqualTo(2);
        }
    }

    @Test
    void aThrowingListenerLeavesTheStoreExactlyAsItWas() {
        AtomicBoolean fail = new AtomicBoolean();
        try (Memory memory = InMemoryMemory.builder()
                .retention(Retention.maxMessages(3))
                .evictionListener((key, removed, cause) -> {
                    if (fail.get()) {
                        throw new IllegalStateException("archive down");
                    }
                })
                .build()) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.system("rules"));
            store.add(Message.assistant("", List.of(new ToolCall("c1", "f", "{}"))));
            store.add(Message.tool("c1", "result"));
            store.add(Message.user("u1"));
            List<Message> before = store.history();
            List<Message> windowBefore = store.contextWindow(1000);
            fail.set(true);
            assertThatThrownBy(() -> store.addAll(List.of(Message.user("u2"), Message.user("u3"))))
                    .isInstanceOf(MemoryException.class)
                    .satisfies(e -> assertThat(((MemoryException) e).code()).isEqualTo(ErrorCode.CALLBACK_FAILED))
                    .hasMessageNotContaining("u2");
            assertThat(store.history()).isEqualTo(before);
            assertThat(store.contextWindow(1000)).isEqualTo(windowBefore);
            assertThat(store.count()).isEqualTo(4);
            fail.set(false);
            List<Message> stored = store.addAll(List.of(Message.user("u2"), Message.user("u3")));
            assertThat(stored.get(0).sequence())
                    .as("sequence numbers are not burnt")
                    .isEqualTo(5);
            // The tool-call group went whole, for SIZE; the system prompt stays.
            assertThat(store.history()).extracting(Message::content).containsExactly("rules", "u1", "u2", "u3");
        }
    }

    @Test
    void aListenerThatThrowsAnErrorLeavesTheStoreExactlyAsItWas() {
        AtomicBoolean fail = new AtomicBoolean();
        List<String> reported = new ArrayList<>();
        try (Memory memory = InMemoryMemory.builder()
                .retention(Retention.maxMessages(2))
                .evictionListener((key, removed, cause) -> {
                    if (fail.get()) {
                        throw new AssertionError("archive check failed");
                    }
                    removed.forEach(m -> reported.add(m.content()));
                })
                .build()) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.user("u1"));
            store.add(Message.user("u2"));
            List<Message> before = store.history();
            fail.set(true);
            assertThatThrownBy(() -> store.add(Message.user("u3"))).isInstanceOf(AssertionError.class);
            assertThat(store.history()).as("nothing removed unreported").isEqualTo(before);
            assertThat(store.count()).isEqualTo(2);
            fail.set(false);
            Message u3 = store.add(Message.user("u3"));
            assertThat(u3.sequence()).as("sequence numbers are not burnt").isEqualTo(3);
            assertThat(reported).containsExactly("u1");
            assertThat(store.history()).extracting(Message::content).containsExactly("u2", "u3");
        }
    }

    @Test
    void aClockThatThrowsFailsTheWriteAndWritesNothing() {
        AtomicBoolean fail = new AtomicBoolean();
        Clock clock = new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                if (fail.get()) {
                    throw new IllegalStateException("time source down");
                }
                return Instant.parse("2026-03-01T12:00:00Z");
            }
        };
        try (Memory memory = InMemoryMemory.builder()
                .clock(clock)
                .retention(Retention.maxAge(Duration.ofDays(1)))
                .build()) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.builder("user", "u1").timestamp(clock.instant()).build());
            fail.set(true);
            assertThatThrownBy(() -> store.add(Message.user("u2"))).isInstanceOf(IllegalStateException.class);
            fail.set(false);
            assertThat(store.history()).extracting(Message::content).containsExactly("u1");
            assertThat(store.add(Message.user("u3")).sequence()).isEqualTo(2);
        }
    }

    @Test
    void aTokenCounterWithABadIdFailsAsACallbackAndWritesNothing() {
        TokenCounter blankId = new TokenCounter() {
            @Override
            public int count(Message message) {
                return 1;
            }

            @Override
            public String id() {
                return " ";
            }
        };
        TokenCounter throwingId = new TokenCounter() {
            @Override
            public int count(Message message) {
                return 1;
            }

            @Override
            public String id() {
                throw new IllegalStateException("no id");
            }
        };
        for (TokenCounter counter : List.of(blankId, throwingId)) {
            try (Memory memory = InMemoryMemory.builder().tokenCounter(counter).build()) {
                MemoryStore store = memory.session("t", "s");
                assertThatThrownBy(() -> store.add(Message.user("secret content")))
                        .isInstanceOf(MemoryException.class)
                        .satisfies(e -> assertThat(((MemoryException) e).code()).isEqualTo(ErrorCode.CALLBACK_FAILED))
                        .hasMessageContaining("token counter")
                        .hasMessageNotContaining("secret content");
                assertThat(store.count()).isZero();
            }
        }
    }

    @Test
    void messagesWithOutOfOrderTimestampsStillExpireExactly() {
        MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
        List<RemovalCause> causes = new ArrayList<>();
        List<String> expired = new ArrayList<>();
        try (Memory memory = InMemoryMemory.builder()
                .clock(clock)
                .retention(Retention.maxAge(Duration.ofHours(1)))
                .evictionListener((key, removed, cause) -> {
                    causes.add(cause);
                    removed.forEach(m -> expired.add(m.content()));
                })
                .build()) {
            MemoryStore store = memory.session("t", "s");
            Instant t = clock.instant();
            store.add(Message.builder("user", "new").timestamp(t).build());
            store.add(Message.builder("user", "imported-old")
                    .timestamp(t.minus(Duration.ofMinutes(50)))
                    .build());
            store.add(
                    Message.builder("user", "newer").timestamp(t.plusSeconds(5)).build());
            clock.set(t.plus(Duration.ofMinutes(15)));
            assertThat(store.history()).extracting(Message::content).containsExactly("new", "newer");
            assertThat(store.count()).isEqualTo(2);
            assertThat(store.contextWindow(1000)).extracting(Message::content).containsExactly("new", "newer");
            store.add(
                    Message.builder("user", "latest").timestamp(clock.instant()).build());
            assertThat(causes).containsExactly(RemovalCause.EXPIRED);
            assertThat(expired).containsExactly("imported-old");
            assertThat(store.history()).extracting(Message::content).containsExactly("new", "newer", "latest");
        }
    }

    @Test
    void toolMessagesAnsweringAPinnedCallArePinnedToo() {
        try (Memory memory =
                InMemoryMemory.builder().retention(Retention.maxMessages(1)).build()) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.builder(Message.ASSISTANT, "")
                    .toolCalls(List.of(new ToolCall("c1", "profile", "{}")))
                    .pinned()
                    .build());
            store.add(Message.tool("c1", "profile: Alice"));
            for (int i = 0; i < 5; i++) {
                store.add(Message.user("u" + i));
            }
            assertThat(store.history()).extracting(Message::content).containsExactly("", "profile: Alice", "u4");
            assertThat(store.contextWindow(1000)).hasSize(3);
        }
    }

    @Test
    void theInMemoryBackendIsFoundByServiceLoaderUnderItsName() {
        List<String> names = new ArrayList<>();
        ServiceLoader.load(io.agentmemory.spi.MemoryPlugin.class)
                .forEach(p -> p.backends().forEach(b -> names.add(b.name())));
        assertThat(names).contains(InMemoryMemory.NAME);
    }
}
