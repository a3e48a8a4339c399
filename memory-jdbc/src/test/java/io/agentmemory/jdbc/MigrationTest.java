package io.agentmemory.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.EvictionListener;
import io.agentmemory.Memory;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Migrations are applied once and recorded, also when several starters race on a fresh database: separate pools
 * (separate connections, as separate processes would have) opening the same tables at the same moment.
 */
class MigrationTest {
    private static final int STARTERS = 6;

    @TempDir
    Path directory;

    private static MemoryContext context() {
        return new MemoryContext(Clock.systemUTC(), TokenCounters.heuristic(), Retention.none(), EvictionListener.NONE);
    }

    @Test
    void startersRacingOnPostgresqlApplyEachMigrationOnce() throws Exception {
        try (TestPostgres.Database database = TestPostgres.createDatabase("migration")) {
            for (String schema : new String[] {null, "race_schema"}) {
                JdbcSettings settings = JdbcSettings.builder()
                        .url(database.url())
                        .poolSize(2)
                        .schema(schema)
                        .build();
                race(settings);
                try (Connection c = database.connect()) {
                    assertThat(versions(
                                    c,
                                    (schema == null ? "" : "\"" + schema + "\".") + "\"agentmemory_schema_version\""))
                            .containsExactly(1, 2, 3, 4, 5, 6);
                }
            }
        }
    }

    @Test
    void startersRacingOnH2ApplyEachMigrationOnce() throws Exception {
        String url = "jdbc:h2:file:" + directory.resolve("race") + ";AUTO_SERVER=FALSE";
        race(JdbcSettings.builder().url(url).poolSize(2).build());
        try (Connection c = DriverManager.getConnection(url)) {
            assertThat(versions(c, "\"agentmemory_schema_version\"")).containsExactly(1, 2, 3, 4, 5, 6);
        }
    }

    private static void race(JdbcSettings settings) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(STARTERS);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Memory>> opened = new ArrayList<>();
        try {
            for (int i = 0; i < STARTERS; i++) {
                opened.add(pool.submit(() -> {
                    start.await();
                    return JdbcMemory.open(settings, context());
                }));
            }
            start.countDown();
            List<Memory> memories = new ArrayList<>();
            for (Future<Memory> f : opened) {
                memories.add(f.get());
            }
            for (int i = 0; i < memories.size(); i++) {
                memories.get(i).session("race", "s").add(Message.user("from starter " + i));
            }
            assertThat(memories.get(0).session("race", "s").count()).isEqualTo(STARTERS);
            memories.forEach(Memory::close);
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<Integer> versions(Connection c, String table) throws SQLException {
        List<Integer> versions = new ArrayList<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT version FROM " + table + " ORDER BY version")) {
            while (rs.next()) {
                versions.add(rs.getInt(1));
            }
        }
        return versions;
    }
}
