package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.BackendUnavailableException;
import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures against a real server: backends terminated mid-operation ({@code pg_terminate_backend} from another
 * connection) and a server stopped and started again under load. Writers retry every failed append with the same
 * message (the same id) until it is acknowledged, as the contract advises; afterwards every acknowledged message is
 * stored exactly once, in each writer's order, and the pool serves new calls by itself.
 */
class PostgresFailureTest {
    private static final int WRITERS = 4;
    private static final int PER_WRITER = 100;
    /** A writer gives up (and the test fails) after this many failed attempts at one message. */
    private static final int MAX_FAILURES_PER_MESSAGE = 200;

    @TempDir
    Path directory;

    private static MemoryContext context(Retention retention, EvictionListener listener) {
        return new MemoryContext(Clock.systemUTC(), TokenCounters.heuristic(), retention, listener);
    }

    @Test
    void terminatedBackendsLoseNothingAndDuplicateNothing() throws Exception {
        try (TestPostgres.Database database = TestPostgres.createDatabase("failure")) {
            // Without retention an append is one autocommit statement; with it, a transaction that also deletes and
            // reports before committing; batches are transactions too.
            for (Mode mode : Mode.values()) {
                AtomicLong kills = new AtomicLong();
                AtomicBoolean writing = new AtomicBoolean(true);
                Thread killer = new Thread(() -> {
                    try (Connection c = database.connect();
                            PreparedStatement ps = c.prepareStatement("SELECT count(pg_terminate_backend(pid)) FROM"
                                    + " (SELECT pid FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()"
                                    + " AND application_name = 'agentmemory' ORDER BY random() LIMIT 1) victim")) {
                        ps.setString(1, database.name());
                        java.util.Random random = new java.util.Random();
                        while (writing.get()) {
                            // One backend at a time, often enough to hit statements and commits in flight, rarely
                            // enough that the pool can replace it.
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                kills.addAndGet(rs.getLong(1));
                            }
                            Thread.sleep(20 + random.nextInt(50));
                        }
                    } catch (SQLException | InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                JdbcSettings settings = JdbcSettings.builder()
                        .url(database.url())
                        .poolSize(WRITERS)
                        .connectionTimeout(java.time.Duration.ofSeconds(2))
                        .build();
                Retention retention = mode == Mode.RETENTION ? Retention.maxMessages(100_000) : Retention.none();
                try (Memory memory = JdbcMemory.open(settings, context(retention, (k, removed, cause) -> {}))) {
                    SessionKey key = SessionKey.of("failure", mode.name());
                    killer.start();
                    Result result;
                    try {
                        result = write(memory.session(key), mode);
                    } finally {
                        writing.set(false);
                        killer.join();
                    }
                    assertThat(kills.get())
                            .as("backends terminated during %s", mode)
                            .isPositive();
                    System.out.printf(
                            "[PostgresFailureTest] %s: %d backends terminated, %d appends failed and were retried%n",
                            mode, kills.get(), result.failures());
                    checkExactlyOnce(memory.session(key), result);
                    Message after = memory.session(key).add(Message.user("after the storm"));
                    assertThat(after.sequence()).isGreaterThan(WRITERS * PER_WRITER);
                }
            }
        }
    }

    @Test
    void aServerRestartedUnderLoadLosesNothingAndDuplicatesNothing() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path data = directory.resolve("pgdata");
        // Not cleaned: closing a server started with a clean data directory deletes the directory.
        EmbeddedPostgres first = start(data, port, false);
        JdbcSettings settings = JdbcSettings.builder()
                .url(first.getJdbcUrl("postgres", "postgres"))
                .poolSize(WRITERS)
                .connectionTimeout(java.time.Duration.ofSeconds(1))
                .build();
        ExecutorService restarter = Executors.newSingleThreadExecutor();
        Future<EmbeddedPostgres> second = null;
        try (Memory memory = JdbcMemory.open(settings, context(Retention.none(), EvictionListener.NONE))) {
            SessionKey key = SessionKey.of("restart", "session");
            second = restarter.submit(() -> {
                // Restart once the writers are well under way; they keep appending (and failing) meanwhile.
                waitForAcks(memory.session(key), WRITERS * PER_WRITER / 4);
                first.close();
                Thread.sleep(1500);
                return start(data, port, false);
            });
            Result result = write(memory.session(key), Mode.SINGLE);
            second.get();
            assertThat(result.failures())
                    .as("appends failed while the server was down")
                    .isPositive();
            System.out.printf("[PostgresFailureTest] restart: %d appends failed and were retried%n", result.failures());
            checkExactlyOnce(memory.session(key), result);
            assertThat(memory.session(key)
                            .add(Message.user("after the restart"))
                            .sequence())
                    .isGreaterThan(WRITERS * PER_WRITER);
        } finally {
            restarter.shutdownNow();
            first.close();
            if (second != null && second.isDone() && !second.isCancelled()) {
                second.get().close();
            }
        }
    }

    private static EmbeddedPostgres start(Path data, int port, boolean clean) throws IOException {
        return EmbeddedPostgres.builder()
                .setDataDirectory(data)
                .setCleanDataDirectory(clean)
                .setPort(port)
                .start();
    }

    private static void waitForAcks(MemoryStore store, long n) throws InterruptedException {
        while (true) {
            try {
                if (store.count() >= n) {
                    return;
                }
            } catch (BackendUnavailableException e) {
                // keep waiting
            }
            Thread.sleep(20);
        }
    }

    private enum Mode {
        SINGLE,
        RETENTION,
        BATCH
    }

    /** What the writers sent and had acknowledged, each writer's messages in order. */
    private record Result(List<List<Message>> acknowledged, long failures) {}

    private static Result write(MemoryStore store, Mode mode) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        CountDownLatch start = new CountDownLatch(1);
        AtomicLong failures = new AtomicLong();
        try {
            List<Future<List<Message>>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    start.await();
                    List<Message> mine = IntStream.range(0, PER_WRITER)
                            .mapToObj(n -> Message.builder(Message.USER, "w" + writer + " n" + n)
                                    .metadata("writer", writer)
                                    .build())
                            .toList();
                    int step = mode == Mode.BATCH ? 5 : 1;
                    for (int n = 0; n < mine.size(); n += step) {
                        List<Message> batch = mine.subList(n, Math.min(n + step, mine.size()));
                        for (int attempt = 1; ; attempt++) {
                            try {
                                List<Message> stored =
                                        mode == Mode.BATCH ? store.addAll(batch) : List.of(store.add(batch.get(0)));
                                assertThat(stored).hasSameSizeAs(batch);
                                break;
                            } catch (BackendUnavailableException e) {
                                assertThat(e.code()).isEqualTo(ErrorCode.BACKEND_UNAVAILABLE);
                                assertThat(e.code().retryable()).isTrue();
                                failures.incrementAndGet();
                                if (attempt >= MAX_FAILURES_PER_MESSAGE) {
                                    throw e;
                                }
                                Thread.sleep(10);
                            }
                        }
                    }
                    return mine;
                }));
            }
            start.countDown();
            List<List<Message>> acknowledged = new ArrayList<>();
            for (Future<List<Message>> f : writers) {
                acknowledged.add(f.get());
            }
            return new Result(acknowledged, failures.get());
        } finally {
            pool.shutdownNow();
        }
    }

    private static void checkExactlyOnce(MemoryStore store, Result result) {
        List<Message> history = store.history();
        Set<String> sent = new HashSet<>();
        result.acknowledged().forEach(list -> list.forEach(m -> sent.add(m.id())));
        assertThat(history).hasSize(sent.size());
        assertThat(history).extracting(Message::id).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(sent);
        assertThat(store.count()).isEqualTo(sent.size());
        for (int i = 1; i < history.size(); i++) {
            assertThat(history.get(i).sequence())
                    .isGreaterThan(history.get(i - 1).sequence());
        }
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            List<String> mine = history.stream()
                    .filter(m -> ((Number) m.metadata().get("writer")).intValue() == writer)
                    .map(Message::content)
                    .toList();
            assertThat(mine)
                    .as("writer %d's messages in its order", writer)
                    .containsExactlyElementsOf(result.acknowledged().get(w).stream()
                            .map(Message::content)
                            .toList());
        }
    }
}
