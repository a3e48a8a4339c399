package io.agentmemory.benchmarks;

import java.util.Arrays;
import java.util.Locale;

/**
 * A paired measurement of {@link RedisAgentTurnBenchmark}'s turn against {@link RedisFloorBenchmark}'s
 * ({@code codec=none}), for machines whose speed drifts during a run: one turn of ours, then one of the floor, then
 * the next pair, each phase timed on its own, so that both see the same moments of the machine. The sessions are set
 * up, checked and deleted by the benchmarks' own state classes. Prints the median and 90th percentile of each phase
 * and of whole turns, and the ratio of the medians. It complements the JMH runs; it is not one of them (no forking,
 * its own warm-up of as many pairs again).
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar io.agentmemory.benchmarks.PairedRedisTurns N pairs}, on
 * the server of {@code MEMORY_TEST_REDIS_URL} (default {@code redis://127.0.0.1:6379}).
 */
public final class PairedRedisTurns {
    private PairedRedisTurns() {}

    public static void main(String[] args) {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: PairedRedisTurns N pairs");
        }
        int n = Integer.parseInt(args[0]);
        int pairs = Integer.parseInt(args[1]);
        RedisAgentTurnBenchmark.Shared oursShared = new RedisAgentTurnBenchmark.Shared();
        oursShared.n = n;
        oursShared.setUp();
        RedisFloorBenchmark.Shared floorShared = new RedisFloorBenchmark.Shared();
        floorShared.n = n;
        floorShared.codec = "none";
        floorShared.setUp();
        try {
            RedisAgentTurnBenchmark.Session ours = new RedisAgentTurnBenchmark.Session();
            ours.setUp(oursShared);
            RedisFloorBenchmark.Session floor = new RedisFloorBenchmark.Session();
            floor.setUp(floorShared);
            long[][] t = new long[8][pairs];
            long sink = 0;
            for (int round = 0; round < 2; round++) { // the first round warms up
                for (int i = 0; i < pairs; i++) {
                    long a = System.nanoTime();
                    sink += ours.store.add(ours.messages.user()).sequence();
                    long b = System.nanoTime();
                    sink += ours.store
                            .contextWindow(RedisAgentTurnBenchmark.BUDGET)
                            .size();
                    long c = System.nanoTime();
                    sink += ours.store.add(ours.messages.assistant()).sequence();
                    long d = System.nanoTime();
                    sink += floor.append(floor.messages.user()).hashCode();
                    long e = System.nanoTime();
                    sink += floor.window().hashCode();
                    long f = System.nanoTime();
                    sink += floor.append(floor.messages.assistant()).hashCode();
                    long g = System.nanoTime();
                    long[] phases = {b - a, c - b, d - c, d - a, e - d, f - e, g - f, g - d};
                    for (int k = 0; k < phases.length; k++) {
                        t[k][i] = phases[k];
                    }
                }
            }
            ours.check(n);
            floor.verify();
            String[] names = {
                "ours: add", "ours: window", "ours: add", "ours: turn",
                "floor: append", "floor: range", "floor: append", "floor: turn"
            };
            System.out.printf(Locale.ROOT, "redis, N=%d, %d pairs (after as many to warm up)%n", n, pairs);
            for (int k = 0; k < names.length; k++) {
                System.out.printf(
                        Locale.ROOT, "%-14s median %8.1f us   p90 %8.1f us%n", names[k], median(t[k]), p90(t[k]));
            }
            System.out.printf(
                    Locale.ROOT,
                    "ratio of median turns, floor/ours: %.2fx (%d)%n",
                    median(t[7]) / median(t[3]),
                    sink & 1);
        } finally {
            oursShared.tearDown();
            floorShared.tearDown();
        }
    }

    static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2] / 1000.0;
    }

    static double p90(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length * 9 / 10] / 1000.0;
    }
}
