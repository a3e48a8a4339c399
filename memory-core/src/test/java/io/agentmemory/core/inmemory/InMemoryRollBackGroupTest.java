package io.agentmemory.core.inmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.ToolCall;
import io.agentmemory.tck.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A failed write leaves the session as it was, tool-call groups included. Here a tool message t1 answered a2 (the
 * newest caller when it was stored); a2 expired (backdated) with its group's newest answer t2, and t1 then answers
 * a1, the newest stored message before it that made the call. A failed write puts every message back; the removals
 * that follow are the same as without it.
 */
class InMemoryRollBackGroupTest {

    private static Message call(String content, String callId, Instant at) {
        return Message.assistant(content, List.of(new ToolCall(callId, "f", "{}"))).toBuilder()
                .timestamp(at)
                .build();
    }

    private static List<String> run(boolean failOnce) {
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
        List<String> removed = new ArrayList<>();
        AtomicBoolean fail = new AtomicBoolean();
        try (Memory memory = InMemoryMemory.builder()
                .clock(clock)
                .retention(Retention.builder()
                        .maxAge(Duration.ofHours(1))
                        .maxMessages(4)
                        .build())
                .evictionListener((key, messages, cause) -> {
                    if (fail.get()) {
                        throw new IllegalStateException("refused");
                    }
                    messages.forEach(m -> removed.add(cause + ":" + m.content()));
                })
                .build()) {
            MemoryStore store = memory.session("t", "s");
            Instant t0 = clock.instant();
            store.add(call("a1", "c", t0));
            store.add(call("a2", "c", t0.minus(Duration.ofMinutes(50))));
            store.add(Message.tool("c", "t1").toBuilder().timestamp(t0).build());
            store.add(Message.tool("c", "t2").toBuilder().timestamp(t0).build());
            clock.set(t0.plus(Duration.ofMinutes(15))); // a2 has expired; a1, t1, t2 have not
            store.add(Message.user("u1").toBuilder().timestamp(clock.instant()).build());
            assertThat(removed).containsExactly("EXPIRED:a2", "EXPIRED:t2");
            store.add(Message.user("u2").toBuilder().timestamp(clock.instant()).build());
            Message u3 =
                    Message.user("u3").toBuilder().timestamp(clock.instant()).build();
            if (failOnce) {
                fail.set(true);
                assertThatThrownBy(() -> store.add(u3)).isInstanceOf(MemoryException.class);
                fail.set(false);
            }
            store.add(u3);
            List<String> out = new ArrayList<>(removed);
            store.history().forEach(m -> out.add("kept:" + m.content()));
            return out;
        }
    }

    @Test
    void aFailedWriteLeavesTheGroupsAsTheyWere() {
        List<String> withoutFailure = run(false);
        assertThat(withoutFailure)
                .containsExactly("EXPIRED:a2", "EXPIRED:t2", "SIZE:a1", "SIZE:t1", "kept:u1", "kept:u2", "kept:u3");
        assertThat(run(true)).as("the same after a failed write").isEqualTo(withoutFailure);
    }
}
