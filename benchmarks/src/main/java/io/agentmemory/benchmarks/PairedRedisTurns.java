package io.agentmemory.benchmarks;

import java.util.Arrays;
import java.util.Locale;

/**
 * A paired measurement of {@link RedisAgentTurnBenchmark}'s turn against {@link RedisFloorBenchmark}'s
 * ({@code codec=none}), for machines whose speed drifts during a run: one turn of each kind in turn, then the next
 * round, each phase timed on its own, so that all see the same moments of the machine. The kinds: ours with
 * {@code calls=separate} (add, window, add) and with {@code calls=addAndWindow} (addAndWindow, add), the floor with
 * {@code window=own} (append, range, append) and with {@code window=piped} (append and range in one pipeline,
 * append), and {@link RedisTurnBound}'s two appends (the least one atomic script per append with memory-redis's write
 * guarantees does, its window free). The sessions are set up, checked and deleted by the benchmarks' own state
 * classes. Prints the median and 90th percentile of each phase and of whole turns, and the ratios of the median turns.
 * It complements the JMH runs; it is not one of them (no forking, its own warm-up of as many rounds again).
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar io.agentmemory.benchmarks.PairedRedisTurns N rounds},
 * on the server of {@code MEMORY_TEST_REDIS_URL} (default {@code redis://127.0.0.1:6379}).
 */
public final class PairedRedisTurns {
    private PairedRedisTurns() {}

    public static void main(String[] args) {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: PairedRedisTurns N rounds");
        }
        int n = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        RedisAgentTurnBenchmark.Shared oursShared = new RedisAgentTurnBenchmark.Shared();
        oursShared.n = n;
        oursShared.calls = "separate";
        oursShared.setUp();
        RedisFloorBenchmark.Shared floorShared = new RedisFloorBenchmark.Shared();
        floorShared.n = n;
        floorShared.codec = "none";
        floorShared.window = "own";
        floorShared.setUp();
        RedisTurnBound bound = null;
        try {
            RedisAgentTurnBenchmark.Session ours = new RedisAgentTurnBenchmark.Session();
            ours.setUp(oursShared);
            RedisAgentTurnBenchmark.Session oursCombined = new RedisAgentTurnBenchmark.Session();
            oursCombined.setUp(oursShared);
            RedisFloorBenchmark.Session floor = new RedisFloorBenchmark.Session();
            floor.setUp(floorShared);
            RedisFloorBenchmark.Session floorPiped = new RedisFloorBenchmark.Session();
            floorPiped.setUp(floorShared);
            bound = new RedisTurnBound(floorShared.redis, floorShared.prefix, n);
            TurnMessages boundMessages = new TurnMessages(n);
            for (int i = 0; i < n; i += 2) {
                bound.append(boundMessages.user());
                bound.append(boundMessages.assistant());
            }
            String[] names = {
                "ours, separate: add",
                "ours, separate: window",
                "ours, separate: add",
                "ours, separate: turn",
                "ours, addAndWindow: addAndWindow",
                "ours, addAndWindow: add",
                "ours, addAndWindow: turn",
                "floor, own: append",
                "floor, own: range",
                "floor, own: append",
                "floor, own: turn",
                "floor, piped: append+range",
                "floor, piped: append",
                "floor, piped: turn",
                "bound: append",
                "bound: append",
                "bound: turn"
            };
            long[][] t = new long[names.length][rounds];
            long sink = 0;
            for (int warm = 0; warm < 2; warm++) { // the first pass warms up
                for (int i = 0; i < rounds; i++) {
                    long a = System.nanoTime();
                    sink += ours.store.add(ours.messages.user()).sequence();
                    long b = System.nanoTime();
                    sink += ours.store
                            .contextWindow(RedisAgentTurnBenchmark.BUDGET)
                            .size();
                    long c = System.nanoTime();
                    sink += ours.store.add(ours.messages.assistant()).sequence();
                    long d = System.nanoTime();
                    sink += oursCombined
                            .store
                            .addAndWindow(oursCombined.messages.user(), RedisAgentTurnBenchmark.BUDGET)
                            .window()
                            .size();
                    long e = System.nanoTime();
                    sink += oursCombined
                            .store
                            .add(oursCombined.messages.assistant())
                            .sequence();
                    long f = System.nanoTime();
                    sink += floor.append(floor.messages.user()).hashCode();
                    long g = System.nanoTime();
                    sink += floor.window().hashCode();
                    long h = System.nanoTime();
                    sink += floor.append(floor.messages.assistant()).hashCode();
                    long j = System.nanoTime();
                    sink += floorPiped
                            .appendAndWindow(floorPiped.messages.user())
                            .hashCode();
                    long k = System.nanoTime();
                    sink += floorPiped.append(floorPiped.messages.assistant()).hashCode();
                    long l = System.nanoTime();
                    sink += bound.append(boundMessages.user());
                    long o = System.nanoTime();
                    sink += bound.append(boundMessages.assistant());
                    long q = System.nanoTime();
                    long[] phases = {
                        b - a, c - b, d - c, d - a, e - d, f - e, f - d, g - f, h - g, j - h, j - f, k - j, l - k,
                        l - j, o - l, q - o, q - l
                    };
                    for (int p = 0; p < phases.length; p++) {
                        t[p][i] = phases[p];
                    }
                }
            }
            ours.check(n);
            oursCombined.check(n);
            floor.verify();
            floorPiped.verify();
            if (bound.size() != n) {
                throw new IllegalStateException("the bound's session holds " + bound.size() + " messages, not " + n);
            }
            System.out.printf(Locale.ROOT, "redis, N=%d, %d rounds (after as many to warm up)%n", n, rounds);
            for (int p = 0; p < names.length; p++) {
                System.out.printf(
                        Locale.ROOT, "%-34s median %8.1f us   p90 %8.1f us%n", names[p], median(t[p]), p90(t[p]));
            }
            double separate = median(t[3]);
            double combined = median(t[6]);
            double own = median(t[10]);
            double piped = median(t[13]);
            double least = median(t[16]);
            System.out.printf(
                    Locale.ROOT,
                    "ratios of median turns: floor own / ours separate %.2fx, floor own / ours addAndWindow %.2fx,"
                            + " floor piped / ours addAndWindow %.2fx, floor own / bound %.2fx (%d)%n",
                    own / separate,
                    own / combined,
                    piped / combined,
                    own / least,
                    sink & 1);
        } finally {
            if (bound != null) {
                bound.delete();
            }
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
