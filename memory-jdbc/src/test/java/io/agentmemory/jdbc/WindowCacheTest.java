package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Added;
import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import io.agentmemory.tck.MutableClock;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The window cache against the real databases: a window answers what is stored, whatever other memories (other
 * processes, with caches of their own) did to the session in between, and it is used.
 */
class WindowCacheTest {
    private static TestPostgres.Database postgres;

    @TempDir
    static Path directory;

    private static int databases;

    @BeforeAll
    static void createDatabase() {
        postgres = TestPostgres.createDatabase("window_cache");
    }

    @AfterAll
    static void dropDatabase() {
        postgres.close();
    }

    static Stream<String> databases() {
        return Stream.of("postgresql", "h2");
    }

    /** Tables of their own: a new H2 file database, or a new table prefix in the PostgreSQL test database. */
    private record Db(String url, String prefix) {
        JdbcMemory open(int cache, Retention retention) {
            return open(cache, retention, Clock.systemUTC(), 4);
        }

        JdbcMemory open(int cache, Retention retention, Clock clock, int poolSize) {
            return JdbcMemory.open(
                    JdbcSettings.builder()
                            .url(url)
                            .tablePrefix(prefix)
                            .windowCache(cache)
                            .poolSize(poolSize)
                            .build(),
                    new MemoryContext(clock, TokenCounters.heuristic(), retention, EvictionListener.NONE));
        }
    }

    private static Db db(String database) {
        int n = ++databases;
        return database.equals("h2")
                ? new Db("jdbc:h2:file:" + directory.resolve("cache" + n) + ";AUTO_SERVER=FALSE", "agentmemory_")
                : new Db(postgres.url(), "t" + n + "_");
    }

    private static final SessionKey KEY = SessionKey.of("acme", "chat");

    private static List<String> contents(List<Message> messages) {
        return messages.stream().map(Message::content).toList();
    }

    private static void fill(MemoryStore store, String prefix, int n) {
        for (int i = 0; i < n; i++) {
            store.add(Message.user(prefix + i));
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aSecondWindowReusesTheDecodedMessagesAndAddsTheNewOnes(String database) {
        try (Memory memory = db(database).open(10_000, Retention.none())) {
            MemoryStore store = memory.session(KEY);
            store.add(Message.builder(Message.SYSTEM, "be brief").pinned().build());
            fill(store, "m", 30);
            List<Message> first = store.contextWindow(100_000);
            store.add(Message.user("new"));
            List<Message> second = store.contextWindow(100_000);

            assertThat(second).hasSize(first.size() + 1);
            assertThat(second.get(second.size() - 1).content()).isEqualTo("new");
            // The same instances, the pinned message's too: only the new row was read with its text.
            for (int i = 0; i < first.size(); i++) {
                assertThat(second.get(i)).isSameAs(first.get(i));
            }
            assertThat(second).isEqualTo(store.history());
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void withoutTheCacheEveryWindowIsDecodedAfresh(String database) {
        try (Memory memory = db(database).open(0, Retention.none())) {
            MemoryStore store = memory.session(KEY);
            fill(store, "m", 5);
            List<Message> first = store.contextWindow(100_000);
            List<Message> second = store.contextWindow(100_000);
            assertThat(second).isEqualTo(first);
            assertThat(second.get(0)).isNotSameAs(first.get(0));
        }
    }

    /** Another process deletes the session and writes it again: the same sequence numbers, other messages. */
    @ParameterizedTest
    @MethodSource("databases")
    void aSessionDeletedAndWrittenAgainElsewhereIsReadAgain(String database) {
        Db db = db(database);
        try (Memory mine = db.open(10_000, Retention.none());
                Memory theirs = db.open(10_000, Retention.none())) {
            fill(mine.session(KEY), "old", 20);
            assertThat(contents(mine.session(KEY).contextWindow(100_000))).startsWith("old0");

            theirs.delete(KEY);
            fill(theirs.session(KEY), "new", 20);

            List<Message> window = mine.session(KEY).contextWindow(100_000);
            assertThat(contents(window)).startsWith("new0").hasSize(20).allMatch(c -> c.startsWith("new"));
            assertThat(window).isEqualTo(theirs.session(KEY).history());
            // And the entry it made from the new epoch serves the next window.
            assertThat(mine.session(KEY).contextWindow(100_000)).isEqualTo(window);
        }
    }

    /**
     * Another process adds as many messages as the read of the added rows takes (a page: the 30 held rows the budget
     * takes plus 16), one fewer, or one more, which the read cannot take whole and the window then reads in full;
     * a pinned one among them counts in the page too. Every window is the session's.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void aWindowAfterAsManyRowsAsOnePageHoldsOrOneMoreIsTheSessions(String database) {
        Db db = db(database);
        try (Memory mine = db.open(10_000, Retention.none());
                Memory theirs = db.open(10_000, Retention.none())) {
            for (int added = 45; added <= 47; added++) {
                for (boolean pinned : new boolean[] {false, true}) {
                    SessionKey key = SessionKey.of("acme", "page-" + added + "-" + pinned);
                    fill(mine.session(key), "held", 30);
                    assertThat(mine.session(key).contextWindow(Integer.MAX_VALUE))
                            .hasSize(30);
                    MemoryStore elsewhere = theirs.session(key);
                    for (int i = 0; i < added; i++) {
                        elsewhere.add(
                                pinned && i == 7
                                        ? Message.builder(Message.SYSTEM, "pinned " + i)
                                                .pinned()
                                                .build()
                                        : Message.user("added" + i));
                    }
                    List<Message> stored = elsewhere.history();
                    List<Message> expected = Stream.concat(
                                    stored.stream().filter(Message::isPinned),
                                    stored.stream().filter(m -> !m.isPinned()))
                            .toList();
                    List<Message> window = mine.session(key).contextWindow(Integer.MAX_VALUE);
                    assertThat(window)
                            .as("%d added, one pinned: %s", added, pinned)
                            .hasSize(30 + added)
                            .containsExactlyElementsOf(expected);
                    assertThat(mine.session(key).contextWindow(Integer.MAX_VALUE))
                            .isEqualTo(window);
                }
            }
        }
    }

    /** Another process's retention removes the oldest messages: they leave the window. */
    @ParameterizedTest
    @MethodSource("databases")
    void messagesRemovedElsewhereLeaveTheWindow(String database) {
        Db db = db(database);
        try (Memory mine = db.open(10_000, Retention.none());
                Memory theirs = db.open(10_000, Retention.maxMessages(10))) {
            fill(mine.session(KEY), "a", 20);
            assertThat(mine.session(KEY).contextWindow(100_000)).hasSize(20);
            theirs.session(KEY).add(Message.user("b"));
            List<Message> window = mine.session(KEY).contextWindow(100_000);
            assertThat(contents(window)).hasSize(10).endsWith("b").startsWith("a11");
        }
    }

    /** What another process removing one unpinned message of {@link #KEY} does: the row and its counts. */
    private static void removeElsewhere(Db db, long seq) throws Exception {
        try (Connection c = DriverManager.getConnection(db.url());
                Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE \"" + db.prefix() + "sessions\" SET unpinned_count = unpinned_count - 1,"
                    + " unpinned_tokens = unpinned_tokens - (SELECT tokens FROM \"" + db.prefix()
                    + "messages\" WHERE seq = " + seq + ")");
            assertThat(st.executeUpdate("DELETE FROM \"" + db.prefix() + "messages\" WHERE seq = " + seq))
                    .isOne();
        }
    }

    /** Puts the session back as it was before {@code lost}, its newest messages: their rows, counts and numbers gone. */
    private static void putBack(Db db, Message... lost) throws Exception {
        for (Message m : lost) {
            removeElsewhere(db, m.sequence());
        }
        try (Connection c = DriverManager.getConnection(db.url());
                Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE \"" + db.prefix() + "sessions\" SET last_seq = last_seq - " + lost.length);
        }
    }

    /**
     * Puts the session back as it was before {@code lost}, its newest message (its row and counts gone, its last
     * sequence number one less), then appends through {@code theirs}, which gets the lost message's number.
     */
    private static Message putBackAndWriteElsewhere(Db db, Message lost, Memory theirs) throws Exception {
        putBack(db, lost);
        Message instead = theirs.session(KEY).add(Message.user("instead"));
        assertThat(instead.sequence()).isEqualTo(lost.sequence());
        return instead;
    }

    /**
     * A put-back that lost the two newest messages, {@code a} and {@code x}; another process then stores {@code b},
     * which gets {@code a}'s number, and a retry stores {@code x} again, under its old number. Epoch, last sequence
     * number, count and the number under {@code x}'s id are all what the held window saw; only {@code x}'s row is
     * another (its stamp). Both ways an entry learns its newest message: this memory's own appends (then a window
     * read), and a window read of another process's appends (then {@code addAndWindow}).
     */
    @ParameterizedTest
    @MethodSource("databases")
    void aPutBackWhoseNewestHeldMessageARetryStoredAgainIsReadAnew(String database) throws Exception {
        for (boolean ownAppends : new boolean[] {true, false}) {
            Db db = db(database);
            try (JdbcMemory mine = db.open(10_000, Retention.none());
                    Memory theirs = db.open(10_000, Retention.none());
                    Memory plain = db.open(0, Retention.none())) {
                fill(mine.session(KEY), "m", 10);
                assertThat(mine.session(KEY).contextWindow(100_000)).hasSize(10);
                MemoryStore writer = ownAppends ? mine.session(KEY) : theirs.session(KEY);
                Message a = writer.add(Message.user("a"));
                Message x = writer.add(Message.user("x"));
                if (!ownAppends) {
                    assertThat(mine.session(KEY).contextWindow(100_000)).endsWith(a, x);
                }
                putBack(db, x, a);
                Message b = theirs.session(KEY).add(Message.user("b"));
                assertThat(b.sequence()).isEqualTo(a.sequence());
                assertThat(theirs.session(KEY).add(x).sequence()).isEqualTo(x.sequence());
                List<Message> window = ownAppends
                        ? mine.session(KEY).contextWindow(100_000)
                        : mine.session(KEY)
                                .addAndWindow(Message.user("next"), 100_000)
                                .window();
                assertThat(window).as("own appends: %s", ownAppends).contains(b).doesNotContain(a);
                assertThat(window).isEqualTo(plain.session(KEY).contextWindow(100_000));
            }
        }
    }

    /**
     * The session put back as it was before its last message (a failover that lost a committed transaction, a
     * restored backup), then written by another process: the new message gets the lost one's number, and the epoch,
     * the last number and the count are those the window saw with the lost message; the window must not show it.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void aSessionPutBackFromAnOlderCopyAndWrittenAgainIsReadAnew(String database) throws Exception {
        Db db = db(database);
        try (Memory mine = db.open(10_000, Retention.none());
                Memory theirs = db.open(10_000, Retention.none());
                Memory plain = db.open(0, Retention.none())) {
            fill(mine.session(KEY), "a", 10);
            assertThat(mine.session(KEY).contextWindow(100_000)).hasSize(10);
            Message lost = mine.session(KEY).add(Message.user("lost"));
            assertThat(mine.session(KEY).contextWindow(100_000)).hasSize(11).endsWith(lost);
            Message instead = putBackAndWriteElsewhere(db, lost, theirs);
            List<Message> window = mine.session(KEY).contextWindow(100_000);
            assertThat(window).endsWith(instead).doesNotContain(lost);
            assertThat(window).isEqualTo(plain.session(KEY).contextWindow(100_000));
        }
    }

    /**
     * As above, with a window that held only the newest messages, followed by one with a larger budget: that one is a
     * full read, which takes the text of the rows the entry holds from the entry, so it must check the entry too.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void aFullReadAfterTheSessionWasPutBackFromAnOlderCopyDoesNotTrustTheEntry(String database) throws Exception {
        Db db = db(database);
        try (Memory mine = db.open(10_000, Retention.none());
                Memory theirs = db.open(10_000, Retention.none());
                Memory plain = db.open(0, Retention.none())) {
            fill(mine.session(KEY), "a", 30);
            Message lost = mine.session(KEY).add(Message.user("lost"));
            List<Message> small = mine.session(KEY).contextWindow(10);
            assertThat(small).endsWith(lost).hasSizeLessThan(10);
            Message instead = putBackAndWriteElsewhere(db, lost, theirs);
            List<Message> window = mine.session(KEY).contextWindow(100_000);
            assertThat(window).hasSize(31).endsWith(instead).doesNotContain(lost);
            assertThat(window).isEqualTo(plain.session(KEY).contextWindow(100_000));
        }
    }

    /**
     * {@code addAndWindow} after the memory's own window: the window is the entry and the appended message, the held
     * messages the same instances; with pinned messages, tool calls and a result appended too; and what another
     * process appended in between is seen.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void addAndWindowBringsTheHeldWindowUpToDate(String database) {
        Db db = db(database);
        try (JdbcMemory mine = db.open(10_000, Retention.none());
                Memory theirs = db.open(10_000, Retention.none());
                Memory plain = db.open(0, Retention.none())) {
            MemoryStore store = mine.session(KEY);
            store.add(Message.builder(Message.SYSTEM, "be brief").pinned().build());
            fill(store, "m", 30);
            List<Message> window = store.contextWindow(100_000);
            List<Message> turns = List.of(
                    Message.user("plain"),
                    Message.builder(Message.USER, "a pinned fact").pinned().build(),
                    Message.assistant("", List.of(new ToolCall("c1", "lookup", "{}"))),
                    Message.tool("c1", "result"),
                    Message.builder(Message.ASSISTANT, "")
                            .toolCalls(List.of(new ToolCall("c2", "lookup", "{}")))
                            .pinned()
                            .build(),
                    Message.tool("c2", "pinned result"),
                    Message.user("last"));
            long fromAppends = mine.windowsFromAppends();
            for (Message m : turns) {
                Added added = store.addAndWindow(m, 100_000);
                assertThat(added.window())
                        .as("after %s", m)
                        .isEqualTo(plain.session(KEY).contextWindow(100_000));
                assertThat(added.window()).containsExactlyInAnyOrderElementsOf(store.history());
                assertThat(added.window()).as("held, not read again").contains(window.get(5));
                assertThat(added.window().stream().filter(w -> w == window.get(5)))
                        .as("held, not read again")
                        .hasSize(1);
            }
            // H2 counts tool results in a batch, which does not return the session's counters: one window is read.
            assertThat(mine.windowsFromAppends() - fromAppends)
                    .isEqualTo(database.equals("h2") ? turns.size() - 2 : turns.size());
            // The agent's turn: the answer is an add, which brings the held window up to date too.
            fromAppends = mine.windowsFromAppends();
            for (int i = 0; i < 3; i++) {
                store.add(Message.assistant("answer " + i));
                Added added = store.addAndWindow(Message.user("question " + i), 100_000);
                assertThat(added.window()).isEqualTo(plain.session(KEY).contextWindow(100_000));
            }
            assertThat(mine.windowsFromAppends() - fromAppends).isEqualTo(3);
            theirs.session(KEY).add(Message.user("theirs"));
            fromAppends = mine.windowsFromAppends();
            Added added = store.addAndWindow(Message.user("mine"), 100_000);
            assertThat(added.window()).extracting(Message::content).endsWith("theirs", "mine");
            assertThat(added.window()).isEqualTo(plain.session(KEY).contextWindow(100_000));
            assertThat(mine.windowsFromAppends()).isEqualTo(fromAppends);
            added = store.addAndWindow(Message.user("small"), 20);
            assertThat(added.window())
                    .isEqualTo(plain.session(KEY).contextWindow(20))
                    .endsWith(added.message());
        }
    }

    /**
     * The put-back of {@link #aSessionPutBackFromAnOlderCopyAndWrittenAgainIsReadAnew}, then {@code addAndWindow}: the
     * append finds the epoch, last sequence number and count the held window had, plus one, but the held window's
     * newest message is gone, so the window is read.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void addAndWindowAfterAPutBackAndAnotherWriteReadsTheWindow(String database) throws Exception {
        Db db = db(database);
        try (JdbcMemory mine = db.open(10_000, Retention.none());
                Memory theirs = db.open(10_000, Retention.none());
                Memory plain = db.open(0, Retention.none())) {
            fill(mine.session(KEY), "a", 10);
            assertThat(mine.session(KEY).contextWindow(100_000)).hasSize(10);
            Message lost = mine.session(KEY)
                    .addAndWindow(Message.user("lost"), 100_000)
                    .message();
            Message instead = putBackAndWriteElsewhere(db, lost, theirs);
            long fromAppends = mine.windowsFromAppends();
            Added added = mine.session(KEY).addAndWindow(Message.user("next"), 100_000);
            assertThat(added.window()).endsWith(instead, added.message()).doesNotContain(lost);
            assertThat(added.window()).isEqualTo(plain.session(KEY).contextWindow(100_000));
            assertThat(mine.windowsFromAppends()).isEqualTo(fromAppends);
        }
    }

    /**
     * Another process removes a held message (its counters kept right) before {@code addAndWindow}: the last sequence
     * number is the held window's plus one, but the count is not, so the window is read and leaves the message out.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void addAndWindowAfterAMessageRemovedElsewhereReadsTheWindow(String database) throws Exception {
        Db db = db(database);
        try (JdbcMemory mine = db.open(10_000, Retention.none());
                Memory plain = db.open(0, Retention.none())) {
            fill(mine.session(KEY), "a", 10);
            List<Message> held = mine.session(KEY).contextWindow(100_000);
            removeElsewhere(db, held.get(4).sequence());
            Added added = mine.session(KEY).addAndWindow(Message.user("next"), 100_000);
            assertThat(added.window()).hasSize(10).doesNotContain(held.get(4)).endsWith(added.message());
            assertThat(added.window()).isEqualTo(plain.session(KEY).contextWindow(100_000));
            assertThat(mine.windowsFromAppends()).isZero();
            // The same with an add between: it must not bring the held window up to date either.
            held = added.window();
            removeElsewhere(db, held.get(2).sequence());
            Message answer = mine.session(KEY).add(Message.assistant("answer"));
            List<Message> window = mine.session(KEY).contextWindow(100_000);
            assertThat(window).hasSize(10).doesNotContain(held.get(2)).endsWith(answer);
            assertThat(window).isEqualTo(plain.session(KEY).contextWindow(100_000));
        }
    }

    /** With retention at its limit, an append that removes messages does not bring the window up to date itself. */
    @ParameterizedTest
    @MethodSource("databases")
    void addAndWindowWhoseRetentionRemovesMessagesReadsTheWindow(String database) {
        Db db = db(database);
        try (JdbcMemory mine = db.open(10_000, Retention.maxMessages(20));
                Memory plain = db.open(0, Retention.maxMessages(20))) {
            MemoryStore store = mine.session(KEY);
            fill(store, "r", 19);
            store.contextWindow(100_000);
            Added added = store.addAndWindow(Message.user("twentieth"), 100_000);
            assertThat(added.window()).hasSize(20).isEqualTo(plain.session(KEY).contextWindow(100_000));
            assertThat(mine.windowsFromAppends()).isEqualTo(1);
            for (int i = 0; i < 5; i++) {
                added = store.addAndWindow(Message.user("over " + i), 100_000);
                assertThat(added.window())
                        .hasSize(20)
                        .isEqualTo(plain.session(KEY).contextWindow(100_000));
            }
            assertThat(mine.windowsFromAppends()).isEqualTo(1);
        }
    }

    /**
     * Another process removes a message from the middle of the session (its counters kept right) while retention
     * elsewhere removes the oldest ones: the count of what is left tells that more than the head went, and the removed
     * message leaves the window.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void aMessageRemovedFromTheMiddleLeavesTheWindowAsTheHeadMoves(String database) throws Exception {
        Db db = db(database);
        try (Memory mine = db.open(10_000, Retention.none());
                Memory theirs = db.open(10_000, Retention.maxMessages(10));
                Memory plain = db.open(0, Retention.none())) {
            fill(mine.session(KEY), "a", 10);
            assertThat(mine.session(KEY).contextWindow(100_000)).hasSize(10);
            removeElsewhere(db, 6); // a5
            fill(theirs.session(KEY), "b", 3); // removes a0 and a1
            List<Message> window = mine.session(KEY).contextWindow(100_000);
            assertThat(contents(window)).containsExactly("a2", "a3", "a4", "a6", "a7", "a8", "a9", "b0", "b1", "b2");
            assertThat(window).isEqualTo(plain.session(KEY).contextWindow(100_000));
        }
    }

    /**
     * As above, with a window that held only the newest messages: after a message it held is removed from the middle
     * and retention elsewhere removes every older one it did not read but one, the counts would add up again, so only
     * a window that held the whole session is trusted after a removal.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void aMessageRemovedFromTheMiddleLeavesAWindowThatHeldPartOfTheSession(String database) throws Exception {
        Db db = db(database);
        try (Memory mine = db.open(10_000, Retention.none());
                Memory theirs = db.open(10_000, Retention.maxMessages(7));
                Memory plain = db.open(0, Retention.none())) {
            fill(mine.session(KEY), "a", 12);
            int budget = 1;
            while (mine.session(KEY).contextWindow(budget).size() < 5) {
                budget++;
            }
            assertThat(contents(mine.session(KEY).contextWindow(budget)))
                    .containsExactly("a7", "a8", "a9", "a10", "a11");
            removeElsewhere(db, 10); // a9
            // Removes a0 to a4. The window's walk held a6 to a11 (one more than it took), so a5 is the one older
            // message left: a count of what is left from the head on would match, with a9 gone and a5 unknown.
            theirs.session(KEY).add(Message.user("b"));
            List<Message> window = mine.session(KEY).contextWindow(budget);
            assertThat(contents(window)).doesNotContain("a9").endsWith("a10", "a11", "b");
            assertThat(window).isEqualTo(plain.session(KEY).contextWindow(budget));
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void smallBudgetsAndSessionsLargerThanTheCacheAnswerTheSame(String database) {
        Db db = db(database);
        try (Memory cached = db.open(25, Retention.none());
                Memory plain = db.open(0, Retention.none())) {
            for (String session : List.of("one", "two", "three")) {
                fill(cached.session("acme", session), session, 15);
            }
            fill(cached.session("acme", "big"), "big", 40);
            for (int round = 0; round < 3; round++) {
                for (String session : List.of("one", "two", "three", "big")) {
                    for (int budget : new int[] {3, 10, 40, 100_000}) {
                        Function<Memory, List<Message>> window =
                                memory -> memory.session("acme", session).contextWindow(budget);
                        assertThat(window.apply(cached)).isEqualTo(window.apply(plain));
                    }
                }
                cached.session("acme", "two").add(Message.user("more " + round));
            }
        }
    }

    /** Sessions written before schema version 2 have no epoch: read without the cache until written again. */
    @ParameterizedTest
    @MethodSource("databases")
    void sessionsWithoutAnEpochAreReadCorrectly(String database) throws Exception {
        Db db = db(database);
        try (Memory memory = db.open(10_000, Retention.none())) {
            fill(memory.session(KEY), "m", 5);
            try (Connection c = DriverManager.getConnection(db.url());
                    Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE \"" + db.prefix() + "sessions\" SET epoch = NULL");
            }
            List<Message> first = memory.session(KEY).contextWindow(100_000);
            assertThat(memory.session(KEY).contextWindow(100_000)).isEqualTo(first);
            memory.session(KEY).add(Message.user("m5"));
            assertThat(contents(memory.session(KEY).contextWindow(100_000)))
                    .containsExactly("m0", "m1", "m2", "m3", "m4", "m5");
            List<Message> again = memory.session(KEY).contextWindow(100_000);
            assertThat(again.get(0))
                    .isSameAs(memory.session(KEY).contextWindow(100_000).get(0));
        }
    }

    /**
     * One connection, so that every window runs on the same prepared statements: a first page read with one row
     * limit and then with another takes the second limit (H2 keeps the first execution's LIMIT parameter of a UNION
     * branch, which would make a window stop at 256 of 300 messages).
     */
    @ParameterizedTest
    @MethodSource("databases")
    void aReusedStatementTakesEachWindowsOwnRowLimit(String database) {
        Db db = db(database);
        try (Memory cached = db.open(10_000, Retention.none(), Clock.systemUTC(), 1);
                Memory plain = db.open(0, Retention.none())) {
            fill(cached.session(KEY), "m", 300);
            for (int budget : new int[] {5, 100_000, 40, 100_000, 3, 1_000, 100_000}) {
                assertThat(cached.session(KEY).contextWindow(budget))
                        .as("budget %d", budget)
                        .isEqualTo(plain.session(KEY).contextWindow(budget));
            }
        }
    }

    /** Messages held by an entry that expire after it was made leave the next window, which adds no other row. */
    @ParameterizedTest
    @MethodSource("databases")
    void messagesThatExpireAfterTheEntryLeaveTheWindow(String database) {
        Db db = db(database);
        MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
        Retention hour = Retention.builder().maxAge(Duration.ofHours(1)).build();
        try (Memory cached = db.open(10_000, hour, clock, 1);
                Memory plain = db.open(0, hour, clock, 1)) {
            MemoryStore store = cached.session(KEY);
            for (int i = 0; i < 10; i++) {
                store.add(Message.builder(Message.USER, "t" + i)
                        .timestamp(clock.instant().minus(Duration.ofMinutes(50 - i)))
                        .build());
            }
            store.add(Message.builder(Message.SYSTEM, "pinned, never expires")
                    .timestamp(clock.instant().minus(Duration.ofMinutes(55)))
                    .pinned()
                    .build());
            assertThat(contents(store.contextWindow(100_000))).hasSize(11);
            clock.advance(Duration.ofMinutes(15)); // t0 to t4 are now older than an hour, and still stored
            List<Message> window = store.contextWindow(100_000);
            assertThat(contents(window)).containsExactly("pinned, never expires", "t5", "t6", "t7", "t8", "t9");
            assertThat(window).isEqualTo(plain.session(KEY).contextWindow(100_000));
            assertThat(store.history()).hasSize(6); // history hides them too

            store.add(Message.builder(Message.USER, "new")
                    .timestamp(clock.instant())
                    .build()); // removes them
            window = store.contextWindow(100_000);
            assertThat(contents(window)).containsExactly("pinned, never expires", "t5", "t6", "t7", "t8", "t9", "new");
            assertThat(window).isEqualTo(plain.session(KEY).contextWindow(100_000));
        }
    }

    /**
     * Retention removing messages while a memory holds windows: at the session's head (max messages, here and in
     * another memory, tool-call groups removed whole), and in its middle (max age with a message stored backdated).
     * The memory's own messages are stored by {@code add} or by {@code addAndWindow}. Every window equals a memory's
     * without the cache; with no middle removal, most of them are reads of the added rows only, or no read at all.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void windowsStayExactWhileRetentionRemovesMessages(String database) {
        Db db = db(database);
        MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
        Retention retention =
                Retention.builder().maxMessages(12).maxAge(Duration.ofHours(1)).build();
        Random random = new Random(7);
        try (JdbcMemory cached = db.open(10_000, retention, clock, 2);
                Memory other = db.open(10_000, Retention.maxMessages(12), clock, 2);
                Memory plain = db.open(0, retention, clock, 2)) {
            MemoryStore store = cached.session(KEY);
            store.add(Message.builder(Message.SYSTEM, "pinned").pinned().build());
            Map<Integer, String> due = new HashMap<>();
            int together = 0;
            for (int step = 0; step < 300; step++) {
                clock.advance(Duration.ofSeconds(10));
                int op = random.nextInt(10);
                MemoryStore writer = op < 6 ? store : other.session(KEY);
                Message message;
                if (due.containsKey(step)) {
                    message = Message.tool(due.remove(step), "result " + step);
                } else if (op == 9) {
                    // A message stored 70 minutes back: the next write of the expiring memory removes it, mid-session.
                    writer = store;
                    message = Message.builder(Message.USER, "old " + step)
                            .timestamp(clock.instant().minus(Duration.ofMinutes(70)))
                            .build();
                } else if (op == 8) {
                    // Its result comes a few messages later: retention removes the two together, the result from
                    // the middle of the session.
                    String call = "call-" + step;
                    message = Message.assistant("calls " + step, List.of(new ToolCall(call, "lookup", "{}")));
                    due.put(step + 3, call);
                } else {
                    message = Message.user("m" + step);
                }
                int budget = random.nextInt(4) == 0 ? 40 + random.nextInt(60) : 100_000;
                if (writer == store && random.nextBoolean()) {
                    together++;
                    Added added = store.addAndWindow(message, budget);
                    assertThat(added.window())
                            .as("addAndWindow at step %d, budget %d", step, budget)
                            .isEqualTo(plain.session(KEY).contextWindow(budget));
                } else {
                    writer.add(message);
                }
                List<Message> window = store.contextWindow(budget);
                assertThat(window)
                        .as("step %d, budget %d", step, budget)
                        .isEqualTo(plain.session(KEY).contextWindow(budget));
            }
            assertThat(together).isGreaterThan(50);
            assertThat(cached.windowsFromAppends())
                    .as("windows of addAndWindow made from the held window alone")
                    .isGreaterThan(0);
        }
    }
}
