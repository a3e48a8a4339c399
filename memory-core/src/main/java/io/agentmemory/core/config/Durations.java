package io.agentmemory.core.config;

import io.agentmemory.ConfigurationException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one way settings of every module read a duration. */
public final class Durations {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private Durations() {}

    /**
     * {@code value} of the setting {@code key} (its full name, for the error), written as a whole number with a unit
     * ({@code 500ms}, {@code 45s}, {@code 30m}, {@code 24h}, {@code 7d}) or in ISO-8601 ({@code PT24H}).
     *
     * @throws ConfigurationException naming {@code key} if {@code value} is neither, or too large for a
     *     {@link Duration}
     */
    public static Duration parse(String key, String value) {
        String v = value.strip();
        Matcher m = SIMPLE.matcher(v.toLowerCase(Locale.ROOT));
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            return Duration.parse(v);
        } catch (NumberFormatException | ArithmeticException | DateTimeParseException e) {
            // Duration.parse reports an overflow as a parse failure caused by the ArithmeticException.
            boolean tooLarge = !(e instanceof DateTimeParseException) || e.getCause() instanceof ArithmeticException;
            throw new ConfigurationException(
                    tooLarge
                            ? key + " is too large: '" + value + "'"
                            : key + " must be a duration such as 500ms, 30m, 24h, 7d or PT24H, not '" + value + "'");
        }
    }
}
