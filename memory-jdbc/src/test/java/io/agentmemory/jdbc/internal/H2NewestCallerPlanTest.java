package io.agentmemory.jdbc.internal;

import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.ToolCall;
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
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lookup that decides whether a tool message is pinned (run for every tool result appended on H2, which takes
 * the batch path) on a session of 2,000 messages: it must not read the session's history.
 */
class H2NewestCallerPlanTest {
    @TempDir
    Path directory;

    @Test
    void thePinnedCallerLookupDoesNotReadTheHistory() throws Exception {
        String url = "jdbc:h2:file:" + directory.resolve("caller") + ";AUTO_SERVER=FALSE";
        try (Memory memory = JdbcMemory.open(
                JdbcSettings.builder().url(url).build(),
                new MemoryContext(
                        Clock.systemUTC(), TokenCounters.heuristic(), Retention.none(), EvictionListener.NONE))) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.system("rules"));
            store.add(Message.builder(Message.ASSISTANT, "pinned call")
                    .toolCalls(List.of(new ToolCall("call_p", "f", "{}")))
                    .pinned()
                    .build());
            store.addAll(IntStream.range(0, 2000)
                    .mapToObj(i -> Message.user("m" + i))
                    .toList());
            store.add(Message.assistant("reply", List.of(new ToolCall("call_p", "f", "{}"))));
        }
        Dialect dialect = Dialect.forUrl(url, new Tables(Optional.empty(), "agentmemory_"));
        SoftAssertions soft = new SoftAssertions();
        try (Connection c = DriverManager.getConnection(url);
                Statement st = c.createStatement()) {
            st.execute("ANALYZE");
            // call_x: no pinned message made it (the usual case); call_p: a pinned message made it, and the newest
            // message, an unpinned reply, made it again.
            for (String call : new String[] {"call_x", "call_p"}) {
                // The statement as the backend sends it, prepared with its parameters bound.
                Sql explain = Sql.of("EXPLAIN ANALYZE "
                        + dialect.newestCallerPinned
                                .text()
                                .replace(
                                        "tenant = ? AND session_id = ? AND scope = ?",
                                        "tenant = {tenant} AND session_id = {session} AND scope = {scope}")
                                .replace("?", "{call}"));
                String plan;
                try (PreparedStatement ps = explain.prepare(
                                c,
                                new Sql.Params()
                                        .set("tenant", "t")
                                        .set("session", "s")
                                        .set("scope", "")
                                        .set("call", call));
                        ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    plan = rs.getString(1);
                }
                Matcher scanned = Pattern.compile("scanCount: (\\d+)").matcher(plan);
                int total = 0;
                while (scanned.find()) {
                    total += Integer.parseInt(scanned.group(1));
                }
                soft.assertThat(total).as("%s: rows scanned by%n%s", call, plan).isLessThanOrEqualTo(20);
            }
        }
        soft.assertAll();
    }
}
