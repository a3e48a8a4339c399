package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.inmemory.InMemoryMemory;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MutableClock;
import io.agentmemory.tck.RecordingEvictionListener;
import io.agentmemory.tck.TckTokenCounter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review: max age removes a2 (backdated), the newer of two replies making call c, in the same write in which SIZE
 * then removes the older reply a1. On the in-memory backend (and memory-redis) a2's other answer t1 answers a1 by then
 * and goes with it; memory-jdbc's plan works a1's group out with a2 still counted as a caller, so t1 stays behind.
 */
class MovedAnswerSameWriteTest {
    private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    static Path directory;

    private static TestPostgres.Database database;

    @BeforeAll
    static void createDatabase() {
        database = TestPostgres.createDatabase("movedanswer");
    }

    @AfterAll
    static void dropDatabase() {
        database.close();
    }

    private static Message call(String content, Instant at) {
        return Message.assistant(content, List.of(new ToolCall("c", "f", "{}"))).toBuilder()
                .timestamp(at)
                .build();
    }

    private static Message tool(String content, Instant at) {
        return Message.tool("c", content).toBuilder().timestamp(at).build();
    }

    /** The run's removals ("CAUSE:content") and then the history ("kept:content"). */
    private static List<String> run(Function<MemoryContext, Memory> open, boolean olderAnswer) {
        MutableClock clock = new MutableClock(START);
        RecordingEvictionListener listener = new RecordingEvictionListener();
        Retention retention = Retention.builder()
                .maxAge(Duration.ofHours(1))
                .maxMessages(olderAnswer ? 6 : 5)
                .build();
        try (Memory memory = open.apply(new MemoryContext(clock, new TckTokenCounter(), retention, listener))) {
            MemoryStore store = memory.session(SessionKey.of("moved-" + UUID.randomUUID(), "s"));
            Instant t0 = clock.instant();
            store.add(call("a1", t0));
            if (olderAnswer) {
                store.add(tool("t0", t0));
            }
            store.add(call("a2", t0.minus(Duration.ofMinutes(50))));
            store.add(tool("t1", t0));
            store.add(tool("t2", t0));
            clock.advance(Duration.ofMinutes(15)); // a2 has expired, nothing else has
            List<Message> users = new ArrayList<>();
            for (int i = 1; i <= 4; i++) {
                users.add(Message.user("u" + i).toBuilder()
                        .timestamp(clock.instant())
                        .build());
            }
            store.addAll(users);
            List<String> out = new ArrayList<>();
            listener.events().forEach(e -> e.messages().forEach(m -> out.add(e.cause() + ":" + m.content())));
            store.history().forEach(m -> out.add("kept:" + m.content()));
            return out;
        }
    }

    private static Memory inMemory(MemoryContext context) {
        return InMemoryMemory.create(context);
    }

    private static Memory h2(MemoryContext context) {
        return JdbcMemory.open(
                JdbcSettings.builder()
                        .url("jdbc:h2:file:" + directory.resolve("memory"))
                        .build(),
                context);
    }

    private static Memory postgres(MemoryContext context) {
        return JdbcMemory.open(
                JdbcSettings.builder().url(database.url()).poolSize(2).build(), context);
    }

    @Test
    void theReferenceRemovesTheMovedAnswerWithTheOlderReply() {
        assertThat(run(MovedAnswerSameWriteTest::inMemory, false))
                .containsExactly(
                        "EXPIRED:a2", "EXPIRED:t2", "SIZE:a1", "SIZE:t1", "kept:u1", "kept:u2", "kept:u3", "kept:u4");
    }

    @Test
    void h2RemovesTheMovedAnswerWithTheOlderReplyInTheSameWrite() {
        assertThat(run(MovedAnswerSameWriteTest::h2, false)).isEqualTo(run(MovedAnswerSameWriteTest::inMemory, false));
    }

    @Test
    void postgresRemovesTheMovedAnswerWithTheOlderReplyInTheSameWrite() {
        assertThat(run(MovedAnswerSameWriteTest::postgres, false))
                .isEqualTo(run(MovedAnswerSameWriteTest::inMemory, false));
    }

    /** a1 has an answer of its own, t0: after a2 expires, t1 is a1's group, not t0. */
    @Test
    void h2TakesTheMovedAnswerNotTheOlderOneWhenTheOlderReplyHadAnAnswer() {
        assertThat(run(MovedAnswerSameWriteTest::h2, true)).isEqualTo(run(MovedAnswerSameWriteTest::inMemory, true));
    }
}
