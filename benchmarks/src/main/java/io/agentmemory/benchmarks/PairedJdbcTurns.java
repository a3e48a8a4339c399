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
 * {@link JdbcFloorBenchmark}'s, for machines where the cost of a commit drifts during a run: one turn of each kind in
 * turn, then the next round, each phase timed on its own, so that all see the same moments of the machine. The kinds:
 * ours with {@code calls=separate} (add, window, add) and with {@code calls=addAndWindow} (addAndWindow, add), each on
 * a session of its own, the floor, and {@link JdbcTurnBound}'s two appends (the least a store with memory-jdbc's write
 * guarantees does, its window free). Prints the median and 90th percentile of each phase and of whole turns, and the
 * ratios of the medians. It complements the JMH runs; it is not one of them (no forking, its own warm-up of as many
 * rounds again).
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar io.agentmemory.benchmarks.PairedJdbcTurns
 * postgresql|h2 N rounds [otherRows]}; the databases and settings are {@link JdbcBenchmarkDatabases}', with no other
 * rows or {@code otherRows} (0 or 1000000, as the JMH parameter; loaded on first use).
 */
public final class PairedJdbcTurns {
    private PairedJdbcTurns() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3 && args.length != 4) {
            throw new IllegalArgumentException("usage: PairedJdbcTurns postgresql|h2 N rounds [otherRows]");
        }
        String database = args[0];
        int n = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        int otherRows = args.length == 4 ? Integer.parseInt(args[3]) : 0;
        String url = JdbcBenchmarkDatabases.url(database, otherRows);
        JdbcBenchmarkDatabases.prepare(url, otherRows);
        try (Memory memory = JdbcMemory.open(
                        JdbcBenchmarkDatabases.settings(url), JdbcBenchmarkDatabases.context(Retention.none()));
                HikariDataSource pool = JdbcBenchmarkDatabases.pool(url)) {
            MemoryStore store = memory.session(JdbcBenchmarkDatabases.TENANT, "turn-" + UUID.randomUUID());
            MemoryStore combined = memory.session(JdbcBenchmarkDatabases.TENANT, "turn-" + UUID.randomUUID());
            String floorSession = "turn-" + UUID.randomUUID();
            TurnMessages messages = new TurnMessages(n);
            List<Message> fill = new ArrayList<>(n);
            while (fill.size() < n) {
                fill.add(JdbcBenchmarkDatabases.fresh(messages.user()));
                fill.add(JdbcBenchmarkDatabases.fresh(messages.assistant()));
            }
            store.addAll(fill.subList(0, n));
            combined.addAll(fill.subList(0, n).stream()
                    .map(JdbcBenchmarkDatabases::fresh)
                    .toList());
            JdbcBenchmarkDatabases.insertFloor(pool, floorSession, fill.subList(0, n));
            JdbcTurnBound bound = new JdbcTurnBound(pool, url, "turn-" + UUID.randomUUID());
            bound.fill(fill.subList(0, n).stream()
                    .map(JdbcBenchmarkDatabases::fresh)
                    .toList());
            String[] names = {
                "ours, separate: add",
                "ours, separate: window",
                "ours, separate: add",
                "ours, separate: turn",
                "ours, addAndWindow: addAndWindow",
                "ours, addAndWindow: add",
                "ours, addAndWindow: turn",
                "floor: insert",
                "floor: select",
                "floor: insert",
                "floor: turn",
                "bound: append",
                "bound: append",
                "bound: turn"
            };
            long[][] t = new long[names.length][rounds];
            long sink = 0;
            for (int warm = 0; warm < 2; warm++) { // the first pass warms up
                for (int i = 0; i < rounds; i++) {
                    long a = System.nanoTime();
                    sink += store.add(JdbcBenchmarkDatabases.fresh(messages.user()))
                            .sequence();
                    long b = System.nanoTime();
                    sink += store.contextWindow(n).size();
                    long c = System.nanoTime();
                    sink += store.add(JdbcBenchmarkDatabases.fresh(messages.assistant()))
                            .sequence();
                    long d = System.nanoTime();
                    sink += combined.addAndWindow(JdbcBenchmarkDatabases.fresh(messages.user()), n)
                            .window()
                            .size();
                    long e = System.nanoTime();
                    sink += combined.add(JdbcBenchmarkDatabases.fresh(messages.assistant()))
                            .sequence();
                    long f = System.nanoTime();
                    JdbcFloorBenchmark.insert(pool, floorSession, JdbcBenchmarkDatabases.fresh(messages.user()));
                    long g = System.nanoTime();
                    sink += JdbcFloorBenchmark.window(pool, floorSession, n).size();
                    long h = System.nanoTime();
                    JdbcFloorBenchmark.insert(pool, floorSession, JdbcBenchmarkDatabases.fresh(messages.assistant()));
                    long j = System.nanoTime();
                    sink += bound.append(JdbcBenchmarkDatabases.fresh(messages.user()));
                    long k = System.nanoTime();
                    sink += bound.append(JdbcBenchmarkDatabases.fresh(messages.assistant()));
                    long l = System.nanoTime();
                    long[] phases = {
                        b - a, c - b, d - c, d - a, e - d, f - e, f - d, g - f, h - g, j - h, j - f, k - j, l - k, l - j
                    };
                    for (int p = 0; p < phases.length; p++) {
                        t[p][i] = phases[p];
                    }
                }
            }
            System.out.printf(
                    Locale.ROOT,
                    "%s, N=%d, %d other rows, %d rounds (after as many to warm up)%n",
                    database,
                    n,
                    otherRows,
                    rounds);
            for (int k = 0; k < names.length; k++) {
                System.out.printf(
                        Locale.ROOT,
                        "%-34s median %8.1f us   p90 %8.1f us%n",
                        names[k],
                        PairedRedisTurns.median(t[k]),
                        PairedRedisTurns.p90(t[k]));
            }
            double floor = PairedRedisTurns.median(t[10]);
            System.out.printf(
                    Locale.ROOT,
                    "ratios of median turns: floor / ours separate %.2fx, floor / ours addAndWindow %.2fx,"
                            + " floor / bound %.2fx (%d)%n",
                    floor / PairedRedisTurns.median(t[3]),
                    floor / PairedRedisTurns.median(t[6]),
                    floor / PairedRedisTurns.median(t[13]),
                    sink & 1);
        }
    }
}
