package io.agentmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RetentionTest {
    private static ConfigurationException invalid(Executable build) {
        ConfigurationException e = catchThrowableOfType(ConfigurationException.class, build::execute);
        assertThat(e).as("a ConfigurationException").isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.CONFIGURATION);
        assertThat(e.getMessage()).startsWith("retention: ");
        return e;
    }

    @Test
    void noneKeepsEverything() {
        Retention none = Retention.none();
        assertThat(none.isNone()).isTrue();
        assertThat(none.maxMessages()).isEmpty();
        assertThat(none.maxTokens()).isEmpty();
        assertThat(none.maxAge()).isEmpty();
        assertThat(none.overflow()).isEmpty();
        assertThat(Retention.builder().build()).isEqualTo(none).hasSameHashCodeAs(none);
    }

    @Test
    void limits() {
        assertThat(Retention.maxMessages(1).maxMessages()).hasValue(1);
        assertThat(Retention.maxTokens(1).maxTokens()).hasValue(1);
        assertThat(Retention.maxTokens(Long.MAX_VALUE).maxTokens()).hasValue(Long.MAX_VALUE);
        assertThat(Retention.maxAge(Duration.ofNanos(1)).maxAge()).contains(Duration.ofNanos(1));
        Retention all = Retention.builder()
                .maxMessages(10)
                .maxTokens(1000)
                .maxAge(Duration.ofHours(1))
                .overflow(20, 0.5)
                .build();
        assertThat(all.isNone()).isFalse();
        assertThat(all.overflow()).contains(new Retention.Overflow(20, 0.5));
        assertThat(all)
                .isEqualTo(Retention.builder()
                        .overflow(20, 0.5)
                        .maxAge(Duration.ofMinutes(60))
                        .maxTokens(1000)
                        .maxMessages(10)
                        .build());
        assertThat(all).isNotEqualTo(Retention.maxMessages(10));
        assertThat(Retention.builder().overflow(5, 0).build().isNone()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void maxMessagesMustBePositive(int n) {
        assertThat(invalid(() -> Retention.maxMessages(n)).getMessage()).contains("maxMessages is " + n);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void maxTokensMustBePositive(long n) {
        assertThat(invalid(() -> Retention.maxTokens(n)).getMessage()).contains("maxTokens is " + n);
    }

    @Test
    void maxAgeMustBePositive() {
        invalid(() -> Retention.maxAge(Duration.ZERO));
        assertThat(invalid(() -> Retention.maxAge(Duration.ofSeconds(-1))).getMessage())
                .contains("maxAge");
    }

    @ParameterizedTest
    @ValueSource(longs = {36_524_251L * 86_400, 1_000_000_000L * 366 * 86_400, Long.MAX_VALUE})
    void maxAgeIsAtMostAHundredThousandYears(long seconds) {
        // Beyond, "now minus maxAge" may leave the range of Instant, and every write and read would fail.
        assertThat(invalid(() -> Retention.maxAge(Duration.ofSeconds(seconds))).getMessage())
                .contains("maxAge")
                .contains("100,000 years");
        invalid(() -> Retention.builder()
                .maxAge(Duration.ofSeconds(seconds, 999_999_999))
                .build());
    }

    @Test
    void theLongestMaxAgeIsAccepted() {
        assertThat(Retention.maxAge(Duration.ofDays(36_524_250)).maxAge()).contains(Duration.ofDays(36_524_250));
    }

    @ParameterizedTest
    @CsvSource({"0,0.5", "-1,0.5", "10,-0.1", "10,1.0", "10,1.5", "10,NaN", "10,Infinity", "10,-Infinity"})
    void overflowIsValidated(int maxSize, double keepFraction) {
        assertThat(invalid(() -> new Retention.Overflow(maxSize, keepFraction)).getMessage())
                .contains("overflow");
        invalid(() -> Retention.builder().overflow(maxSize, keepFraction));
    }

    @ParameterizedTest
    @CsvSource({
        "10, 0.5, 5",
        "10, 0.0, 0",
        "1, 0.999, 0",
        "3, 0.99, 2",
        "7, 0.5, 3",
        "100, 0.29, 29",
        "100, 0.57, 57",
        "1000, 0.999, 999",
        "2147483647, 0.5, 1073741823",
        "2147483647, 0.9999999999, 2147483646"
    })
    void overflowKeepsTheFloorOfTheFraction(int maxSize, double keepFraction, int keep) {
        assertThat(new Retention.Overflow(maxSize, keepFraction).keep()).isEqualTo(keep);
    }

    @Test
    void toStringNamesEverySetting() {
        assertThat(Retention.maxMessages(3).toString()).contains("maxMessages=3");
    }
}
