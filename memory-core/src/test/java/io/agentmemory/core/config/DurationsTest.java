package io.agentmemory.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.ConfigurationException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DurationsTest {
    private static final String KEY = "memory.some.timeout";

    @Test
    void readsEveryUnitAndIso8601() {
        assertThat(Durations.parse(KEY, "500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse(KEY, "45s")).isEqualTo(Duration.ofSeconds(45));
        assertThat(Durations.parse(KEY, "30m")).isEqualTo(Duration.ofMinutes(30));
        assertThat(Durations.parse(KEY, "24h")).isEqualTo(Duration.ofHours(24));
        assertThat(Durations.parse(KEY, "7d")).isEqualTo(Duration.ofDays(7));
        assertThat(Durations.parse(KEY, " 7 D ")).isEqualTo(Duration.ofDays(7));
        assertThat(Durations.parse(KEY, "PT24H")).isEqualTo(Duration.ofHours(24));
        assertThat(Durations.parse(KEY, "pt1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse(KEY, "-PT1S")).isEqualTo(Duration.ofSeconds(-1));
    }

    @Test
    void valuesTooLargeForADurationAreConfigurationErrorsNamingTheKey() {
        for (String value : List.of(
                "99999999999999999999ms", // not a long
                "9999999999999999999d", // not a long either
                "200000000000000d", // a long, but its seconds are not
                "PT9999999999999999H", // the same in ISO-8601
                "P99999999999999999D")) {
            assertThatThrownBy(() -> Durations.parse(KEY, value))
                    .as(value)
                    .isExactlyInstanceOf(ConfigurationException.class)
                    .hasMessage(KEY + " is too large: '" + value + "'");
        }
    }

    @Test
    void otherTextIsAConfigurationErrorNamingTheKeyAndTheForms() {
        for (String value : List.of("soon", "", "5 seconds", "1.5h", "5w", "PT")) {
            assertThatThrownBy(() -> Durations.parse(KEY, value))
                    .as(value)
                    .isExactlyInstanceOf(ConfigurationException.class)
                    .hasMessageContaining(KEY + " must be a duration such as")
                    .hasMessageContaining("PT24H");
        }
    }
}
