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
        try (Memory memory = JdbcMemory.open(
                JdbcSettings.builder().url(url).build(),
                new MemoryContext(
                        Clock.systemUTC(), TokenCounters.heuristic(), Retention.none(), EvictionListener.NONE))) {
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
}
