package io.agentmemory.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.jdbc.JdbcMemory;
import io.agentmemory.jdbc.JdbcSettings;
import io.agentmemory.spi.MemoryContext;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * H2 reads a session's oldest and newest unpinned messages off an index, without reading and sorting the session:
 * the statements of retention and of windows, as H2 plans them for a session of 2,000 messages.
 */
class H2ReadOrderTest {
    @TempDir
    Path directory;

    @Test
    void unpinnedMessagesAreReadInIndexOrder() throws Exception {
        String url = "jdbc:h2:file:" + directory.resolve("order") + ";AUTO_SERVER=FALSE";
        try (Memory memory = open(url)) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.system("rules"));
            store.addAll(IntStream.range(0, 2000)
                    .mapToObj(i -> Message.user("m" + i))
                    .toList());
        }
        Dialect dialect = Dialect.forUrl(url, new Tables(Optional.empty(), "agentmemory_"));
        String key = "tenant = 't' AND session_id = 's' AND scope = ''";
        String oldest = dialect.headersAfter
                .text()
                .replaceFirst("tenant = \\? AND session_id = \\? AND scope = \\?", key)
                .replaceFirst("seq > \\?", "seq > 0")
                .replaceFirst("LIMIT \\?", "LIMIT 16");
        String newest = dialect.windowNext
                .text()
                .replaceFirst("tenant = \\? AND session_id = \\? AND scope = \\?", key)
                .replaceFirst("seq < \\?", "seq < 1000000")
                .replaceFirst("LIMIT \\?", "LIMIT 16");
        try (Connection c = DriverManager.getConnection(url);
                Statement st = c.createStatement()) {
            for (String sql : new String[] {oldest, newest}) {
                String plan;
                try (ResultSet rs = st.executeQuery("EXPLAIN ANALYZE " + sql)) {
                    rs.next();
                    plan = rs.getString(1);
                }
                Matcher scanned = Pattern.compile("scanCount: (\\d+)").matcher(plan);
                assertThat(scanned.find()).as(plan).isTrue();
                assertThat(Integer.parseInt(scanned.group(1))).as(plan).isLessThanOrEqualTo(17);
                assertThat(plan).contains("index sorted");
            }
        }
    }

    /**
     * The window's first statement, prepared once and run with one row limit and then others, returns each run's
     * limit of unpinned rows (H2 evaluates a LIMIT parameter of a UNION branch only on the first execution; the
     * unpinned rows are a derived table for that reason).
     */
    @Test
    void aPreparedWindowStatementTakesEachExecutionsLimit() throws Exception {
        String url = "jdbc:h2:file:" + directory.resolve("limits") + ";AUTO_SERVER=FALSE";
        try (Memory memory = open(url)) {
            memory.session("t", "s")
                    .addAll(IntStream.range(0, 50)
                            .mapToObj(i -> Message.user("m" + i))
                            .toList());
        }
        Dialect dialect = Dialect.forUrl(url, new Tables(Optional.empty(), "agentmemory_"));
        try (Connection c = DriverManager.getConnection(url);
                PreparedStatement ps = c.prepareStatement(dialect.windowFirst.text())) {
            for (int limit : new int[] {3, 20, 7, 50}) {
                dialect.windowFirst.bind(
                        ps,
                        new Sql.Params()
                                .set("tenant", "t")
                                .set("session", "s")
                                .set("scope", "")
                                .set("limit", limit)
                                .set("budget", 1_000_000L)
                                .set("known_lo", 1L)
                                .set("known_hi", 0L)
                                .set("anchor", "")
                                .set("anchor_seq", 0L)
                                .set("anchor_stamp", 0L));
                int unpinned = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (rs.getLong(1) > 0) {
                            unpinned++;
                        }
                    }
                }
                assertThat(unpinned).as("limit %d", limit).isEqualTo(limit);
            }
        }
    }

    private static Memory open(String url) {
        return JdbcMemory.open(
                JdbcSettings.builder().url(url).build(),
                new MemoryContext(
                        Clock.systemUTC(), TokenCounters.heuristic(), Retention.none(), EvictionListener.NONE));
    }
}
