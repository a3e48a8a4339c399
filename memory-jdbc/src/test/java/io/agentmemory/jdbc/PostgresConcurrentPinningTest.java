package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * A tool message appended by PostgreSQL's single statement while another writer's transaction, which stores a newer
 * unpinned message making the same call, holds the session's row: the tool message gets the sequence number after
 * that message (the lock serializes them), so it answers that unpinned message and must not be pinned.
 */
class PostgresConcurrentPinningTest {

    @Test
    void aToolMessageWaitingForTheSessionLockAnswersTheMessageCommittedBeforeIt() throws Exception {
        try (TestPostgres.Database database = TestPostgres.createDatabase("pinrace")) {
            CountDownLatch inListener = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean block = new AtomicBoolean();
            MemoryContext context = new MemoryContext(
                    Clock.systemUTC(), TokenCounters.heuristic(), Retention.maxMessages(2), (k, removed, cause) -> {
                        if (block.getAndSet(false)) {
                            inListener.countDown();
                            try {
                                release.await(30, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    });
            try (Memory memory = JdbcMemory.open(
                    JdbcSettings.builder().url(database.url()).poolSize(4).build(), context)) {
                SessionKey key = SessionKey.of("race", "s");
                MemoryStore store = memory.session(key);
                Message pinnedCall = store.add(Message.builder(Message.ASSISTANT, "pinned call")
                        .toolCalls(List.of(new ToolCall("call_0", "f", "{}")))
                        .pinned()
                        .build());
                store.add(Message.user("u1"));
                store.add(Message.user("u2"));

                ExecutorService pool = Executors.newFixedThreadPool(2);
                try {
                    block.set(true);
                    // Writer 1: a reply that makes call_0 again (unpinned) and a user message; its retention removes
                    // u1 and u2 and the listener holds the transaction (and the session row's lock) open.
                    Future<List<Message>> first = pool.submit(() -> store.addAll(List.of(
                            Message.assistant("reply", List.of(new ToolCall("call_0", "f", "{}"))),
                            Message.user("u3"))));
                    assertThat(inListener.await(30, TimeUnit.SECONDS)).isTrue();
                    // Writer 2: the reply's tool result, which waits for the session row.
                    Future<Message> second = pool.submit(() -> store.add(Message.tool("call_0", "result")));
                    awaitLockWaiter(database);
                    release.countDown();
                    List<Message> batch = first.get(30, TimeUnit.SECONDS);
                    Message result = second.get(30, TimeUnit.SECONDS);
                    assertThat(result.sequence()).isGreaterThan(batch.get(1).sequence());

                    // The newest stored message that made call_0 before the result is the unpinned reply.
                    SoftAssertions soft = new SoftAssertions();
                    soft.assertThat(pinnedColumn(database, result.sequence()))
                            .as("pinned column of the tool result answering the unpinned reply")
                            .isFalse();
                    // As the contract says: a tool result never appears without the assistant message that asked.
                    int budget = (pinnedCall.tokenCount().orElseThrow().tokens()
                            + result.tokenCount().orElseThrow().tokens());
                    soft.assertThat(store.contextWindow(budget))
                            .as("window of %d tokens", budget)
                            .extracting(Message::content)
                            .doesNotContain("result");
                    soft.assertThat(store.contextWindow(10_000))
                            .extracting(Message::content)
                            .containsExactly("pinned call", "reply", "u3", "result");
                    soft.assertAll();
                } finally {
                    release.countDown();
                    pool.shutdownNow();
                }
            }
        }
    }

    /** Waits until a backend of the memory waits for a lock in the test database. */
    private static void awaitLockWaiter(TestPostgres.Database database) throws Exception {
        try (Connection c = database.connect();
                PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE datname = ?"
                        + " AND wait_event_type = 'Lock' AND application_name = 'agentmemory'")) {
            ps.setString(1, database.name());
            for (int i = 0; i < 600; i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the tool message's append never waited for the session row");
    }

    private static boolean pinnedColumn(TestPostgres.Database database, long seq) throws Exception {
        try (Connection c = database.connect();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT pinned FROM agentmemory_messages WHERE tenant = 'race' AND seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getBoolean(1);
            }
        }
    }
}
