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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import javax.imageio.ImageIO;

/**
 * Turns a JMH JSON result file into the results section of {@code benchmarks/README.md} (between
 * {@value #START} and {@value #END}) and the chart {@code benchmarks/turn-cost.png}.
 *
 * <p>Usage: {@code java -Djava.awt.headless=true -cp benchmarks.jar io.agentmemory.benchmarks.Report
 * [results.json [README.md [chart.png]]]}; the defaults are the paths under {@code benchmarks/} from the repository
 * root.
 *
 * <p>Every benchmark here runs in JMH's average-time mode, so a cost is JMH's {@code primaryMetric.score}: the mean
 * time of one operation of one thread over all measurement iterations of all forks; the {@code ±} is JMH's
 * {@code scoreError} (99.9% confidence interval half-width), shown when JMH could compute one. A run with fewer than
 * {@value #MIN_SAMPLES} measurement iterations in total (forks × iterations) is labelled a smoke run, in the table
 * and in the chart.
 */
public final class Report {
    static final String START = "<!-- results:start -->";
    static final String END = "<!-- results:end -->";
    static final int MIN_SAMPLES = 3;

    private static final String TURN = "AgentTurnBenchmark";
    private static final String FLOOR = "FloorBenchmark";
    private static final String APPEND = "InMemoryAppendBenchmark";

    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;

    private Report() {}

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
    }

    /** A line of the chart. */
    record Series(String label, Color color, boolean dashed, List<double[]> points) {}

    public static void main(String[] args) throws IOException {
        Path json = Path.of(args.length > 0 ? args[0] : "benchmarks/results/jmh-result.json");
        Path readme = Path.of(args.length > 1 ? args[1] : "benchmarks/README.md");
        Path png = Path.of(args.length > 2 ? args[2] : "benchmarks/turn-cost.png");

        List<Result> results = read(json);
        if (results.isEmpty()) {
            throw new IllegalArgumentException(json + " holds no JMH result");
        }
        boolean smoke = isSmoke(results);
        String section = section(results, smoke);
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        Files.writeString(readme, replaceSection(text, section), StandardCharsets.UTF_8);
        chart(results, smoke, settings(results), png);
        System.out.println("Wrote the results table to " + readme + " and the chart to " + png
                + (smoke ? " (SMOKE RUN: not results)" : ""));
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

    static String replaceSection(String text, String section) {
        int start = text.indexOf(START);
        int end = text.indexOf(END);
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("the README has no " + START + " ... " + END + " section");
        }
        return text.substring(0, start + START.length()) + "\n" + section + text.substring(end);
    }

    static String section(List<Result> results, boolean smoke) {
        StringBuilder md = new StringBuilder();
        if (smoke) {
            md.append("**SMOKE RUN: these numbers only show that the pipeline works. They are not results;"
                    + " run `benchmarks/run.sh` with the default settings.**\n\n");
        }
        md.append(String.format(
                Locale.ROOT,
                "Measured %s with %s; %d cores available to the report. Cost is JMH's average-time score"
                        + " (mean per operation of one thread); ± is JMH's 99.9%% error where it has one.\n\n",
                LocalDate.now(ZoneOffset.UTC),
                settings(results),
                Runtime.getRuntime().availableProcessors()));

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

    private static int counterOrder(String counter) {
        return "heuristic".equals(counter) ? 0 : 1;
    }

    private static List<Result> of(List<Result> results, String benchmark) {
        return results.stream().filter(r -> r.benchmark().equals(benchmark)).toList();
    }

    private static Optional<Result> find(List<Result> results, String benchmark, int threads, int n) {
        return results.stream()
                .filter(r -> r.benchmark().equals(benchmark) && r.threads() == threads && r.n() == n)
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
