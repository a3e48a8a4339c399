package io.agentmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class HistoryQueryTest {
    private static final Instant T0 = Instant.parse("2024-01-01T00:00:00Z");

    private static InvalidInputException invalidQuery(Executable build) {
        InvalidInputException e = catchThrowableOfType(InvalidInputException.class, build::execute);
        assertThat(e).as("an InvalidInputException").isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_QUERY);
        return e;
    }

    private static Message at(Instant ts) {
        return Message.builder("user", "x").timestamp(ts).build();
    }

    @Nested
    class Validation {
        @Test
        void defaults() {
            HistoryQuery all = HistoryQuery.all();
            assertThat(all.limit()).isEmpty();
            assertThat(all.offset()).isZero();
            assertThat(all.roles()).isEmpty();
            assertThat(all.metadata()).isEmpty();
            assertThat(all.from()).isEmpty();
            assertThat(all.to()).isEmpty();
            assertThat(all.hasFilters()).isFalse();
            assertThat(HistoryQuery.builder().build()).isEqualTo(all).hasSameHashCodeAs(all);
            assertThat(HistoryQuery.newest(5).limit()).hasValue(5);
            assertThat(HistoryQuery.newest(0).limit()).hasValue(0);
        }

        @Test
        void negativeLimitOrOffset() {
            assertThat(invalidQuery(() -> HistoryQuery.newest(-1)).getMessage()).contains("limit is -1");
            assertThat(invalidQuery(() -> HistoryQuery.builder().offset(-2).build())
                            .getMessage())
                    .contains("offset is -2");
        }

        @Test
        void invalidRoles() {
            invalidQuery(() -> HistoryQuery.builder().roles("").build());
            invalidQuery(() -> HistoryQuery.builder().roles(" user").build());
            invalidQuery(() -> HistoryQuery.builder().roles("us\u0000er").build());
            invalidQuery(() -> HistoryQuery.builder().roles("r".repeat(65)).build());
            assertThat(invalidQuery(() -> HistoryQuery.builder()
                                    .roles(Arrays.asList("user", null))
                                    .build())
                            .getMessage())
                    .contains("role");
        }

        @Test
        void rolesAreSortedAndImmutable() {
            HistoryQuery q = HistoryQuery.builder()
                    .roles("user", "assistant")
                    .roles(List.of("user"))
                    .build();
            assertThat(q.roles()).containsExactly("assistant", "user");
            assertThatThrownBy(() -> q.roles().add("x")).isInstanceOf(UnsupportedOperationException.class);
            assertThat(q.hasFilters()).isTrue();
        }

        @Test
        void invalidMetadataFilters() {
            invalidQuery(() -> HistoryQuery.builder().metadata("k", Double.NaN).build());
            invalidQuery(() -> HistoryQuery.builder().metadata("k", null).build());
            invalidQuery(
                    () -> HistoryQuery.builder().metadata("k", new Object()).build());
            invalidQuery(() -> HistoryQuery.builder().metadata(null, 1).build());
            HistoryQuery q = HistoryQuery.builder().metadata(Map.of("k", 1)).build();
            assertThat(q.metadata()).isEqualTo(Map.of("k", 1L));
            assertThatThrownBy(() -> q.metadata().put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        }

        @Test
        void timeRangeMustNotBeReversed() {
            invalidQuery(
                    () -> HistoryQuery.builder().between(T0.plusNanos(1), T0).build());
            HistoryQuery point = HistoryQuery.builder().between(T0, T0).build();
            assertThat(point.from()).contains(T0);
            assertThat(point.to()).contains(T0);
            assertThat(HistoryQuery.builder().between(null, T0).build().from()).isEmpty();
            assertThat(HistoryQuery.builder().from(T0).build().hasFilters()).isTrue();
        }

        @Test
        void toStringShowsMetadataKeysButNotValues() {
            HistoryQuery q =
                    HistoryQuery.builder().metadata("topic", "SECRET-4711").build();
            assertThat(q.toString()).contains("topic").doesNotContain("SECRET");
        }
    }

    @Nested
    class Matches {
        @Test
        void roles() {
            HistoryQuery q = HistoryQuery.builder().roles("user", "tool").build();
            assertThat(q.matches(Message.user("x"))).isTrue();
            assertThat(q.matches(Message.tool("c", "x"))).isTrue();
            assertThat(q.matches(Message.assistant("x"))).isFalse();
            assertThat(HistoryQuery.all().matches(Message.system("x"))).isTrue();
        }

        @Test
        void timeBoundsAreInclusive() {
            HistoryQuery q =
                    HistoryQuery.builder().between(T0, T0.plusSeconds(10)).build();
            assertThat(q.matches(at(T0))).isTrue();
            assertThat(q.matches(at(T0.plusSeconds(10)))).isTrue();
            assertThat(q.matches(at(T0.plusSeconds(5)))).isTrue();
            // Timestamps are kept to the microsecond: one microsecond outside either bound is out.
            assertThat(q.matches(at(T0.minusNanos(1000)))).isFalse();
            assertThat(q.matches(at(T0.plusSeconds(10).plusNanos(1000)))).isFalse();
            assertThat(HistoryQuery.builder().from(T0).build().matches(at(Instant.parse("9999-12-31T23:59:59Z"))))
                    .isTrue();
            assertThat(HistoryQuery.builder().to(T0).build().matches(at(Instant.parse("0001-01-01T00:00:00Z"))))
                    .isTrue();
        }

        @Test
        void metadataComparesAsJsonNumbers() {
            Message one = Message.builder("user", "x").metadata("n", 1).build();
            assertThat(HistoryQuery.builder().metadata("n", 1.0).build().matches(one))
                    .isTrue();
            assertThat(HistoryQuery.builder().metadata("n", 1L).build().matches(one))
                    .isTrue();
            assertThat(HistoryQuery.builder()
                            .metadata("n", BigInteger.ONE)
                            .build()
                            .matches(one))
                    .isTrue();
            assertThat(HistoryQuery.builder().metadata("n", 1.5).build().matches(one))
                    .isFalse();
            assertThat(HistoryQuery.builder().metadata("n", "1").build().matches(one))
                    .isFalse();

            Message big = Message.builder("user", "x").metadata("n", 1e20).build();
            assertThat(HistoryQuery.builder()
                            .metadata("n", BigInteger.TEN.pow(20))
                            .build()
                            .matches(big))
                    .isTrue();
            Message point1 = Message.builder("user", "x").metadata("n", 0.1f).build();
            assertThat(HistoryQuery.builder().metadata("n", 0.1).build().matches(point1))
                    .isTrue();
        }

        @Test
        void metadataComparesNestedValuesAsJson() {
            Message m = Message.builder("user", "x")
                    .metadata("obj", Map.of("a", 1, "b", List.of(2, 3.5)))
                    .metadata("flag", true)
                    .build();
            assertThat(HistoryQuery.builder()
                            .metadata("obj", Map.of("a", 1.0, "b", List.of(2.0, 3.5)))
                            .build()
                            .matches(m))
                    .isTrue();
            assertThat(HistoryQuery.builder()
                            .metadata("obj", Map.of("a", 1))
                            .build()
                            .matches(m))
                    .isFalse();
            assertThat(HistoryQuery.builder()
                            .metadata("obj", Map.of("a", 1, "b", List.of(3.5, 2)))
                            .build()
                            .matches(m))
                    .isFalse();
            assertThat(HistoryQuery.builder().metadata("flag", true).build().matches(m))
                    .isTrue();
            assertThat(HistoryQuery.builder().metadata("flag", "true").build().matches(m))
                    .isFalse();
        }

        @Test
        void everyMetadataEntryMustMatchAndMissingKeysNeverMatch() {
            Message m = Message.builder("user", "x").metadata("a", "1").build();
            HistoryQuery both =
                    HistoryQuery.builder().metadata("a", "1").metadata("b", "2").build();
            assertThat(both.matches(m)).isFalse();
            assertThat(both.matches(m.toBuilder().metadata("b", "2").build())).isTrue();
            assertThat(HistoryQuery.builder().metadata("missing", false).build().matches(m))
                    .isFalse();
        }

        @Test
        void limitAndOffsetDoNotAffectMatching() {
            HistoryQuery q = HistoryQuery.builder().limit(0).offset(100).build();
            assertThat(q.matches(Message.user("x"))).isTrue();
            assertThat(q.hasFilters()).isFalse();
        }
    }
}
