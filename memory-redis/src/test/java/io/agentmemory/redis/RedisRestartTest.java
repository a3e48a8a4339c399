package io.agentmemory.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.RecordingEvictionListener;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A standalone Redis with persistence on (appendonly, fsync on every write) and a password, killed (SIGKILL) and
 * started again while writers append: the memory reports a retryable error while the server is away, reconnects by
 * itself, loses no acknowledged message, and the writers' retries (same message ids) add no duplicate.
 */
class RedisRestartTest {
    private static final String PASSWORD = "pw-" + java.util.UUID.randomUUID();
    private static final int WRITERS = 4;
    private static final int PER_WRITER = 300;

    private static RedisProcess persistentServer() {
        return RedisProcess.start(
                "restart", List.of("--appendonly", "yes", "--appendfsync", "always", "--requirepass", PASSWORD));
    }

    private static RedisSettings settings(RedisProcess server) {
        return RedisSettings.builder()
                .node("127.0.0.1", server.port())
                .password(PASSWORD)
                .keyPrefix(TestRedis.newPrefix("restart"))
                .timeout(Duration.ofSeconds(2))
                .lockLease(Duration.ofSeconds(2))
                .build();
    }

    @Test
    void aKilledAndRestartedServerLosesNoAcknowledgedMessageAndRetriesAddNoDuplicate() throws Exception {
        try (RedisProcess server = persistentServer();
                Memory memory = RedisMemory.open(
                        settings(server),
                        new MemoryContext(
                                Clock.systemUTC(),
                                TokenCounters.heuristic(),
                                Retention.none(),
                                EvictionListener.NONE))) {
            MemoryStore store = memory.session(SessionKey.of("acme", "restart"));
            Retrying retrying = new Retrying(PASSWORD);
            List<List<Message>> acknowledged = runWriters(store, retrying, server);

            List<Message> history = retrying.call(store::history);
            assertThat(history).hasSize(WRITERS * PER_WRITER);
            assertThat(history.stream().map(Message::id).distinct().count()).isEqualTo(WRITERS * PER_WRITER);
            for (int i = 0; i < history.size(); i++) {
                assertThat(history.get(i).sequence()).isEqualTo(i + 1);
            }
            for (List<Message> mine : acknowledged) {
                assertThat(history).containsAll(mine);
                List<Message> inOrder = history.stream().filter(mine::contains).toList();
                assertThat(inOrder).containsExactlyElementsOf(mine);
            }
            assertThat(retrying.failures())
                    .as("calls that failed while the server was away")
                    .isPositive();
            assertThat(store.count()).isEqualTo(WRITERS * PER_WRITER);
            assertThat(memory.sessions("acme")).containsExactly(SessionKey.of("acme", "restart"));
        }
    }

    /** With an eviction listener (two-phase writes) and retention: nothing lost, every removal reported. */
    @Test
    void aRestartDuringTwoPhaseWritesLosesNothingAndReportsEveryRemoval() throws Exception {
        RecordingEvictionListener listener = new RecordingEvictionListener();
        int keep = 50;
        try (RedisProcess server = persistentServer();
                Memory memory = RedisMemory.open(
                        settings(server),
                        new MemoryContext(
                                Clock.systemUTC(), TokenCounters.heuristic(), Retention.maxMessages(keep), listener))) {
            SessionKey key = SessionKey.of("acme", "restart-two-phase");
            MemoryStore store = memory.session(key);
            Retrying retrying = new Retrying(PASSWORD);
            List<List<Message>> acknowledged = runWriters(store, retrying, server);

            List<Message> history = retrying.call(store::history);
            assertThat(history).hasSize(keep);
            // Every sequence number handed out belongs to one stored message, which is either kept or was reported
            // removed (a removal may be reported again when its commit was cut off): nothing is lost, nothing kept was
            // reported removed.
            Set<Long> sequences = new HashSet<>();
            Set<String> reported = new HashSet<>();
            for (Message m : listener.removed(key)) {
                sequences.add(m.sequence());
                reported.add(m.id());
            }
            Set<String> kept = new HashSet<>();
            for (Message m : history) {
                assertThat(sequences.add(m.sequence()))
                        .as("kept sequence %d was not reported removed", m.sequence())
                        .isTrue();
                kept.add(m.id());
            }
            assertThat(kept).hasSameSizeAs(history);
            for (List<Message> mine : acknowledged) {
                for (Message m : mine) {
                    assertThat(kept.contains(m.id()) || reported.contains(m.id()))
                            .as("%s is kept or was reported removed", m)
                            .isTrue();
                }
            }
            Set<String> ids = new HashSet<>(reported);
            ids.addAll(kept);
            assertThat(ids).hasSize(WRITERS * PER_WRITER);
            // An id stored twice is one whose message was removed (retention, max 50) while its write, applied but
            // unacknowledged, waited for its retry: the contract lets an id whose message was removed be appended
            // again. Each such second copy takes a failed attempt.
            assertThat(retrying.failures()).isPositive();
            assertThat(sequences.size() - ids.size()).isBetween(0, retrying.failures());
            Message last = retrying.call(() -> store.add(Message.user("after the restart")));
            assertThat(last.sequence()).isEqualTo(sequences.size() + 1);
            assertThat(sequences).allMatch(seq -> seq >= 1 && seq < last.sequence());
            assertThat(store.history(HistoryQuery.newest(1))).containsExactly(last);
        }
    }

    /** Writers append with their own ids, retrying each until it is acknowledged; the server dies a third in. */
    private static List<List<Message>> runWriters(MemoryStore store, Retrying retrying, RedisProcess server)
            throws Exception {
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        try {
            List<Future<List<Message>>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    List<Message> mine = new ArrayList<>();
                    for (int n = 0; n < PER_WRITER; n++) {
                        Message m = Message.builder(Message.USER, "writer " + writer + " message " + n)
                                .id("w" + writer + "-" + n)
                                .build();
                        mine.add(retrying.call(() -> store.add(m)));
                        done.incrementAndGet();
                    }
                    return mine;
                }));
            }
            while (done.get() < WRITERS * PER_WRITER / 3) {
                RedisProcess.sleep(5);
            }
            server.kill();
            RedisProcess.sleep(300);
            server.restart();
            List<List<Message>> acknowledged = new ArrayList<>();
            for (Future<List<Message>> f : writers) {
                acknowledged.add(f.get());
            }
            return acknowledged;
        } finally {
            pool.shutdownNow();
        }
    }
}
