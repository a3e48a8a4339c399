package io.agentmemory.benchmarks;

import com.zaxxer.hikari.HikariDataSource;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.jdbc.JdbcMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * A paired measurement of {@link JdbcAgentTurnBenchmark}'s turn (retention {@code none}) against
 * {@link JdbcFloorBenchmark}'s, for machines where the cost of a commit drifts during a run: one turn of ours, then one
 * of the floor, then the next pair, each timed on its own, so that both see the same moments of the machine. Prints
 * the median and 90th percentile of each phase (append, window, append) and of whole turns, and the ratio of the
 * medians. It complements the JMH runs; it is not one of them (no forking, its own warm-up of as many pairs again).
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar io.agentmemory.benchmarks.PairedJdbcTurns
 * postgresql|h2 N pairs [otherRows]}; the databases and settings are {@link JdbcBenchmarkDatabases}', with no other
 * rows or {@code otherRows} (0 or 1000000, as the JMH parameter; loaded on first use).
 */
public final class PairedJdbcTurns {
    private PairedJdbcTurns() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3 && args.length != 4) {
            throw new IllegalArgumentException("usage: PairedJdbcTurns postgresql|h2 N pairs [otherRows]");
        }
        String database = args[0];
        int n = Integer.parseInt(args[1]);
        int pairs = Integer.parseInt(args[2]);
        int otherRows = args.length == 4 ? Integer.parseInt(args[3]) : 0;
        String url = JdbcBenchmarkDatabases.url(database, otherRows);
        JdbcBenchmarkDatabases.prepare(url, otherRows);
        try (Memory memory = JdbcMemory.open(
                        JdbcBenchmarkDatabases.settings(url), JdbcBenchmarkDatabases.context(Retention.none()));
                HikariDataSource pool = JdbcBenchmarkDatabases.pool(url)) {
            MemoryStore store = memory.session(JdbcBenchmarkDatabases.TENANT, "turn-" + UUID.randomUUID());
            String floorSession = "turn-" + UUID.randomUUID();
            TurnMessages messages = new TurnMessages(n);
            List<Message> fill = new ArrayList<>(n);
            while (fill.size() < n) {
                fill.add(JdbcBenchmarkDatabases.fresh(messages.user()));
                fill.add(JdbcBenchmarkDatabases.fresh(messages.assistant()));
            }
            store.addAll(fill.subList(0, n));
            JdbcBenchmarkDatabases.insertFloor(pool, floorSession, fill.subList(0, n));
            long[][] t = new long[8][pairs];
            long sink = 0;
            for (int round = 0; round < 2; round++) { // the first round warms up
                for (int i = 0; i < pairs; i++) {
                    long a = System.nanoTime();
                    sink += store.add(JdbcBenchmarkDatabases.fresh(messages.user()))
                            .sequence();
                    long b = System.nanoTime();
                    sink += store.contextWindow(n).size();
                    long c = System.nanoTime();
                    sink += store.add(JdbcBenchmarkDatabases.fresh(messages.assistant()))
                            .sequence();
                    long d = System.nanoTime();
                    JdbcFloorBenchmark.insert(pool, floorSession, JdbcBenchmarkDatabases.fresh(messages.user()));
                    long e = System.nanoTime();
                    sink += JdbcFloorBenchmark.window(pool, floorSession, n).size();
                    long f = System.nanoTime();
                    JdbcFloorBenchmark.insert(pool, floorSession, JdbcBenchmarkDatabases.fresh(messages.assistant()));
                    long g = System.nanoTime();
                    long[] phases = {b - a, c - b, d - c, d - a, e - d, f - e, g - f, g - d};
                    for (int k = 0; k < phases.length; k++) {
                        t[k][i] = phases[k];
                    }
                }
            }
            String[] names = {
                "ours: add", "ours: window", "ours: add", "ours: turn",
                "floor: insert", "floor: select", "floor: insert", "floor: turn"
            };
            System.out.printf(
                    Locale.ROOT,
                    "%s, N=%d, %d other rows, %d pairs (after as many to warm up)%n",
                    database,
                    n,
                    otherRows,
                    pairs);
            for (int k = 0; k < names.length; k++) {
                System.out.printf(
                        Locale.ROOT,
                        "%-14s median %8.1f us   p90 %8.1f us%n",
                        names[k],
                        PairedRedisTurns.median(t[k]),
                        PairedRedisTurns.p90(t[k]));
            }
            System.out.printf(
                    Locale.ROOT,
                    "ratio of median turns, floor/ours: %.2fx (%d)%n",
                    PairedRedisTurns.median(t[7]) / PairedRedisTurns.median(t[3]),
                    sink & 1);
        }
    }
}
