package io.agentmemory.core.config;

import io.agentmemory.ConfigurationException;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Settings under {@code memory.}, checked against the keys the selected backend and decorators accept. Secret values
 * never appear in {@link #toString()} or in error messages. Immutable and thread-safe.
 */
final class Settings {
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

    private final Map<String, String> values;
    private final Set<String> secrets;

    Settings(Map<String, String> values, Set<String> secrets) {
        this.values = new TreeMap<>(values);
        this.secrets = Set.copyOf(secrets);
    }

    /** The environment variable that overrides {@code key}: {@code memory.jdbc.max-pool} is MEMORY_JDBC_MAX_POOL. */
    static String environmentName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /**
     * Fails on the first key that is not in {@code known}, suggesting the closest known key.
     *
     * @param why explains in the error what makes a key known
     */
    static void checkKnown(Collection<String> keys, Set<String> known, String why) {
        for (String key : new java.util.TreeSet<>(keys)) {
            if (!known.contains(key)) {
                String suggestion = closest(key, known)
                        .map(k -> "; did you mean '" + k + "'?")
                        .orElse("");
                throw new ConfigurationException("unknown setting '" + key + "'" + suggestion + " (" + why + ")");
            }
        }
    }

    static Optional<String> closest(String key, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(key, c);
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        int allowed = Math.max(2, key.length() / 4);
        return bestDistance <= allowed ? Optional.of(best) : Optional.empty();
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    Optional<String> get(String key) {
        return Optional.ofNullable(values.get(key)).map(String::strip).filter(v -> !v.isEmpty());
    }

    Optional<Integer> integer(String key, int min) {
        return get(key).map(v -> {
            try {
                int n = Integer.parseInt(v);
                if (n < min) {
                    throw new ConfigurationException(key + " is " + n + "; it must be >= " + min);
                }
                return n;
            } catch (NumberFormatException e) {
                throw new ConfigurationException(key + " must be a whole number" + shown(key, v));
            }
        });
    }

    Optional<Long> longValue(String key, long min) {
        return get(key).map(v -> {
            try {
                long n = Long.parseLong(v);
                if (n < min) {
                    throw new ConfigurationException(key + " is " + n + "; it must be >= " + min);
                }
                return n;
            } catch (NumberFormatException e) {
                throw new ConfigurationException(key + " must be a whole number" + shown(key, v));
            }
        });
    }

    Optional<Double> decimal(String key) {
        return get(key).map(v -> {
            // A decimal number as written in a configuration: not Java's literals (0.8f, 0x1.8p-1), NaN or Infinity.
            if (!DECIMAL.matcher(v).matches()) {
                throw new ConfigurationException(key + " must be a decimal number such as 0.5" + shown(key, v));
            }
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new ConfigurationException(key + " must be a number" + shown(key, v));
            }
        });
    }

    /** A duration as {@link Durations#parse} reads it. */
    Optional<Duration> duration(String key) {
        return get(key).map(v -> Durations.parse(key, v));
    }

    /** The settings under {@code prefix}, without it. */
    Map<String, String> under(String prefix) {
        Map<String, String> out = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    private String shown(String key, String value) {
        return secrets.contains(key) ? "" : ", not '" + value + "'";
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        values.forEach((k, v) -> {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(k).append('=').append(secrets.contains(k) ? "****" : v);
        });
        return sb.append('}').toString();
    }
}
