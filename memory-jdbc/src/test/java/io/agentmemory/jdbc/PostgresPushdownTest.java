package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.agentmemory.Added;
import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MutableClock;
import io.agentmemory.tck.TckTokenCounter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the PostgreSQL dialect sends: how many statements each call takes whatever the history length, that every
 * statement names the session, and that reads use indexes (the plans of the very statements sent, with their
 * parameters, on a table holding other sessions' rows too).
 */
class PostgresPushdownTest {
    private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");
    private static final int HISTORY = 3000;

    private static TestPostgres.Database database;
    private static HikariDataSource pool;
    private static StatementLog log;
    private static Memory memory;
    private static Memory expiring;
    private static Memory retained;
    private static final SessionKey LONG = SessionKey.of("pushdown", "long");
    private static final SessionKey RETAINED = SessionKey.of("pushdown", "retained");

    @BeforeAll
    static void fill() throws Exception {
        database = TestPostgres.createDatabase("pushdown");
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(database.url());
        config.setMaximumPoolSize(4);
        pool = new HikariDataSource(config);
        log = new StatementLog(pool);
        MutableClock clock = new MutableClock(START);
        memory = JdbcMemory.open(
                log.dataSource(),
                JdbcSettings.builder().build(),
                new MemoryContext(clock, new TckTokenCounter(), Retention.none(), EvictionListener.NONE));
        expiring = JdbcMemory.open(
                log.dataSource(),
                JdbcSettings.builder().build(),
                new MemoryContext(
                        clock, new TckTokenCounter(), Retention.maxAge(Duration.ofDays(1)), EvictionListener.NONE));
        for (int s = 0; s < 40; s++) {
            memory.session(SessionKey.of("pushdown", "other-" + s)).addAll(messages(500, "o" + s));
        }
        MemoryStore store = memory.session(LONG);
        for (int i = 0; i < HISTORY; i += 500) {
            store.addAll(messages(500, "m" + i));
        }
        try (Connection c = database.connect();
                Statement st = c.createStatement()) {
            st.execute("ANALYZE");
        }
        // Tables of their own, filled after the ANALYZE: the planner has no statistics for them, as for new tables
        // that autovacuum has not analyzed yet.
        retained = JdbcMemory.open(
                log.dataSource(),
                JdbcSettings.builder().tablePrefix("retained_").build(),
                new MemoryContext(clock, new TckTokenCounter(), Retention.maxMessages(HISTORY), EvictionListener.NONE));
        for (int i = 0; i < HISTORY; i += 500) {
            retained.session(RETAINED).addAll(messages(500, "r" + i));
        }
    }

    private static List<Message> messages(int n, String label) {
        return IntStream.range(0, n)
                .mapToObj(i -> Message.builder(i % 2 == 0 ? Message.USER : Message.ASSISTANT, label + " " + i)
                        .metadata("topic", i % 3 == 0 ? "billing" : "other")
                        .metadata("n", i)
                        .timestamp(START.plusSeconds(i))
                        .build())
                .toList();
    }

    @AfterAll
    static void close() {
        memory.close();
        expiring.close();
        retained.close();
        pool.close();
        database.close();
    }

    @BeforeEach
    void clearLog() {
        log.clear();
    }

    @Test
    void anAppendIsOneStatementWhateverTheHistoryLength() {
        MemoryStore empty = memory.session(SessionKey.of("pushdown", "fresh-" + System.nanoTime()));
        Message first = empty.add(Message.user("first"));
        assertThat(log.executed()).hasSize(1);
        log.clear();
        Message m = Message.user("one more");
        Message stored = memory.session(LONG).add(m);
        assertThat(log.executed()).singleElement().asString().startsWith("WITH p AS");
        log.clear();
        long count = memory.session(LONG).count();
        log.clear();
        assertThat(memory.session(LONG).add(m))
                .as("a retry returns the stored message")
                .isEqualTo(stored);
        assertThat(log.executed())
                .as("a retry: the append, which fails on the id index, then the append that looks for the id")
                .hasSize(2)
                .satisfies(executed -> assertThat(executed.get(0)).startsWith("WITH p AS"))
                .satisfies(executed -> assertThat(executed.get(1)).startsWith("WITH ex AS"));
        assertThat(memory.session(LONG).count()).isEqualTo(count);
        assertThat(first.sequence()).isEqualTo(1);
    }

    @Test
    void addAllIsOneTransactionWithAFixedNumberOfStatements() {
        MemoryStore store = memory.session(LONG);
        store.addAll(messages(3, "small batch " + System.nanoTime()));
        int small = log.executed().size();
        log.clear();
        store.addAll(messages(300, "large batch " + System.nanoTime()));
        assertThat(log.executed()).hasSize(small);
        assertThat(small).isLessThanOrEqualTo(4);
    }

    @Test
    void readsAreOneStatementEach() {
        MemoryStore store = memory.session(LONG);
        store.history(HistoryQuery.newest(20));
        assertThat(log.executed()).hasSize(1);
        log.clear();
        store.history(HistoryQuery.builder()
                .roles(Message.USER)
                .metadata("topic", "billing")
                .metadata("n", Map.of())
                .between(START, START.plusSeconds(100))
                .offset(2)
                .limit(5)
                .build());
        assertThat(log.executed()).hasSize(1);
        log.clear();
        assertThat(store.contextWindow(200)).isNotEmpty();
        assertThat(log.executed()).as("a window within the first page").hasSize(1);
        log.clear();
        store.count();
        assertThat(log.executed()).hasSize(1);
    }

    @Test
    void aWindowOfTheWholeSessionIsOneStatement() {
        List<Message> window = memory.session(LONG).contextWindow(Integer.MAX_VALUE);
        assertThat(window.size()).isGreaterThanOrEqualTo(HISTORY);
        assertThat(log.executed()).hasSize(1);
    }

    /**
     * A window after an append, with the first window's messages held: one statement, which asks only for the rows
     * after the session's last sequence number as the first window saw it, and returns the new message alone.
     */
    @Test
    void aWindowAfterAnAppendReadsOnlyTheNewRow() {
        MemoryStore store = memory.session(SessionKey.of("pushdown", "since"));
        store.addAll(messages(500, "s"));
        List<Message> first = store.contextWindow(Integer.MAX_VALUE);
        Message added = store.add(Message.user("one more"));
        log.clear();
        List<Message> second = store.contextWindow(Integer.MAX_VALUE);
        assertThat(log.executed())
                .singleElement()
                .asString()
                .contains("seq > ?")
                .doesNotContain("known");
        assertThat(second).hasSize(first.size() + 1).endsWith(added);
        assertThat(second.subList(0, first.size())).isEqualTo(first);
        assertThat(second).isEqualTo(store.history());
    }

    /**
     * {@code addAndWindow} on a session whose window is held: the append's one statement, which also returns what the
     * held window needs to be brought up to date; no window statement. After another writer's append, the window is
     * read: two statements.
     */
    @Test
    void addAndWindowOnAHeldWindowIsTheAppendAlone() {
        SessionKey key = SessionKey.of("pushdown", "turns-" + System.nanoTime());
        MemoryStore store = memory.session(key);
        store.addAll(messages(500, "t"));
        List<Message> window = store.contextWindow(Integer.MAX_VALUE);
        for (int i = 0; i < 3; i++) {
            log.clear();
            Added added = store.addAndWindow(Message.user("turn " + i), Integer.MAX_VALUE);
            assertThat(log.executed()).singleElement().asString().startsWith("WITH p AS");
            assertThat(added.window()).hasSize(window.size() + 1).endsWith(added.message());
            assertThat(added.window().subList(0, window.size())).isEqualTo(window);
            window = added.window();
        }
        assertThat(window).isEqualTo(store.history());
        try (Memory elsewhere = JdbcMemory.open(
                log.dataSource(),
                JdbcSettings.builder().build(),
                new MemoryContext(
                        new MutableClock(START), new TckTokenCounter(), Retention.none(), EvictionListener.NONE))) {
            elsewhere.session(key).add(Message.user("from elsewhere"));
        }
        log.clear();
        Added added = store.addAndWindow(Message.user("after theirs"), Integer.MAX_VALUE);
        assertThat(log.executed()).hasSize(2);
        assertThat(added.window()).extracting(Message::content).endsWith("from elsewhere", "after theirs");
        assertThat(added.window()).isEqualTo(store.history());
    }

    /**
     * With retention at its limit, every append also removes the oldest message: a window after appends still reads
     * only the new rows, as the entry held the whole session and only messages below the session's head were removed.
     */
    @Test
    void aWindowAfterRetentionRemovedTheOldestReadsOnlyTheNewRows() {
        MemoryStore store = retained.session(SessionKey.of("pushdown", "retained-window"));
        store.addAll(messages(HISTORY, "w"));
        List<Message> first = store.contextWindow(Integer.MAX_VALUE);
        Message one = store.add(Message.user("one over the limit"));
        Message two = store.add(Message.user("two over the limit"));
        log.clear();
        List<Message> second = store.contextWindow(Integer.MAX_VALUE);
        assertThat(log.executed()).singleElement().asString().contains("seq > ?");
        assertThat(second).hasSize(HISTORY).endsWith(one, two);
        assertThat(second.subList(0, HISTORY - 2)).isEqualTo(first.subList(2, HISTORY));
        assertThat(second).isEqualTo(store.history());
    }

    @Test
    void aWindowReadsFurtherPagesWhenTheEstimateFallsShort() {
        // The first page is sized from the session's average message: here the newest messages are far smaller.
        MemoryStore store = memory.session(SessionKey.of("pushdown", "uneven"));
        List<Message> big = store.addAll(IntStream.range(0, 1000)
                .mapToObj(i -> Message.user("b".repeat(99)))
                .toList());
        List<Message> small = store.addAll(
                IntStream.range(0, 1000).mapToObj(i -> Message.user("")).toList());
        log.clear();
        List<Message> window = store.contextWindow(1500);
        List<Message> expected = new ArrayList<>(big.subList(995, 1000));
        expected.addAll(small);
        assertThat(window).containsExactlyElementsOf(expected);
        assertThat(log.executed().size()).isBetween(2, 8);
    }

    @Test
    void everyStatementNamesTheSession() {
        MemoryStore store = memory.session(LONG);
        MemoryStore other = expiring.session(SessionKey.of("pushdown", "expiring"));
        other.addAll(messages(5, "e"));
        other.add(Message.user("x"));
        other.history(HistoryQuery.builder().metadata("topic", "billing").build());
        other.contextWindow(50);
        other.count();
        store.history();
        store.contextWindow(100);
        other.clear();
        assertThat(log.executed())
                .isNotEmpty()
                .allSatisfy(sql -> assertThat(sql)
                        .matches("(?s).*(WHERE tenant = \\? AND session_id = \\? AND scope = \\?"
                                + "|tenant IS NOT DISTINCT FROM \\? AND session_id IS NOT DISTINCT FROM \\?"
                                + " AND scope IS NOT DISTINCT FROM \\?"
                                + "|\\(tenant, session_id, scope, [^)]*\\) VALUES \\(\\?, \\?, \\?,).*"));
    }

    /**
     * The id lookups of appends have no condition but the id that an index can serve, so that no plan, generic or
     * custom, walks the session's primary key and filters by id (a cost growing with the session).
     */
    @Test
    void appendsFindIdsThroughTheIdIndexOnly() throws Exception {
        MemoryStore store = memory.session(LONG);
        log.clear();
        Message stored = store.add(Message.user("one more"));
        store.add(stored); // a retry: the append that looks for the id
        store.addAll(messages(3, "batch"));
        List<String> plans = new ArrayList<>();
        try (Connection c = database.connect()) {
            c.setAutoCommit(false);
            for (StatementLog.Execution e : log.executions()) {
                if (!e.sql().contains("tenant IS NOT DISTINCT FROM")) {
                    continue;
                }
                StringBuilder plan = new StringBuilder();
                try (PreparedStatement ps = e.replay(c, "EXPLAIN ");
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                plans.add(plan.toString());
            }
            c.rollback();
        }
        assertThat(plans)
                .hasSize(2)
                .allSatisfy(plan -> assertThat(plan)
                        .contains("agentmemory_messages_id")
                        .doesNotContain("messages_pkey on agentmemory_messages\n")
                        .doesNotContain("Filter: (message_id"));
    }

    @Test
    void readsUseIndexes() throws Exception {
        MemoryStore store = memory.session(LONG);
        store.history(HistoryQuery.newest(20));
        store.history(HistoryQuery.builder()
                .roles(Message.USER, Message.ASSISTANT)
                .metadata("topic", "billing")
                .offset(3)
                .limit(10)
                .build());
        store.history(
                HistoryQuery.builder().between(START, START.plusSeconds(60)).build());
        store.contextWindow(500);
        store.count();
        store.add(Message.user("appended"));
        expiring.session(LONG).history(HistoryQuery.newest(5));
        expiring.session(LONG).count();
        List<String> plans = new ArrayList<>();
        try (Connection c = database.connect()) {
            c.setAutoCommit(false);
            for (StatementLog.Execution e : log.executions()) {
                StringBuilder plan = new StringBuilder();
                try (PreparedStatement ps = e.replay(c, "EXPLAIN ");
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                plans.add(e.sql() + "\n" + plan);
            }
            c.rollback();
        }
        // The sessions table (one row per session) may be scanned where it is small; the messages table never is.
        assertThat(plans)
                .hasSize(log.executions().size())
                .allSatisfy(plan -> assertThat(plan).doesNotContain("Seq Scan on agentmemory_messages"));
        assertThat(plans)
                .filteredOn(plan -> plan.contains("FROM \"agentmemory_messages\""))
                .hasSizeGreaterThanOrEqualTo(7)
                .allSatisfy(plan -> assertThat(plan).contains("Index"));
    }

    /**
     * Appends that retention answers by removing the oldest message, windows (the full read, then the read of what
     * was added) and the newest history read no row of the messages table they do not need, under the generic plans
     * the backend's connections use, on tables the planner has no statistics for: each scan of it is bounded by its
     * index conditions (run with {@code EXPLAIN ANALYZE} in a transaction that is rolled back). A delete by
     * {@code seq = ANY(?)} alone was planned as a scan of the whole session with that as a filter.
     */
    @Test
    void appendsWithRetentionAndWindowsTouchOnlyTheirRowsUnderGenericPlans() throws Exception {
        MemoryStore store = retained.session(RETAINED);
        log.clear();
        store.add(Message.user("one over the limit"));
        store.contextWindow(50);
        store.add(Message.user("and one more"));
        store.contextWindow(50);
        store.history(HistoryQuery.newest(20));
        List<StatementLog.Execution> executions = log.executions();
        assertThat(store.count()).isEqualTo(HISTORY);
        List<String> plans = new ArrayList<>();
        for (GenericPlan plan : genericPlans(executions)) {
            plans.add(plan.text());
            assertThat(filteredMessageRows(plan.lines()))
                    .as("rows of the messages table read and filtered out by %s", plan.text())
                    .isLessThan(2);
        }
        assertThat(plans)
                .hasSizeGreaterThanOrEqualTo(8)
                .anySatisfy(plan -> assertThat(plan).startsWith("WITH d AS (DELETE"))
                .allSatisfy(plan -> assertThat(plan).doesNotContain("Seq Scan on retained_messages"));
    }

    /**
     * Appends that retention answers by removing the oldest tool-call group, in a session whose replies number their
     * calls from 0 again ({@code call_0}, {@code call_1}, each reply), with a result that arrives after other
     * messages: finding each group's tool messages reads no row of the messages table that it then filters out, under
     * generic plans on tables the planner has no statistics for, though every call id has hundreds of answers.
     */
    @Test
    void appendsWithRetentionOfRepeatedCallIdsTouchOnlyTheirRowsUnderGenericPlans() throws Exception {
        SessionKey key = SessionKey.of("pushdown", "tools");
        try (Memory tools = JdbcMemory.open(
                log.dataSource(),
                JdbcSettings.builder().tablePrefix("tools_").build(),
                new MemoryContext(
                        new MutableClock(START),
                        new TckTokenCounter(),
                        Retention.maxMessages(2000),
                        EvictionListener.NONE))) {
            MemoryStore store = tools.session(key);
            for (int turn = 0; turn < 400; turn += 100) {
                List<Message> batch = new ArrayList<>();
                for (int i = turn; i < turn + 100; i++) {
                    batch.addAll(turn(i));
                }
                store.addAll(batch);
            }
            assertThat(store.count()).isEqualTo(2000);
            log.clear();
            for (int i = 400; i < 403; i++) {
                for (Message m : turn(i)) {
                    store.add(m);
                }
            }
            assertThat(store.count()).isEqualTo(2000);
            List<String> plans = new ArrayList<>();
            for (GenericPlan plan : genericPlans(log.executions())) {
                plans.add(plan.text());
                assertThat(filteredMessageRows(plan.lines()))
                        .as("rows of the messages table read and filtered out by %s", plan.text())
                        .isLessThan(2);
            }
            assertThat(plans)
                    .anySatisfy(plan -> assertThat(plan).contains("tools_messages_tool_call_seq"))
                    .anySatisfy(plan -> assertThat(plan).startsWith("WITH d AS (DELETE"))
                    .allSatisfy(plan -> assertThat(plan).doesNotContain("Seq Scan on tools_messages"));
        }
    }

    /**
     * A pinned reply made call_0 and call_1 first; every later reply makes them again. Whether a tool message is pinned
     * is the pinned flag of the newest message that made its call, which the append finds in two index scans: the
     * session's pinned rows newest first down to the newest pinned caller (one pinned result lies above it here),
     * then the session's rows newest first down to the newest caller (at most two lie above it here, the first
     * result and the remark before the late one). Nothing more is read, though the pinned caller is 2,000 messages
     * back.
     */
    @Test
    void aToolMessageOfACallThatAPinnedMessageMadeReadsOnlyTheRowsAfterItsNewestCaller() throws Exception {
        SessionKey key = SessionKey.of("pushdown", "pinned-tools");
        try (Memory tools = JdbcMemory.open(
                log.dataSource(),
                JdbcSettings.builder().tablePrefix("pinned_tools_").build(),
                new MemoryContext(
                        new MutableClock(START), new TckTokenCounter(), Retention.none(), EvictionListener.NONE))) {
            MemoryStore store = tools.session(key);
            store.add(Message.builder(Message.ASSISTANT, "pinned calls")
                    .toolCalls(List.of(
                            new io.agentmemory.ToolCall("call_0", "f", "{}"),
                            new io.agentmemory.ToolCall("call_1", "f", "{}")))
                    .pinned()
                    .build());
            Message pinnedResult = store.add(Message.tool("call_0", "pinned result"));
            for (int turn = 0; turn < 400; turn += 100) {
                List<Message> batch = new ArrayList<>();
                for (int i = turn; i < turn + 100; i++) {
                    batch.addAll(turn(i));
                }
                store.addAll(batch);
            }
            log.clear();
            List<Message> added = new ArrayList<>();
            for (int i = 400; i < 403; i++) {
                for (Message m : turn(i)) {
                    added.add(store.add(m));
                }
            }
            List<Message> window = store.contextWindow(10_000);
            assertThat(window.subList(0, 2))
                    .extracting(Message::content)
                    .containsExactly("pinned calls", "pinned result");
            assertThat(window)
                    .filteredOn(m -> m.content().equals("pinned result"))
                    .containsExactly(pinnedResult);
            assertThat(window).containsAll(added);
            List<String> plans = new ArrayList<>();
            for (GenericPlan plan : genericPlans(log.executions())) {
                plans.add(plan.text());
                assertThat(filteredMessageRows(plan.lines()))
                        .as("rows of the messages table read and filtered out by %s", plan.text())
                        .isLessThanOrEqualTo(3);
            }
            assertThat(plans)
                    .anySatisfy(plan -> assertThat(plan).contains("max(seq)"))
                    .allSatisfy(plan -> assertThat(plan).doesNotContain("Seq Scan on pinned_tools_messages"));
        }
    }

    /** One turn of five messages: a question, a reply calling call_0 and call_1, their results around a remark. */
    private static List<Message> turn(int i) {
        return List.of(
                Message.user("question " + i),
                Message.assistant(
                        "calls " + i,
                        List.of(
                                new io.agentmemory.ToolCall("call_0", "f", "{}"),
                                new io.agentmemory.ToolCall("call_1", "f", "{}"))),
                Message.tool("call_0", "first result " + i),
                Message.assistant("meanwhile " + i),
                Message.tool("call_1", "late result " + i));
    }

    /**
     * Appends (with retention by count and by age), windows (the full read, the read of what was added, with and
     * without expiry), history (the newest, and filtered) and the count, under the pools' settings on tables analyzed
     * while they hold a few large sessions (an application with few users, say, or a new one): the statistics then
     * tell that a session is a large part of the table, and no statement may answer that with a scan of the whole
     * table, which also reads every other session. Before sequential scans were disabled, a window read after an
     * append counted the session's rows after a sequence number, and that count was planned as such a scan; so was a
     * filtered history.
     */
    @Test
    void appendsAndWindowsTouchOnlyTheirRowsUnderGenericPlansOnAnalyzedTablesOfFewSessions() throws Exception {
        SessionKey first = SessionKey.of("few", "first");
        SessionKey second = SessionKey.of("few", "second");
        SessionKey gone = SessionKey.of("few", "gone");
        try (Memory few = JdbcMemory.open(
                log.dataSource(),
                JdbcSettings.builder().tablePrefix("few_").build(),
                new MemoryContext(
                        new MutableClock(START),
                        new TckTokenCounter(),
                        Retention.maxMessages(HISTORY),
                        EvictionListener.NONE))) {
            for (SessionKey key : List.of(first, second)) {
                for (int i = 0; i < HISTORY; i += 500) {
                    few.session(key).addAll(messages(500, key.session() + i));
                }
            }
            for (int i = 0; i < 20 * HISTORY; i += 500) {
                few.session(gone).addAll(messages(500, "gone" + i));
            }
            few.delete(gone);
            try (Connection c = database.connect();
                    Statement st = c.createStatement()) {
                st.execute("VACUUM ANALYZE few_messages");
                st.execute("VACUUM ANALYZE few_sessions");
            }
            MemoryStore store = few.session(first);
            store.contextWindow(50);
            log.clear();
            store.add(Message.user("one over the limit"));
            store.contextWindow(50);
            store.addAndWindow(Message.user("and one more"), 50);
            store.add(Message.user("and a third"));
            store.contextWindow(Integer.MAX_VALUE);
            store.history(HistoryQuery.newest(20));
            store.history(HistoryQuery.builder()
                    .roles(Message.USER)
                    .metadata("topic", "billing")
                    .between(START, START.plusSeconds(100))
                    .limit(5)
                    .build());
            store.count();
            try (Memory expiringFew = JdbcMemory.open(
                    log.dataSource(),
                    JdbcSettings.builder().tablePrefix("few_").build(),
                    new MemoryContext(
                            new MutableClock(START.plusSeconds(HISTORY + 200)),
                            new TckTokenCounter(),
                            Retention.maxAge(Duration.ofSeconds(HISTORY)),
                            EvictionListener.NONE))) {
                MemoryStore aging = expiringFew.session(second);
                aging.contextWindow(100);
                aging.add(Message.user("late"));
                aging.contextWindow(100);
                aging.count();
            }
            List<String> plans = genericPlans(log.executions()).stream()
                    .map(GenericPlan::text)
                    .toList();
            assertThat(plans)
                    .hasSizeGreaterThanOrEqualTo(10)
                    .anySatisfy(plan -> assertThat(plan).contains("seq > ?"))
                    .anySatisfy(plan -> assertThat(plan).contains("ts >= ?"))
                    .anySatisfy(plan -> assertThat(plan).startsWith("WITH d AS (DELETE"))
                    .allSatisfy(plan -> assertThat(plan).doesNotContain("Seq Scan on few_messages"));
        }
    }

    /**
     * The backend's own pool: its connections run with {@link JdbcMemory#POSTGRES_SETTINGS}. On tables analyzed
     * while they held two small sessions (one page), a generic plan reads the table sequentially for the append's
     * lookups by id and by primary key. Through the same turns, the server's count of sequential scans of the messages
     * table rises for a pool that sets only {@code plan_cache_mode} (the control, which also shows that the count is
     * read after the connections' statistics arrived: they do as a connection ends, shortly after the pool closes),
     * and stays where it was for the backend's own pool.
     */
    @Test
    void theOwnPoolsConnectionsScanNoTableSequentially() throws Exception {
        MemoryContext context = new MemoryContext(
                new MutableClock(START), new TckTokenCounter(), Retention.none(), EvictionListener.NONE);
        SessionKey key = SessionKey.of("own", "first");
        JdbcSettings own =
                JdbcSettings.builder().url(database.url()).tablePrefix("own_").build();
        JdbcSettings control = JdbcSettings.builder().tablePrefix("ctl_").build();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(database.url());
        config.setMaximumPoolSize(4);
        config.setConnectionInitSql("SET plan_cache_mode = force_generic_plan");
        try (Memory ownMemory = JdbcMemory.open(own, context);
                HikariDataSource controlPool = new HikariDataSource(config);
                Memory controlMemory = JdbcMemory.open(controlPool, control, context)) {
            for (Memory memory : List.of(ownMemory, controlMemory)) {
                memory.session(key).addAll(messages(10, "a"));
                memory.session(SessionKey.of("own", "second")).addAll(messages(10, "b"));
            }
        }
        try (Connection c = database.connect();
                Statement st = c.createStatement()) {
            for (String table : List.of("own_messages", "own_sessions", "ctl_messages", "ctl_sessions")) {
                st.execute("ANALYZE " + table);
            }
        }
        long ownBefore = settledScans("own_messages");
        long controlBefore = settledScans("ctl_messages");
        try (Memory ownMemory = JdbcMemory.open(own, context);
                HikariDataSource controlPool = new HikariDataSource(config);
                Memory controlMemory = JdbcMemory.open(controlPool, control, context)) {
            for (Memory memory : List.of(ownMemory, controlMemory)) {
                MemoryStore store = memory.session(key);
                for (int i = 0; i < 20; i++) {
                    store.contextWindow(100);
                    store.addAndWindow(Message.user("turn " + i), 100);
                    store.add(Message.assistant("answer " + i));
                }
                store.history(HistoryQuery.newest(5));
                store.history(
                        HistoryQuery.builder().roles(Message.USER).limit(3).build());
                store.count();
            }
        }
        for (int i = 0; i < 600 && sequentialScans("ctl_messages") == controlBefore; i++) {
            Thread.sleep(50);
        }
        assertThat(settledScans("ctl_messages"))
                .as("the control pool's sequential scans")
                .isGreaterThan(controlBefore);
        assertThat(settledScans("own_messages")).isEqualTo(ownBefore);
    }

    /** A statement and the lines of its generic plan, run with {@code EXPLAIN ANALYZE}. */
    private record GenericPlan(String sql, List<String> lines) {
        String text() {
            return sql + "\n" + String.join("\n", lines);
        }
    }

    /**
     * The generic plans of {@code executions}, replayed in a transaction that is rolled back. An append that does not
     * look for its id first would fail on the id index, as its message is stored: that message is deleted in the
     * transaction before the append is replayed, so that the replay writes it again as the append did.
     */
    private static List<GenericPlan> genericPlans(List<StatementLog.Execution> executions) throws Exception {
        List<GenericPlan> plans = new ArrayList<>();
        java.util.regex.Pattern insert = java.util.regex.Pattern.compile("i AS \\(INSERT INTO (\"?\\w+\"?) ");
        try (Connection c = database.connect()) {
            c.setAutoCommit(false);
            for (StatementLog.Execution e : executions) {
                java.util.regex.Matcher lean = insert.matcher(e.sql());
                if (e.sql().startsWith("WITH p AS") && lean.find()) {
                    deleteStoredMessage(c, lean.group(1), e);
                }
                plans.add(new GenericPlan(e.sql(), e.genericPlan(c, "replayed" + plans.size())));
            }
            c.rollback();
        }
        return plans;
    }

    /**
     * Deletes from {@code table} the message that {@code e} appended: the first of its string parameters, in order,
     * that is the id of a stored message (the message's id comes before the anchor's in the statement).
     */
    private static void deleteStoredMessage(Connection c, String table, StatementLog.Execution e) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE message_id = ?")) {
            for (Object[] setter : e.setters().values()) {
                if (setter.length == 2 && setter[1] instanceof String value) {
                    ps.setString(1, value);
                    if (ps.executeUpdate() > 0) {
                        return;
                    }
                }
            }
        }
        throw new AssertionError("no stored message of the replayed append: " + e.sql());
    }

    /**
     * The server's count of sequential scans of {@code table} once it has stayed the same for half a second (the
     * statistics of connections that ended arrive shortly after), or after 30 seconds of polling.
     */
    private static long settledScans(String table) throws Exception {
        long last = sequentialScans(table);
        for (int i = 0, unchanged = 0; i < 600 && unchanged < 10; i++) {
            Thread.sleep(50);
            long now = sequentialScans(table);
            unchanged = now == last ? unchanged + 1 : 0;
            last = now;
        }
        return last;
    }

    /** The server's count of sequential scans of {@code table}. */
    private static long sequentialScans(String table) throws Exception {
        try (Connection c = database.connect();
                PreparedStatement ps =
                        c.prepareStatement("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getLong(1);
            }
        }
    }

    /** The rows that scans of the messages table in {@code plan} read and then removed by a filter. */
    private static long filteredMessageRows(List<String> plan) {
        long removed = 0;
        boolean onMessages = false;
        for (String line : plan) {
            if (line.contains("->") || line.matches("^\\S.*")) {
                onMessages = line.matches(".* on \\w*messages\\b.*");
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("Rows Removed by Filter: (\\d+)")
                    .matcher(line);
            if (onMessages && m.find()) {
                removed += Long.parseLong(m.group(1));
            }
        }
        return removed;
    }
}
