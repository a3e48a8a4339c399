package io.agentmemory.core.json;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Message;
import io.agentmemory.TokenCount;
import java.time.Instant;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * The fast reader against the strict one: for every text it returns {@code null} or exactly what the strict reading
 * returns, and it reads everything {@link MessageJson} writes but tool calls.
 */
class CanonicalReaderProperties {
    @Provide
    Arbitrary<Message> messages() {
        return MessageArbitraries.messages();
    }

    @Property(tries = 3000)
    void readsWhatIsWrittenAsTheStrictReadingDoes(@ForAll("messages") Message m) {
        String json = MessageJson.toJson(m);
        Message fast = CanonicalReader.read(json);
        if (m.toolCalls().isEmpty()) {
            assertThat(fast).isEqualTo(m);
        } else {
            assertThat(fast).isNull();
        }
        Message stored = m.stored(7, new TokenCount(12, "cl100k_base"));
        assertThat(CanonicalReader.read(MessageJson.toJson(stored)))
                .isEqualTo(m.toolCalls().isEmpty() ? stored : null);
    }

    /** Damaged text: the fast reader declines it or agrees with the strict reading, which must then accept it. */
    @Property(tries = 5000)
    void agreesWithTheStrictReadingOnDamagedText(
            @ForAll("messages") Message m,
            @ForAll @IntRange(min = 0, max = 1_000_000) int position,
            @ForAll("replacements") String replacement,
            @ForAll boolean insert) {
        String json = MessageJson.toJson(m.stored(3, new TokenCount(5, "heuristic")));
        int at = position % (json.length() + 1);
        String damaged =
                json.substring(0, at) + replacement + json.substring(Math.min(json.length(), at + (insert ? 0 : 1)));
        assertAgreement(damaged);
    }

    @Provide
    Arbitrary<String> replacements() {
        return Arbitraries.oneOf(List.of(
                Arbitraries.of(
                        "",
                        "\"",
                        "\\",
                        "{",
                        "}",
                        "[",
                        "]",
                        ",",
                        ":",
                        " ",
                        "0",
                        "1",
                        "9",
                        "-",
                        "+",
                        ".",
                        "Z",
                        "T",
                        "e",
                        "\\u0041",
                        "\\uD800",
                        "\\n",
                        "\\/",
                        "\\x",
                        "\u0001",
                        "\uFFFD",
                        "null",
                        "000",
                        "\"seq\":1,",
                        ",\"seq\":0",
                        "1.0"),
                Arbitraries.chars().map(String::valueOf)));
    }

    /** Timestamps of every shape, from year 1 to 9999. */
    @Property(tries = 3000)
    void timestampsReadAsTheStrictReadingDoes(
            @ForAll @LongRange(min = -62_135_596_800L, max = 253_402_300_799L) long second,
            @ForAll("fractions") long nanos) {
        Message m = Message.builder(Message.USER, "x")
                .timestamp(Instant.ofEpochSecond(second, nanos))
                .build();
        String json = MessageJson.toJson(m);
        assertThat(CanonicalReader.read(json)).isEqualTo(m);
    }

    @Provide
    Arbitrary<Long> fractions() {
        return Arbitraries.oneOf(List.of(
                Arbitraries.just(0L),
                Arbitraries.longs().between(0, 999).map(ms -> ms * 1_000_000),
                Arbitraries.longs().between(0, 999_999).map(us -> us * 1_000),
                Arbitraries.longs().between(0, 999_999_999)));
    }

    @Test
    void declinesNonCanonicalSpellingsThatTheStrictReadingTreatsItsOwnWay() {
        String base = "{\"v\":1,\"id\":\"m1\",\"role\":\"user\",\"content\":\"hi\",\"ts\":\"%s\",\"meta\":{}}";
        for (String ts : List.of(
                "2024-05-06T07:08:09Z",
                "2024-05-06T07:08:09.100Z",
                "2024-05-06T07:08:09.000Z",
                "2024-05-06T07:08:09.123000Z",
                "2024-05-06T07:08:09.123400Z",
                "2024-05-06T07:08:09.123456789Z",
                "2024-02-30T07:08:09Z",
                "2023-02-29T00:00:00Z",
                "2024-02-29T00:00:00Z",
                "0000-01-01T00:00:00Z",
                "0001-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999Z",
                "2024-05-06T23:59:60Z",
                "2024-05-06T24:00:00Z",
                "2024-05-06T07:08:09+00:00",
                "2024-05-06t07:08:09Z")) {
            assertAgreement(base.formatted(ts));
        }
        assertThat(CanonicalReader.read(base.formatted("2024-05-06T07:08:09.100Z")))
                .isNotNull();
        assertAgreement("{\"v\":1,\"id\":\"m1\",\"seq\":01,\"role\":\"user\",\"content\":\"hi\","
                + "\"ts\":\"2024-05-06T07:08:09Z\",\"meta\":{}}");
        assertAgreement("{\"v\":1,\"id\":\"m1\",\"role\":\"user\",\"content\":\"hi\","
                + "\"ts\":\"2024-05-06T07:08:09Z\",\"meta\":{\"a\":1,\"a\":2}}");
        assertAgreement("{\"v\":1,\"id\":\"m1\",\"role\":\"user\",\"content\":\"hi\","
                + "\"ts\":\"2024-05-06T07:08:09Z\",\"meta\":{\"a\":[1,{\"b\":\"}\"}]}}");
        assertAgreement("{\"v\":1,\"id\":\"m1\",\"role\":\"user\",\"content\":\"a\\u0000\\\"\\\\\\/b\","
                + "\"ts\":\"2024-05-06T07:08:09Z\",\"meta\":{}}");
        assertAgreement("{\"v\":1,\"id\":\"m1\",\"role\":\"user\",\"content\":\"\\uD83D\\uDE00\\uD800\","
                + "\"ts\":\"2024-05-06T07:08:09Z\",\"meta\":{}}");
        assertAgreement(
                "{\"v\":1,\"id\":\"m1\",\"role\":\"tool\",\"content\":\"x\","
                        + "\"ts\":\"2024-05-06T07:08:09Z\",\"meta\":{},\"toolCallId\":\"c1\",\"tokens\":{\"n\":0,\"counter\":\"h\"}}");
    }

    private static void assertAgreement(String text) {
        Message fast = CanonicalReader.read(text);
        Message strict;
        try {
            strict = MessageJson.strict(text);
        } catch (RuntimeException rejected) {
            strict = null;
        }
        if (fast != null) {
            assertThat(strict)
                    .as("the strict reading of %s, which the fast reader accepted", text)
                    .isEqualTo(fast);
        }
    }
}
