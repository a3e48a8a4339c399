package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.ToolCall;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The session row's head (migration 4): after retention removes the oldest messages, it names the oldest unpinned
 * message left, so that the next removal starts there; retention keeps removing exactly what the rules say.
 */
class SessionHeadTest {
    private static TestPostgres.Database postgres;

    @TempDir
    static Path directory;

    private static final SessionKey KEY = SessionKey.of("acme", "head");

    @BeforeAll
    static void createDatabase() {
        postgres = TestPostgres.createDatabase("session_head");
    }

    @AfterAll
    static void dropDatabase() {
        postgres.close();
    }

    static Stream<String> databases() {
        return Stream.of("postgresql", "h2");
    }

    private static String url(String database) {
        return database.equals("h2")
                ? "jdbc:h2:file:" + directory.resolve("head") + ";AUTO_SERVER=FALSE"
                : postgres.url();
    }

    private static Memory open(String url, Retention retention) {
        return JdbcMemory.open(
                JdbcSettings.builder().url(url).build(),
                new MemoryContext(Clock.systemUTC(), TokenCounters.heuristic(), retention, EvictionListener.NONE));
    }

    private static long head(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT head_seq FROM \"agentmemory_sessions\" WHERE tenant = 'acme'"
                        + " AND session_id = 'head'")) {
            assertThat(rs.next()).isTrue();
            return rs.getLong(1);
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void theHeadFollowsTheOldestUnpinnedMessage(String database) throws Exception {
        String url = url(database);
        try (Memory memory = open(url, Retention.maxMessages(5))) {
            memory.delete(KEY);
            MemoryStore store = memory.session(KEY);
            store.add(Message.system("rules")); // pinned: below the head, never removed
            for (int i = 0; i < 40; i++) {
                store.add(Message.user("m" + i));
            }
            List<Message> history = store.history();
            assertThat(history).hasSize(6);
            assertThat(history.get(0).content()).isEqualTo("rules");
            assertThat(history.subList(1, 6))
                    .extracting(Message::content)
                    .containsExactly("m35", "m36", "m37", "m38", "m39");
            assertThat(head(url)).isEqualTo(history.get(1).sequence());

            // A tool-call group goes whole, from the head on; the head moves past it.
            store.add(Message.assistant("", List.of(new ToolCall("c1", "lookup", "{}"))));
            store.add(Message.tool("c1", "found"));
            for (int i = 0; i < 6; i++) {
                store.addAll(List.of(Message.user("b" + i)));
            }
            history = store.history();
            assertThat(history).extracting(Message::content).containsExactly("rules", "b1", "b2", "b3", "b4", "b5");
            assertThat(head(url)).isEqualTo(history.get(1).sequence());

            // Deleted and written again: the numbers start over, and so does the head.
            memory.delete(KEY);
            for (int i = 0; i < 8; i++) {
                store.add(Message.user("again " + i));
            }
            history = store.history();
            assertThat(history)
                    .extracting(Message::content)
                    .containsExactly("again 3", "again 4", "again 5", "again 6", "again 7");
            assertThat(head(url)).isEqualTo(history.get(0).sequence());
        }
    }
}
