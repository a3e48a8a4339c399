package io.agentmemory.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;

/**
 * Turns JMH JSON result files into the results sections of {@code benchmarks/README.md} and the chart
 * {@code benchmarks/turn-cost.png}. Not thread-safe; a command-line tool.
 *
 * <p>Usage: {@code java -Djava.awt.headless=true -cp benchmarks.jar io.agentmemory.benchmarks.Report [results.json
 * ...] [README.md] [chart.png]}; arguments are told apart by their extension. Each result is sorted into its
 * {@link Suite} by its benchmark class, and only the sections of the suites found are rewritten: the in-memory
 * section (between {@value #START} and {@value #END}, and the chart), the jdbc section and the Redis section (each
 * between its own markers). A suite without results keeps its section as it was. Without result files, the suites'
 * files under {@code benchmarks/results/} that exist are read ({@code jmh-memory.json}, {@code jmh-jdbc.json},
 * {@code jmh-redis.json}); the other defaults are the paths under {@code benchmarks/} from the repository root.
 *
 * <p>Every benchmark here runs in JMH's average-time mode, so a cost is JMH's {@code primaryMetric.score}: the mean
 * time of one operation of one thread over all measurement iterations of all forks; the {@code ±} is JMH's
 * {@code scoreError} (99.9% confidence interval half-width), shown when JMH could compute one. A suite whose run had
 * fewer than {@value #MIN_SAMPLES} measurement iterations in total (forks × iterations) is labelled a smoke run, in its
 * section and in the chart. Every row with a target says whether it meets it.
 */
public final class Report {
    static final String START = "<!-- results:start -->";
    static final String END = "<!-- results:end -->";
    static final int MIN_SAMPLES = 3;

    private static final String TURN = "AgentTurnBenchmark";
    private static final String FLOOR = "FloorBenchmark";
    private static final String APPEND = "InMemoryAppendBenchmark";
    private static final String JDBC_TURN = "JdbcAgentTurnBenchmark";
    private static final String JDBC_FLOOR = "JdbcFloorBenchmark";
    private static final String JDBC_APPEND = "JdbcAppendBenchmark";
    private static final String REDIS_TURN = "RedisAgentTurnBenchmark";
    private static final String REDIS_FLOOR = "RedisFloorBenchmark";
    private static final String REDIS_APPEND = "RedisAppendBenchmark";

    /** The backends' targets: turn throughput at least this share of the floor's. */
    static final double TURN_TARGET = 0.8;
    /** Append cost at N=2000 at most this multiple of the cost at N=20. */
    static final double APPEND_GROWTH_TARGET = 1.3;
    /** Turn cost with other sessions' rows at most this multiple of the cost on the empty table. */
    static final double OTHER_ROWS_TARGET = 1.5;

    private static final String USAGE = "usage: Report [results.json ...] [README.md] [chart.png]";

    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;

    private Report() {}

    /** A group of benchmarks run together by {@code run.sh}, with its result file and its README section. */
    enum Suite {
        MEMORY("memory", START, END, TURN, FLOOR, APPEND),
        JDBC("jdbc", "<!-- jdbc-results:start -->", "<!-- jdbc-results:end -->", JDBC_TURN, JDBC_FLOOR, JDBC_APPEND),
        REDIS(
                "redis",
                "<!-- redis-results:start -->",
                "<!-- redis-results:end -->",
                REDIS_TURN,
                REDIS_FLOOR,
                REDIS_APPEND);

        final String id;
        final String start;
        final String end;
        final Set<String> benchmarks;

        Suite(String id, String start, String end, String... benchmarks) {
            this.id = id;
            this.start = start;
            this.end = end;
            this.benchmarks = Set.of(benchmarks);
        }

        /** The file {@code run.sh} writes this suite's results to. */
        Path resultFile() {
            return Path.of("benchmarks/results/jmh-" + id + ".json");
        }

        /** How to run this suite alone. */
        String command() {
            return "SUITE=" + id + " benchmarks/run.sh";
        }

        static Optional<Suite> of(String benchmark) {
            return Arrays.stream(values())
                    .filter(s -> s.benchmarks.contains(benchmark))
                    .findFirst();
        }
    }

    /** One JMH result: a benchmark method with one set of parameters. */
    record Result(
            String benchmark,
            String method,
            int threads,
            Map<String, String> params,
            double micros,
            double errorMicros,
            JsonNode raw) {
        String param(String name) {
            return params.getOrDefault(name, "");
        }

        int n() {
            String v = params.containsKey("n") ? params.get("n") : params.getOrDefault("history", "-1");
            return Integer.parseInt(v);
        }

        /** Whether this result has every parameter of {@code wanted} with the same value. */
        boolean has(Map<String, String> wanted) {
            return wanted.entrySet().stream().allMatch(e -> e.getValue().equals(params.get(e.getKey())));
        }
    }

    /** A line of the chart. */
    record Series(String label, Color color, boolean dashed, List<double[]> points) {}

    /** One row's comparison with a target: where, the measured ratio, and whether it meets the target. */
    record Check(String where, double ratio, boolean met) {}

    public static void main(String[] args) throws IOException {
        Path readme = Path.of("benchmarks/README.md");
        Path png = Path.of("benchmarks/turn-cost.png");
        List<Path> jsons = new ArrayList<>();
        for (String arg : args) {
            if (arg.endsWith(".json")) {
                jsons.add(Path.of(arg));
            } else if (arg.endsWith(".md")) {
                readme = Path.of(arg);
            } else if (arg.endsWith(".png")) {
                png = Path.of(arg);
            } else {
                throw new IllegalArgumentException("unexpected argument " + arg + "; " + USAGE);
            }
        }
        if (jsons.isEmpty()) {
            Arrays.stream(Suite.values())
                    .map(Suite::resultFile)
                    .filter(Files::exists)
                    .forEach(jsons::add);
            if (jsons.isEmpty()) {
                throw new IllegalArgumentException(
                        "no result file given and none under benchmarks/results; run benchmarks/run.sh, or " + USAGE);
            }
        }

        Map<Suite, List<Result>> suites = bySuite(jsons);
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        List<String> written = new ArrayList<>();
        for (Map.Entry<Suite, List<Result>> e : suites.entrySet()) {
            Suite suite = e.getKey();
            List<Result> results = e.getValue();
            boolean smoke = isSmoke(results);
            String section = switch (suite) {
                case MEMORY -> section(results, smoke);
                case JDBC -> jdbcSection(results, smoke);
                case REDIS -> redisSection(results, smoke);
            };
            text = replaceSection(text, suite.start, suite.end, section);
            written.add(suite.id + (smoke ? " (SMOKE RUN: not results)" : ""));
            if (suite == Suite.MEMORY) {
                chart(results, smoke, settings(results), png);
                written.add("chart " + png);
            }
        }
        Files.writeString(readme, text, StandardCharsets.UTF_8);
        System.out.println("Wrote to " + readme + ": " + String.join(", ", written));
    }

    /** The results of {@code jsons}, by suite; fails on an unknown benchmark or a result given twice. */
    static Map<Suite, List<Result>> bySuite(List<Path> jsons) throws IOException {
        Map<Suite, List<Result>> suites = new EnumMap<>(Suite.class);
        Set<String> seen = new HashSet<>();
        for (Path json : jsons) {
            List<Result> results = read(json);
            if (results.isEmpty()) {
                throw new IllegalArgumentException(json + " holds no JMH result");
            }
            for (Result r : results) {
                Suite suite = Suite.of(r.benchmark())
                        .orElseThrow(() -> new IllegalArgumentException(json + " holds results of " + r.benchmark()
                                + ", which this report does not know; it reports "
                                + Arrays.stream(Suite.values())
                                        .flatMap(s -> s.benchmarks.stream().sorted())
                                        .collect(Collectors.joining(", "))));
                String key = r.benchmark() + "." + r.method() + " threads=" + r.threads() + " " + r.params();
                if (!seen.add(key)) {
                    throw new IllegalArgumentException(
                            key + " appears twice in " + jsons + "; give each measurement in one file only");
                }
                suites.computeIfAbsent(suite, s -> new ArrayList<>()).add(r);
            }
        }
        return suites;
    }

    static List<Result> read(Path json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        List<Result> results = new ArrayList<>();
        for (JsonNode r : root) {
            String full = r.path("benchmark").asText();
            int dot = full.lastIndexOf('.');
            String method = full.substring(dot + 1);
            String owner = full.substring(0, dot);
            String benchmark = owner.substring(owner.lastIndexOf('.') + 1);
            if (!"avgt".equals(r.path("mode").asText())) {
                throw new IllegalArgumentException(
                        full + " ran in mode " + r.path("mode").asText() + "; this report expects average time (avgt)");
            }
            Map<String, String> params = new LinkedHashMap<>();
            r.path("params")
                    .properties()
                    .forEach(e -> params.put(e.getKey(), e.getValue().asText()));
            JsonNode metric = r.path("primaryMetric");
            double toMicros = toMicros(metric.path("scoreUnit").asText());
            double error = metric.path("scoreError").asDouble(Double.NaN);
            results.add(new Result(
                    benchmark,
                    method,
                    r.path("threads").asInt(),
                    params,
                    metric.path("score").asDouble() * toMicros,
                    error * toMicros,
                    r));
        }
        return results;
    }

    private static double toMicros(String unit) {
        return switch (unit) {
            case "ns/op" -> 1e-3;
            case "us/op" -> 1;
            case "ms/op" -> 1e3;
            case "s/op" -> 1e6;
            default -> throw new IllegalArgumentException("unexpected score unit " + unit);
        };
    }

    static boolean isSmoke(List<Result> results) {
        return results.stream()
                .anyMatch(r -> r.raw().path("forks").asInt(1)
                                * r.raw().path("measurementIterations").asInt()
                        < MIN_SAMPLES);
    }

    static String settings(List<Result> results) {
        JsonNode r = results.get(0).raw();
        return String.format(
                Locale.ROOT,
                "JMH %s, %s %s; forks %d, warmup %d x %s, measurement %d x %s",
                r.path("jmhVersion").asText("?"),
                r.path("vmName").asText("JVM"),
                r.path("jdkVersion").asText("?"),
                r.path("forks").asInt(),
                r.path("warmupIterations").asInt(),
                r.path("warmupTime").asText(),
                r.path("measurementIterations").asInt(),
                r.path("measurementTime").asText());
    }

    static String replaceSection(String text, String start, String end, String section) {
        int from = text.indexOf(start);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("the README has no " + start + " ... " + end + " section");
        }
        return text.substring(0, from + start.length()) + "\n" + section + text.substring(to);
    }

    /** The smoke-run warning if {@code smoke}, and the line saying when and how the suite was measured. */
    private static String header(List<Result> results, boolean smoke, Suite suite) {
        StringBuilder md = new StringBuilder();
        if (smoke) {
            md.append("**SMOKE RUN: these numbers only show that the pipeline works. They are not results;" + " run `"
                    + suite.command() + "` with the default settings.**\n\n");
        }
        md.append(String.format(
                Locale.ROOT,
                "Measured %s with %s; %d cores available to the report. Cost is JMH's average-time score"
                        + " (mean per operation of one thread); ± is JMH's 99.9%% error where it has one.\n\n",
                LocalDate.now(ZoneOffset.UTC),
                settings(results),
                Runtime.getRuntime().availableProcessors()));
        return md.toString();
    }

    /** The in-memory section. */
    static String section(List<Result> results, boolean smoke) {
        StringBuilder md = new StringBuilder(header(results, smoke, Suite.MEMORY));

        md.append("| benchmark | threads | N | ours (µs/turn) | floor (µs/turn) | ratio floor/ours |\n");
        md.append("|---|---:|---:|---:|---:|---:|\n");
        List<Result> turns = new ArrayList<>(of(results, TURN));
        turns.sort(Comparator.comparing((Result r) -> counterOrder(r.param("counter")))
                .thenComparingInt(Result::threads)
                .thenComparingInt(Result::n));
        for (Result ours : turns) {
            Optional<Result> floor = find(results, FLOOR, ours.threads(), ours.n());
            md.append(String.format(
                    Locale.ROOT,
                    "| turn, %s counter | %d | %d | %s | %s | %s |\n",
                    ours.param("counter"),
                    ours.threads(),
                    ours.n(),
                    cost(ours),
                    floor.map(Report::cost).orElse("–"),
                    floor.map(f -> ratio(f.micros() / ours.micros())).orElse("–")));
        }

        Optional<Result> small = find(results, APPEND, 1, 20);
        Optional<Result> large = find(results, APPEND, 1, 20000);
        Optional<Double> growth = small.isPresent() && large.isPresent()
                ? Optional.of(large.get().micros() / small.get().micros())
                : Optional.empty();
        md.append(
                "\n| append (InMemoryAppendBenchmark) | N=20 (ns/append) | N=20000 (ns/append) | growth 20000/20 |\n");
        md.append("|---|---:|---:|---:|\n");
        md.append(String.format(
                Locale.ROOT,
                "| in-memory, heuristic counter, 1 thread | %s | %s | %s |\n",
                small.map(r -> number(r.micros() * 1e3, r.errorMicros() * 1e3)).orElse("–"),
                large.map(r -> number(r.micros() * 1e3, r.errorMicros() * 1e3)).orElse("–"),
                growth.map(Report::ratio).orElse("–")));

        md.append("\nTargets:\n\n");
        md.append(String.format(
                Locale.ROOT,
                "- in-memory append cost grows at most 1.5x from N=20 to N=20000: %s\n",
                growth.map(g -> ratio(g) + (g <= 1.5 ? " **met**" : " **missed**"))
                        .orElse("not measured")));
        for (int threads : new TreeSet<>(turns.stream().map(Result::threads).toList())) {
            Optional<Result> ours = turns.stream()
                    .filter(r -> r.threads() == threads && r.n() == 2000 && "heuristic".equals(r.param("counter")))
                    .findFirst();
            Optional<Result> floor = find(results, FLOOR, threads, 2000);
            String verdict = ours.isPresent() && floor.isPresent()
                    ? ratio(floor.get().micros() / ours.get().micros())
                            + (floor.get().micros() / ours.get().micros() >= 0.5 ? " **met**" : " **missed**")
                    : "not measured";
            md.append(String.format(
                    Locale.ROOT,
                    "- in-memory turn (heuristic counter) at least 0.5x its floor's throughput at N=2000, %d %s: %s\n",
                    threads,
                    threads == 1 ? "thread" : "threads",
                    verdict));
        }
        return md.toString();
    }

    /** The jdbc section: turn against the plain-JDBC floor, the turn with other sessions' rows, the append. */
    static String jdbcSection(List<Result> results, boolean smoke) {
        StringBuilder md = new StringBuilder(header(results, smoke, Suite.JDBC));
        Comparator<Result> order = Comparator.comparing((Result r) -> databaseOrder(r.param("database")))
                .thenComparingInt(r -> Integer.parseInt(r.params().getOrDefault("otherRows", "0")))
                .thenComparing(r -> "none".equals(r.param("retention")) ? 0 : 1)
                .thenComparingInt(Result::threads)
                .thenComparingInt(Result::n)
                .thenComparing(r -> r.param("calls"));
        List<Result> turns = of(results, JDBC_TURN).stream().sorted(order).toList();

        md.append("Turn (`JdbcAgentTurnBenchmark`) against the plain-JDBC floor (`JdbcFloorBenchmark`) with the same"
                + " database, other rows, threads and N. `calls=addAndWindow` is the turn of `addAndWindow` (the user's"
                + " message and the window after it) and `add`; `calls=separate` is `add`, `contextWindow`, `add`. The"
                + " target applies to the append-only turn (retention `none`); the floor never deletes, so a"
                + " `max-messages` turn is shown without one.\n\n");
        Table turnTable = new Table(
                Column.text("database", true),
                Column.number("other rows", true),
                Column.text("retention", true),
                Column.number("threads", true),
                Column.number("N", false),
                Column.text("calls", false),
                Column.number("ours (µs/turn)", false),
                Column.number("floor (µs/turn)", false),
                Column.number("ratio floor/ours", false),
                Column.text("target ≥ " + ratio(TURN_TARGET), false));
        List<Check> turnChecks = new ArrayList<>();
        for (Result ours : turns) {
            Optional<Result> floor = find(
                    results,
                    JDBC_FLOOR,
                    ours.threads(),
                    ours.n(),
                    Map.of("database", ours.param("database"), "otherRows", ours.param("otherRows")));
            Optional<Double> r = floor.map(f -> f.micros() / ours.micros());
            String verdict;
            if (!"none".equals(ours.param("retention"))) {
                verdict = "no target";
            } else if (r.isEmpty()) {
                verdict = "floor not measured";
            } else {
                Check check = new Check(jdbcWhere(ours), r.get(), r.get() >= TURN_TARGET);
                turnChecks.add(check);
                verdict = passMiss(check);
            }
            turnTable.add(
                    ours.param("database"),
                    rows(ours.param("otherRows")),
                    ours.param("retention"),
                    String.valueOf(ours.threads()),
                    String.valueOf(ours.n()),
                    ours.param("calls"),
                    cost(ours),
                    floor.map(Report::cost).orElse("–"),
                    r.map(Report::ratio).orElse("–"),
                    verdict);
        }
        md.append(turnTable.render("No turn results in this run."));

        md.append("\nThe same turn with other sessions' rows in the tables (`otherRows`) against the empty tables;"
                + " the floor's own ratio shows what the database itself adds.\n\n");
        Table rowsTable = new Table(
                Column.text("database", true),
                Column.text("retention", true),
                Column.number("threads", true),
                Column.number("N", false),
                Column.text("calls", false),
                Column.number("other rows", true),
                Column.number("ours, empty (µs/turn)", false),
                Column.number("ours, other rows (µs/turn)", false),
                Column.number("ratio other rows/empty", false),
                Column.text("target ≤ " + ratio(OTHER_ROWS_TARGET), false),
                Column.number("floor's ratio (context)", false));
        List<Check> rowsChecks = new ArrayList<>();
        for (Result loaded : turns) {
            if ("0".equals(loaded.param("otherRows"))) {
                continue;
            }
            Map<String, String> empty = new LinkedHashMap<>(loaded.params());
            empty.put("otherRows", "0");
            Optional<Result> base = find(results, JDBC_TURN, loaded.threads(), loaded.n(), empty);
            if (base.isEmpty()) {
                continue;
            }
            double r = loaded.micros() / base.get().micros();
            Check check = new Check(jdbcWhere(loaded), r, r <= OTHER_ROWS_TARGET);
            rowsChecks.add(check);
            Map<String, String> floorAt = Map.of("database", loaded.param("database"));
            Optional<Result> floorEmpty =
                    find(results, JDBC_FLOOR, loaded.threads(), loaded.n(), withRows(floorAt, "0"));
            Optional<Result> floorLoaded = find(
                    results, JDBC_FLOOR, loaded.threads(), loaded.n(), withRows(floorAt, loaded.param("otherRows")));
            String floorRatio = floorEmpty.isPresent() && floorLoaded.isPresent()
                    ? ratio(floorLoaded.get().micros() / floorEmpty.get().micros())
                    : "–";
            rowsTable.add(
                    loaded.param("database"),
                    loaded.param("retention"),
                    String.valueOf(loaded.threads()),
                    String.valueOf(loaded.n()),
                    loaded.param("calls"),
                    rows(loaded.param("otherRows")),
                    cost(base.get()),
                    cost(loaded),
                    ratio(r),
                    passMiss(check),
                    floorRatio);
        }
        md.append(rowsTable.render("No turn measured both with and without other rows in this run."));

        md.append("\nAppend (`JdbcAppendBenchmark`): one `add` to a session held at N messages by"
                + " `Retention.maxMessages(N)`, one thread.\n\n");
        Table appendTable = new Table(
                Column.text("database", false),
                Column.number("N=20 (µs/append)", false),
                Column.number("N=2000 (µs/append)", false),
                Column.number("growth 2000/20", false),
                Column.text("target ≤ " + ratio(APPEND_GROWTH_TARGET), false));
        List<Check> appendChecks = new ArrayList<>();
        List<String> databases = of(results, JDBC_APPEND).stream()
                .map(r -> r.param("database"))
                .distinct()
                .sorted(Comparator.comparing(Report::databaseOrder))
                .toList();
        for (String database : databases) {
            Map<String, String> at = Map.of("database", database);
            appendRow(appendTable, appendChecks, database, results, JDBC_APPEND, at);
        }
        md.append(appendTable.render("No append results in this run."));

        md.append("\nTargets:\n\n");
        md.append(summary("turn throughput at least " + ratio(TURN_TARGET) + " the plain-JDBC floor's", turnChecks));
        md.append(summary(
                "turn cost with other sessions' rows at most " + ratio(OTHER_ROWS_TARGET) + " the empty table's",
                rowsChecks));
        md.append(summary(
                "append cost grows at most " + ratio(APPEND_GROWTH_TARGET) + " from N=20 to N=2000", appendChecks));
        return md.toString();
    }

    /** The Redis section: turn against the plain-Jedis floor with and without parsing, the append. */
    static String redisSection(List<Result> results, boolean smoke) {
        StringBuilder md = new StringBuilder(header(results, smoke, Suite.REDIS));
        List<Result> turns = of(results, REDIS_TURN).stream()
                .sorted(Comparator.comparingInt(Result::threads)
                        .thenComparingInt(Result::n)
                        .thenComparing(r -> r.param("calls")))
                .toList();
        md.append("Turn (`RedisAgentTurnBenchmark`) against the plain-Jedis floor (`RedisFloorBenchmark`) with the same"
                + " threads and N. `calls=addAndWindow` is the turn of `addAndWindow` (the user's message and the window"
                + " after it) and `add`; `calls=separate` is `add`, `contextWindow`, `add`. The floor of the target is"
                + " `codec=none, window=own` (raw bytes; the `LRANGE` a round trip of its own); `window=piped` (the"
                + " `LRANGE` in the user message's pipeline, two round trips a turn as ours with `addAndWindow`) and"
                + " `codec=json` (the floor plus writing and parsing the messages) are context.\n\n");
        Table turnTable = new Table(
                Column.number("threads", true),
                Column.number("N", false),
                Column.text("calls", false),
                Column.number("ours (µs/turn)", false),
                Column.number("floor, none (µs/turn)", false),
                Column.number("ratio none/ours", false),
                Column.text("target ≥ " + ratio(TURN_TARGET), false),
                Column.number("floor, none, piped (µs/turn)", false),
                Column.number("ratio piped/ours (context)", false),
                Column.number("floor, json (µs/turn)", false),
                Column.number("ratio json/ours (context)", false));
        List<Check> turnChecks = new ArrayList<>();
        for (Result ours : turns) {
            Optional<Result> none =
                    find(results, REDIS_FLOOR, ours.threads(), ours.n(), Map.of("codec", "none", "window", "own"));
            Optional<Result> piped =
                    find(results, REDIS_FLOOR, ours.threads(), ours.n(), Map.of("codec", "none", "window", "piped"));
            Optional<Result> json =
                    find(results, REDIS_FLOOR, ours.threads(), ours.n(), Map.of("codec", "json", "window", "own"));
            Optional<Double> r = none.map(f -> f.micros() / ours.micros());
            String verdict = "floor not measured";
            if (r.isPresent()) {
                Check check = new Check(
                        "N=" + ours.n() + ", " + threads(ours.threads()) + ", " + ours.param("calls"),
                        r.get(),
                        r.get() >= TURN_TARGET);
                turnChecks.add(check);
                verdict = passMiss(check);
            }
            turnTable.add(
                    String.valueOf(ours.threads()),
                    String.valueOf(ours.n()),
                    ours.param("calls"),
                    cost(ours),
                    none.map(Report::cost).orElse("–"),
                    r.map(Report::ratio).orElse("–"),
                    verdict,
                    piped.map(Report::cost).orElse("–"),
                    piped.map(f -> ratio(f.micros() / ours.micros())).orElse("–"),
                    json.map(Report::cost).orElse("–"),
                    json.map(f -> ratio(f.micros() / ours.micros())).orElse("–"));
        }
        md.append(turnTable.render("No turn results in this run."));

        md.append("\nAppend (`RedisAppendBenchmark`): one `add` to a session held at N messages by"
                + " `Retention.maxMessages(N)`, one thread.\n\n");
        Table appendTable = new Table(
                Column.text("backend", false),
                Column.number("N=20 (µs/append)", false),
                Column.number("N=2000 (µs/append)", false),
                Column.number("growth 2000/20", false),
                Column.text("target ≤ " + ratio(APPEND_GROWTH_TARGET), false));
        List<Check> appendChecks = new ArrayList<>();
        if (!of(results, REDIS_APPEND).isEmpty()) {
            appendRow(appendTable, appendChecks, "redis", results, REDIS_APPEND, Map.of());
        }
        md.append(appendTable.render("No append results in this run."));

        md.append("\nTargets:\n\n");
        md.append(summary(
                "turn throughput at least " + ratio(TURN_TARGET) + " the plain-Jedis floor's (codec=none)",
                turnChecks));
        md.append(summary(
                "append cost grows at most " + ratio(APPEND_GROWTH_TARGET) + " from N=20 to N=2000", appendChecks));
        return md.toString();
    }

    /** Adds the append row of {@code label} (one thread, N=20 and N=2000) and its check, if both were measured. */
    private static void appendRow(
            Table table,
            List<Check> checks,
            String label,
            List<Result> results,
            String benchmark,
            Map<String, String> params) {
        Optional<Result> small = find(results, benchmark, 1, 20, params);
        Optional<Result> large = find(results, benchmark, 1, 2000, params);
        String growth = "–";
        String verdict = "not measured";
        if (small.isPresent() && large.isPresent()) {
            double g = large.get().micros() / small.get().micros();
            Check check = new Check(label, g, g <= APPEND_GROWTH_TARGET);
            checks.add(check);
            growth = ratio(g);
            verdict = passMiss(check);
        }
        table.add(
                label,
                small.map(Report::cost).orElse("–"),
                large.map(Report::cost).orElse("–"),
                growth,
                verdict);
    }

    /** One line of a section's target list: met everywhere, or where it was missed. */
    private static String summary(String target, List<Check> checks) {
        String verdict;
        if (checks.isEmpty()) {
            verdict = "not measured";
        } else {
            List<Check> missed = checks.stream().filter(c -> !c.met()).toList();
            verdict = missed.isEmpty()
                    ? "**met** in "
                            + (checks.size() == 1 ? "the one measured row" : "all " + checks.size() + " measured rows")
                    : "**missed** in " + missed.size() + " of " + checks.size() + " measured rows: "
                            + missed.stream()
                                    .map(c -> c.where() + " " + ratio(c.ratio()))
                                    .collect(Collectors.joining("; "));
        }
        return "- " + target + ": " + verdict + "\n";
    }

    private static String passMiss(Check check) {
        return check.met() ? "pass" : "**miss**";
    }

    private static String jdbcWhere(Result r) {
        String calls = r.param("calls");
        return r.param("database") + ", " + rows(r.param("otherRows")) + " other rows, N=" + r.n() + ", "
                + threads(r.threads()) + (calls.isEmpty() ? "" : ", " + calls);
    }

    private static String threads(int threads) {
        return threads + (threads == 1 ? " thread" : " threads");
    }

    private static Map<String, String> withRows(Map<String, String> params, String otherRows) {
        Map<String, String> m = new LinkedHashMap<>(params);
        m.put("otherRows", otherRows);
        return m;
    }

    /** A row count with thousands separators. */
    private static String rows(String count) {
        return count.isEmpty() ? "–" : String.format(Locale.ROOT, "%,d", Long.parseLong(count));
    }

    private static int databaseOrder(String database) {
        return switch (database) {
            case "postgresql" -> 0;
            case "h2" -> 1;
            default -> 2;
        };
    }

    private static int counterOrder(String counter) {
        return "heuristic".equals(counter) ? 0 : 1;
    }

    private static List<Result> of(List<Result> results, String benchmark) {
        return results.stream().filter(r -> r.benchmark().equals(benchmark)).toList();
    }

    private static Optional<Result> find(List<Result> results, String benchmark, int threads, int n) {
        return find(results, benchmark, threads, n, Map.of());
    }

    private static Optional<Result> find(
            List<Result> results, String benchmark, int threads, int n, Map<String, String> params) {
        return results.stream()
                .filter(r -> r.benchmark().equals(benchmark) && r.threads() == threads && r.n() == n && r.has(params))
                .findFirst();
    }

    private static String cost(Result r) {
        return number(r.micros(), r.errorMicros());
    }

    private static String number(double value, double error) {
        String v = significant(value);
        return Double.isFinite(error) ? v + " ± " + significant(error) : v;
    }

    private static String significant(double v) {
        double a = Math.abs(v);
        String format = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, format, v);
    }

    private static String ratio(double r) {
        return String.format(Locale.ROOT, r >= 0.1 ? "%.2fx" : "%.3fx", r);
    }

    /** A column of a Markdown table; a collapsible one whose rows all hold one value is stated above the table. */
    private record Column(String header, boolean right, boolean collapsible) {
        static Column text(String header, boolean collapsible) {
            return new Column(header, false, collapsible);
        }

        static Column number(String header, boolean collapsible) {
            return new Column(header, true, collapsible);
        }
    }

    /** A Markdown table. */
    private static final class Table {
        private final List<Column> columns;
        private final List<List<String>> rows = new ArrayList<>();

        Table(Column... columns) {
            this.columns = List.of(columns);
        }

        void add(String... cells) {
            if (cells.length != columns.size()) {
                throw new IllegalArgumentException(
                        "a row of " + cells.length + " cells in a table of " + columns.size() + " columns");
            }
            rows.add(List.of(cells));
        }

        /** The table, or {@code empty} if it has no rows. */
        String render(String empty) {
            if (rows.isEmpty()) {
                return empty + "\n";
            }
            List<Integer> kept = new ArrayList<>();
            List<String> common = new ArrayList<>();
            for (int i = 0; i < columns.size(); i++) {
                int column = i;
                Set<String> values = rows.stream().map(row -> row.get(column)).collect(Collectors.toSet());
                if (columns.get(i).collapsible() && values.size() == 1) {
                    common.add(columns.get(i).header() + " " + values.iterator().next());
                } else {
                    kept.add(i);
                }
            }
            StringBuilder md = new StringBuilder();
            if (!common.isEmpty()) {
                md.append("All rows: ").append(String.join(", ", common)).append(".\n\n");
            }
            md.append(line(kept.stream().map(i -> columns.get(i).header()).toList()));
            md.append(line(kept.stream()
                    .map(i -> columns.get(i).right() ? "---:" : "---")
                    .toList()));
            for (List<String> row : rows) {
                md.append(line(kept.stream().map(row::get).toList()));
            }
            return md.toString();
        }

        private static String line(List<String> cells) {
            return "| " + String.join(" | ", cells) + " |\n";
        }
    }

    // ---- the chart ----

    static List<Series> series(List<Result> results) {
        Color[] oursColors = {new Color(0x1f77b4), new Color(0xd62728)};
        Color[] cl100kColors = {new Color(0x2ca02c), new Color(0x9467bd)};
        List<Series> all = new ArrayList<>();
        TreeSet<Integer> threadCounts = new TreeSet<>();
        results.stream()
                .filter(r -> r.benchmark().equals(TURN) || r.benchmark().equals(FLOOR))
                .forEach(r -> threadCounts.add(r.threads()));
        int i = 0;
        for (int threads : threadCounts) {
            String t = threads + (threads == 1 ? " thread" : " threads");
            all.add(line(results, TURN, threads, "heuristic", "in-memory, " + t, oursColors[i % 2], false));
            all.add(line(results, TURN, threads, "cl100k", "in-memory, cl100k, " + t, cl100kColors[i % 2], false));
            all.add(line(results, FLOOR, threads, null, "ArrayDeque floor, " + t, oursColors[i % 2], true));
            i++;
        }
        all.removeIf(s -> s.points().isEmpty());
        return all;
    }

    private static Series line(
            List<Result> results, String benchmark, int threads, String counter, String label, Color color, boolean d) {
        List<double[]> points = results.stream()
                .filter(r -> r.benchmark().equals(benchmark)
                        && r.threads() == threads
                        && (counter == null || counter.equals(r.param("counter"))))
                .sorted(Comparator.comparingInt(Result::n))
                .map(r -> new double[] {r.n(), r.micros()})
                .toList();
        return new Series(label, color, d, points);
    }

    static void chart(List<Result> results, boolean smoke, String settings, Path png) throws IOException {
        List<Series> series = series(results);
        if (series.isEmpty()) {
            throw new IllegalArgumentException("no turn results to draw");
        }
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            draw(g, series, smoke, settings);
        } finally {
            g.dispose();
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!ImageIO.write(image, "png", png.toFile())) {
            throw new IOException("no PNG writer");
        }
    }

    private static void draw(Graphics2D g, List<Series> series, boolean smoke, String settings) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);

        Font title = new Font(Font.SANS_SERIF, Font.BOLD, 17);
        Font body = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        Font small = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

        int left = 78;
        int right = WIDTH - 250;
        int top = 70;
        int bottom = HEIGHT - 64;

        // Ranges, in log10.
        TreeSet<Double> xs = new TreeSet<>();
        double minY = Double.MAX_VALUE;
        double maxY = 0;
        for (Series s : series) {
            for (double[] p : s.points()) {
                xs.add(p[0]);
                if (p[1] > 0) {
                    minY = Math.min(minY, p[1]);
                    maxY = Math.max(maxY, p[1]);
                }
            }
        }
        double x0 = Math.log10(xs.first()) - 0.25;
        double x1 = Math.log10(xs.last()) + 0.25;
        double y0 = Math.floor(Math.log10(minY));
        double y1 = Math.ceil(Math.log10(maxY));
        if (y1 - y0 < 1) {
            y1 = y0 + 1;
        }
        Axis ax = new Axis(left, right, top, bottom, x0, x1, y0, y1);

        // Title and subtitle.
        g.setColor(Color.BLACK);
        g.setFont(title);
        g.drawString("Cost of one agent turn against history length N", left, 28);
        g.setFont(small);
        g.setColor(new Color(0x444444));
        g.drawString("add user message + read whole context window (N messages) + add assistant message", left, 46);
        g.drawString(settings, left, 60);
        if (smoke) {
            g.setFont(title);
            g.setColor(new Color(0xcc0000));
            String label = "SMOKE RUN - NOT RESULTS";
            g.drawString(label, WIDTH - 14 - g.getFontMetrics().stringWidth(label), 28);
        }

        // Grid and tick labels.
        g.setFont(body);
        FontMetrics fm = g.getFontMetrics();
        Stroke thin = new BasicStroke(1f);
        for (int decade = (int) y0; decade <= (int) y1; decade++) {
            for (int m : new int[] {1, 2, 5}) {
                double v = m * Math.pow(10, decade);
                double lv = Math.log10(v);
                if (lv < y0 - 1e-9 || lv > y1 + 1e-9) {
                    continue;
                }
                int y = ax.y(lv);
                g.setStroke(thin);
                g.setColor(m == 1 ? new Color(0xcccccc) : new Color(0xececec));
                g.drawLine(left, y, right, y);
                g.setColor(m == 1 ? Color.BLACK : new Color(0x666666));
                String label = tick(v);
                g.drawString(label, left - 8 - fm.stringWidth(label), y + fm.getAscent() / 2 - 1);
            }
        }
        for (double x : xs) {
            int px = ax.x(Math.log10(x));
            g.setColor(new Color(0xdddddd));
            g.drawLine(px, top, px, bottom);
            g.setColor(Color.BLACK);
            String label = String.format(Locale.ROOT, "%,d", (long) x);
            g.drawString(label, px - fm.stringWidth(label) / 2, bottom + fm.getAscent() + 6);
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1.3f));
        g.drawRect(left, top, right - left, bottom - top);

        // Axis titles.
        String xTitle = "N: messages the session holds (log scale)";
        g.drawString(xTitle, (left + right - fm.stringWidth(xTitle)) / 2, HEIGHT - 18);
        String yTitle = "µs per turn, per thread (log scale)";
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        g.drawString(yTitle, -(top + bottom + fm.stringWidth(yTitle)) / 2, 20);
        g.setTransform(saved);

        // Lines.
        for (Series s : series) {
            g.setColor(s.color());
            g.setStroke(stroke(s.dashed()));
            Path2D.Double path = new Path2D.Double();
            boolean first = true;
            for (double[] p : s.points()) {
                double px = ax.x(Math.log10(p[0]));
                double py = ax.y(Math.log10(p[1]));
                if (first) {
                    path.moveTo(px, py);
                    first = false;
                } else {
                    path.lineTo(px, py);
                }
            }
            g.draw(path);
            for (double[] p : s.points()) {
                marker(g, s, ax.x(Math.log10(p[0])), ax.y(Math.log10(p[1])));
            }
        }

        // Legend.
        int lx = right + 18;
        int ly = top + 8;
        g.setFont(body);
        g.setColor(Color.BLACK);
        g.drawString("solid: in-memory backend", lx, ly + fm.getAscent());
        ly += 18;
        g.drawString("dashed: ArrayDeque floor", lx, ly + fm.getAscent());
        ly += 28;
        for (Series s : series) {
            int cy = ly + 8;
            g.setColor(s.color());
            g.setStroke(stroke(s.dashed()));
            g.drawLine(lx, cy, lx + 34, cy);
            marker(g, s, lx + 17, cy);
            g.setColor(Color.BLACK);
            g.drawString(s.label(), lx + 42, cy + fm.getAscent() / 2 - 1);
            ly += 24;
        }
    }

    private static Stroke stroke(boolean dashed) {
        return dashed
                ? new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {9f, 6f}, 0f)
                : new BasicStroke(2.4f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    }

    private static void marker(Graphics2D g, Series s, double x, double y) {
        double r = 4.5;
        Ellipse2D.Double dot = new Ellipse2D.Double(x - r, y - r, 2 * r, 2 * r);
        g.setStroke(new BasicStroke(1.8f));
        if (s.dashed()) {
            g.setColor(Color.WHITE);
            g.fill(dot);
            g.setColor(s.color());
            g.draw(dot);
        } else {
            g.setColor(s.color());
            g.fill(dot);
        }
    }

    private static String tick(double v) {
        if (v >= 1000) {
            return String.format(Locale.ROOT, "%,d", Math.round(v));
        }
        if (v >= 1) {
            return String.format(Locale.ROOT, "%d", Math.round(v));
        }
        return String.format(Locale.ROOT, "%s", (float) v);
    }

    /** Maps log10 values to pixels. */
    private record Axis(int left, int right, int top, int bottom, double x0, double x1, double y0, double y1) {
        int x(double lx) {
            return (int) Math.round(left + (lx - x0) / (x1 - x0) * (right - left));
        }

        int y(double ly) {
            return (int) Math.round(bottom - (ly - y0) / (y1 - y0) * (bottom - top));
        }
    }
}
