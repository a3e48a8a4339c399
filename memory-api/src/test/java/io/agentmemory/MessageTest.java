package io.agentmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MessageTest {
    private static final String SECRET = "SECRET-4711";

    static InvalidInputException invalidMessage(Executable build) {
        InvalidInputException e = catchThrowableOfType(InvalidInputException.class, build::execute);
        assertThat(e).as("an InvalidInputException").isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_MESSAGE);
        assertThat(e.isRetryable()).isFalse();
        assertThat(e.getMessage()).doesNotContain(SECRET);
        return e;
    }

    @Nested
    class Roles {
        @Test
        void factoriesSetTheRole() {
            assertThat(Message.system("x").role()).isEqualTo("system");
            assertThat(Message.user("x").role()).isEqualTo("user");
            assertThat(Message.assistant("x").role()).isEqualTo("assistant");
            assertThat(Message.tool("c1", "x").role()).isEqualTo("tool");
            assertThat(Message.builder("critic", "x").build().role()).isEqualTo("critic");
            assertThat(Message.builder("r".repeat(Message.MAX_ROLE_LENGTH), "x")
                            .build()
                            .role())
                    .hasSize(64);
        }

        @Test
        void missingBlankLongOrPaddedRolesAreRejected() {
            assertThat(invalidMessage(() -> Message.builder(null, "x").build()).getMessage())
                    .contains("role is missing");
            assertThat(invalidMessage(() -> Message.builder("", "x").build()).getMessage())
                    .contains("role is blank");
            invalidMessage(() -> Message.builder(" \t", "x").build());
            assertThat(invalidMessage(() -> Message.builder("r".repeat(65), "x").build())
                            .getMessage())
                    .contains("65")
                    .contains("64");
            assertThat(invalidMessage(() -> Message.builder(" user", "x").build())
                            .getMessage())
                    .contains("white space");
            invalidMessage(() -> Message.builder("user ", "x").build());
        }

        @ParameterizedTest
        @ValueSource(strings = {"us\u0000er", "us\ner", "user\u007F", "user\u0085", "\u0009user"})
        void controlCharactersInRolesAreRejected(String role) {
            assertThat(invalidMessage(() -> Message.builder(role, "x").build()).getMessage())
                    .contains("control character");
        }

        @Test
        void unpairedSurrogateInRoleIsRejected() {
            invalidMessage(() -> Message.builder("user\uD800", "x").build());
            assertThat(Message.validRole("\uD83E\uDD16bot")).isEqualTo("\uD83E\uDD16bot");
        }
    }

    @Nested
    class Content {
        @Test
        void anyWellFormedUnicodeIncludingNulAndEmoji() {
            String content = "\u0000nul \uD83D\uDE00 \uDBFF\uDFFF \uFFFF \u007F\n\r\t";
            assertThat(Message.user(content).content()).isEqualTo(content);
            assertThat(Message.user("").content()).isEmpty();
        }

        @Test
        void missingContentIsRejected() {
            assertThat(invalidMessage(() -> Message.builder("user", null).build())
                            .getMessage())
                    .contains("content is missing");
        }

        @ParameterizedTest
        @ValueSource(strings = {"\uD800", "a\uDC00b", "\uDE00\uD83D", "ok\uD83D"})
        void unpairedSurrogatesAreRejectedWithoutEchoingTheContent(String bad) {
            InvalidInputException e = invalidMessage(() -> Message.user(SECRET + bad));
            assertThat(e.getMessage()).contains("unpaired surrogate").contains("index");
        }

        @Test
        void contentLengthLimit() {
            String max = "a".repeat(Message.MAX_CONTENT_LENGTH);
            assertThat(Message.user(max).content()).hasSize(16 * 1024 * 1024);
            assertThat(invalidMessage(() -> Message.user(max + "a")).getMessage())
                    .contains(String.valueOf(Message.MAX_CONTENT_LENGTH + 1));
        }

        @Test
        void anAssistantMessageMakesAtMost1024ToolCalls() {
            List<ToolCall> calls = new ArrayList<>();
            for (int i = 0; i < Message.MAX_TOOL_CALLS; i++) {
                calls.add(new ToolCall("call_" + i, "f", "{}"));
            }
            assertThat(Message.assistant("", calls).toolCalls()).hasSize(1024);
            calls.add(new ToolCall("call_1024", "f", "{}"));
            assertThat(invalidMessage(() -> Message.assistant("", calls)).getMessage())
                    .contains("1025 tool calls")
                    .contains("1024");
        }

        @Test
        void theLimitHoldsForContentToolCallsAndMetadataTogether() {
            int max = Message.MAX_CONTENT_LENGTH;
            String half = "a".repeat(max / 2);
            ToolCall call = new ToolCall("c", "f", half); // 1 + 1 + max/2 characters
            assertThat(Message.assistant("a".repeat(max / 2 - 2), List.of(call)).toolCalls())
                    .containsExactly(call);
            assertThat(invalidMessage(() -> Message.assistant("a".repeat(max / 2 - 1), List.of(call)))
                            .getMessage())
                    .contains(String.valueOf(max + 1))
                    .contains("together")
                    .doesNotContain("aaaa");
            Map<String, Object> metadata = Map.of("key", half, "n", List.of(12345L, true)); // 3 + max/2 + 1 + 5 + 4
            assertThat(Message.builder(Message.USER, "a".repeat(max / 2 - 13))
                            .metadata(metadata)
                            .build()
                            .metadata())
                    .isEqualTo(metadata);
            assertThat(invalidMessage(() -> Message.builder(Message.USER, "a".repeat(max / 2 - 12))
                                    .metadata(metadata)
                                    .build())
                            .getMessage())
                    .contains(String.valueOf(max + 1));
            InvalidInputException tooLong = invalidMessage(() -> new ToolCall("c", "f", "a".repeat(max + 1)));
            assertThat(tooLong.getMessage()).contains(String.valueOf(max + 1)).doesNotContain("aaaa");
        }
    }

    @Nested
    class Identity {
        @Test
        void idIsAGeneratedUuidV7UnlessGiven() {
            Message m = Message.user("x");
            UUID id = UUID.fromString(m.id());
            assertThat(id.version()).isEqualTo(7);
            assertThat(id.variant()).isEqualTo(2);
            assertThat(Message.builder("user", "x").id("my-id").build().id()).isEqualTo("my-id");
            assertThat(Message.user("x").id()).isNotEqualTo(m.id());
        }

        @Test
        void givenIdsAreValidated() {
            invalidMessage(() -> Message.builder("user", "x").id("").build());
            invalidMessage(() -> Message.builder("user", "x").id("  ").build());
            invalidMessage(() -> Message.builder("user", "x").id("a\u0000b").build());
            invalidMessage(() -> Message.builder("user", "x").id("a\uD800").build());
            assertThat(Message.builder("user", "x").id("i".repeat(128)).build().id())
                    .hasSize(128);
            assertThat(invalidMessage(() -> Message.builder("user", "x")
                                    .id(SECRET.repeat(20))
                                    .build())
                            .getMessage())
                    .contains("message id");
        }

        @Test
        void timestampDefaultsToNow() {
            Instant before = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
            Message m = Message.user("x");
            assertThat(m.timestamp()).isBetween(before, Instant.now());
            Instant given = Instant.parse("2020-01-01T00:00:00.000001Z");
            assertThat(Message.builder("user", "x").timestamp(given).build().timestamp())
                    .isEqualTo(given);
            assertThat(Message.builder("user", "x").timestamp(null).build().timestamp())
                    .isNotNull();
        }

        @Test
        void timestampsAreKeptToTheMicrosecondWithinTheYearsOneTo9999() {
            assertThat(Message.builder("user", "x")
                            .timestamp(Instant.parse("2020-01-01T00:00:00.123456789Z"))
                            .build()
                            .timestamp())
                    .isEqualTo(Instant.parse("2020-01-01T00:00:00.123456Z"));
            assertThat(Message.builder("user", "x")
                            .timestamp(Instant.parse("1969-12-31T23:59:59.999999Z"))
                            .build()
                            .timestamp())
                    .isEqualTo(Instant.parse("1969-12-31T23:59:59.999999Z"));
            // The last and first instants of the range, nanoseconds included, are inside it.
            assertThat(Message.builder("user", "x")
                            .timestamp(Instant.parse("9999-12-31T23:59:59.999999999Z"))
                            .build()
                            .timestamp())
                    .isEqualTo(Instant.parse("9999-12-31T23:59:59.999999Z"));
            assertThat(Message.builder("user", "x")
                            .timestamp(Instant.parse("0001-01-01T00:00:00Z"))
                            .build()
                            .timestamp())
                    .isEqualTo(Instant.parse("0001-01-01T00:00:00Z"));
            for (Instant outside : new Instant[] {
                Instant.MIN,
                Instant.MAX,
                Instant.parse("-0001-12-31T00:00:00Z"),
                Instant.parse("0000-12-31T23:59:59.999999999Z"),
                Instant.parse("+10000-01-01T00:00:00Z")
            }) {
                assertThatThrownBy(() ->
                                Message.builder("user", "x").timestamp(outside).build())
                        .isInstanceOf(InvalidInputException.class)
                        .hasMessageContaining("outside the years 1 to 9999");
            }
        }

        @Test
        void sequenceIsZeroUntilStoredAndNeverNegative() {
            assertThat(Message.user("x").sequence()).isZero();
            assertThat(Message.builder("user", "x").sequence(5).build().sequence())
                    .isEqualTo(5);
            assertThat(invalidMessage(() ->
                                    Message.builder("user", "x").sequence(-1).build())
                            .getMessage())
                    .contains("-1");
        }

        @Test
        void tokenCountIsOptionalAndValidated() {
            assertThat(Message.user("x").tokenCount()).isEmpty();
            TokenCount count = new TokenCount(0, "c");
            assertThat(Message.builder("user", "x").tokenCount(count).build().tokenCount())
                    .contains(count);
            invalidMessage(() -> new TokenCount(-1, "c"));
            invalidMessage(() -> new TokenCount(1, null));
            invalidMessage(() -> new TokenCount(1, " "));
            invalidMessage(() -> new TokenCount(1, "c\n"));
            invalidMessage(() -> new TokenCount(1, "c".repeat(257)));
        }

        @Test
        void equalsHashCodeAndToBuilder() {
            Message m = Message.builder("assistant", "hi")
                    .metadata("k", List.of(1, 2))
                    .toolCalls(List.of(new ToolCall("c", "f", "{}")))
                    .sequence(3)
                    .tokenCount(new TokenCount(4, "c"))
                    .build();
            Message copy = m.toBuilder().build();
            assertThat(copy).isEqualTo(m).hasSameHashCodeAs(m);
            assertThat(m.toBuilder().content("other").build()).isNotEqualTo(m);
            assertThat(m.toBuilder().sequence(4).build()).isNotEqualTo(m);
            assertThat(m.toBuilder().metadata("k", List.of(1L, 2L)).build()).isEqualTo(m);
        }

        @Test
        void toStringNamesTheMessageButNeverItsContentOrMetadataValues() {
            Message m = Message.builder("assistant", SECRET + " content")
                    .metadata("note", SECRET + "-meta")
                    .metadata("nested", Map.of("deep", SECRET))
                    .toolCalls(List.of(new ToolCall("c1", "f", "{\"q\":\"" + SECRET + "\"}")))
                    .tokenCount(new TokenCount(9, "c"))
                    .build();
            assertThat(m.toString())
                    .doesNotContain(SECRET)
                    .contains(m.id())
                    .contains("assistant")
                    .contains("tokens=9")
                    .contains("toolCalls=1");
            assertThat(m.toolCalls().get(0).toString()).doesNotContain(SECRET);
            assertThat(Message.tool("c1", SECRET).toString())
                    .doesNotContain(SECRET)
                    .contains("c1");
        }
    }

    @Nested
    class Metadata {
        @Test
        void deepImmutableSortedCopy() {
            List<Object> list = new ArrayList<>(List.of("a"));
            Map<String, Object> inner = new HashMap<>(Map.of("x", list));
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("b", inner);
            meta.put("a", 1);
            Message m = Message.builder("user", "x").metadata(meta).build();
            list.add("b");
            inner.put("y", 2);
            meta.put("c", 3);

            assertThat(m.metadata()).containsOnlyKeys("a", "b");
            assertThat(m.metadata().keySet()).containsExactly("a", "b");
            @SuppressWarnings("unchecked")
            Map<String, Object> b = (Map<String, Object>) m.metadata().get("b");
            assertThat(b).isEqualTo(Map.of("x", List.of("a")));
            assertThatThrownBy(() -> m.metadata().put("z", 1)).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> b.put("z", 1)).isInstanceOf(UnsupportedOperationException.class);
            @SuppressWarnings("unchecked")
            List<Object> x = (List<Object>) b.get("x");
            assertThatThrownBy(() -> x.add("z")).isInstanceOf(UnsupportedOperationException.class);
        }

        @Test
        void numbersAreNormalized() {
            Message m = Message.builder("user", "x")
                    .metadata("int", 7)
                    .metadata("short", (short) -3)
                    .metadata("byte", (byte) 1)
                    .metadata("long", Long.MAX_VALUE)
                    .metadata("decimalIntegral", new BigDecimal("5.00"))
                    .metadata("decimalHugeIntegral", new BigDecimal("1E+30"))
                    .metadata("decimalFraction", new BigDecimal("0.1"))
                    .metadata("float", 0.1f)
                    .metadata("double", 2.5)
                    .metadata("bigSmall", BigInteger.valueOf(42))
                    .metadata("bigLarge", BigInteger.TWO.pow(64))
                    .metadata("bigNegative", BigInteger.TWO.pow(63).negate().subtract(BigInteger.ONE))
                    .build();
            Map<String, Object> meta = m.metadata();

            assertThat(meta.get("int")).isEqualTo(7L);
            assertThat(meta.get("short")).isEqualTo(-3L);
            assertThat(meta.get("byte")).isEqualTo(1L);
            assertThat(meta.get("long")).isEqualTo(Long.MAX_VALUE);
            assertThat(meta.get("decimalIntegral")).isEqualTo(5L);
            assertThat(meta.get("decimalHugeIntegral")).isEqualTo(BigInteger.TEN.pow(30));
            assertThat(meta.get("decimalFraction")).isEqualTo(0.1);
            assertThat(meta.get("float")).isEqualTo(0.1);
            assertThat(meta.get("double")).isEqualTo(2.5);
            assertThat(meta.get("bigSmall")).isEqualTo(42L);
            assertThat(meta.get("bigLarge")).isEqualTo(BigInteger.TWO.pow(64));
            assertThat(meta.get("bigNegative"))
                    .isEqualTo(BigInteger.TWO.pow(63).negate().subtract(BigInteger.ONE));
        }

        @Test
        void collectionsAndArraysBecomeLists() {
            Message m = Message.builder("user", "x")
                    .metadata("set", new LinkedHashSet<>(List.of("a", "b")))
                    .metadata("array", new Object[] {1, "two", true})
                    .metadata("nested", List.of(List.of(), Map.of()))
                    .build();
            assertThat(m.metadata().get("set")).isEqualTo(List.of("a", "b"));
            assertThat(m.metadata().get("array")).isEqualTo(List.of(1L, "two", true));
            assertThat(m.metadata().get("nested")).isEqualTo(List.of(List.of(), Map.of()));
        }

        @Test
        void nonFiniteNumbersAreRejected() {
            for (Object bad : List.of(
                    Double.NaN,
                    Double.POSITIVE_INFINITY,
                    Double.NEGATIVE_INFINITY,
                    Float.NaN,
                    Float.POSITIVE_INFINITY)) {
                assertThat(invalidMessage(() -> Message.builder("user", "x")
                                        .metadata("n", bad)
                                        .build())
                                .getMessage())
                        .contains("metadata.n")
                        .contains("finite");
            }
        }

        @Test
        void nonJsonValuesAreRejected() {
            for (Object bad : List.of(
                    new Object(),
                    Thread.currentThread(),
                    new AtomicLong(1),
                    'c',
                    Instant.EPOCH,
                    new int[] {1},
                    Message.class)) {
                invalidMessage(
                        () -> Message.builder("user", "x").metadata("v", bad).build());
            }
            assertThat(invalidMessage(() -> Message.builder("user", "x")
                                    .metadata("v", new Object())
                                    .build())
                            .getMessage())
                    .contains("java.lang.Object")
                    .contains("JSON");
        }

        @Test
        void keysMustBeStrings() {
            Map<Object, Object> intKey = new HashMap<>();
            intKey.put(1, "x");
            invalidMessage(
                    () -> Message.builder("user", "x").metadata("m", intKey).build());
            Map<String, Object> nullKey = new HashMap<>();
            nullKey.put(null, "x");
            assertThat(invalidMessage(() -> Message.builder("user", "x")
                                    .metadata(nullKey)
                                    .build())
                            .getMessage())
                    .contains("not a string");
        }

        @Test
        void nullValuesAreRejectedWherever() {
            Map<String, Object> nullValue = new HashMap<>();
            nullValue.put("k", null);
            assertThat(invalidMessage(() -> Message.builder("user", "x")
                                    .metadata(nullValue)
                                    .build())
                            .getMessage())
                    .contains("metadata.k is null");
            invalidMessage(
                    () -> Message.builder("user", "x").metadata("k", null).build());
            invalidMessage(() -> Message.builder("user", "x")
                    .metadata("list", Arrays.asList(1, null))
                    .build());
            invalidMessage(() -> Message.builder("user", "x")
                    .metadata("array", new Object[] {null})
                    .build());
            invalidMessage(() ->
                    Message.builder("user", "x").metadata((Map<String, ?>) null).build());
        }

        @Test
        void nestingIsLimitedTo32Levels() {
            assertThat(Message.builder("user", "x")
                            .metadata(nestedMaps(32))
                            .build()
                            .metadata())
                    .isNotEmpty();
            assertThat(invalidMessage(() -> Message.builder("user", "x")
                                    .metadata(nestedMaps(33))
                                    .build())
                            .getMessage())
                    .contains("deeper than 32");
            // A self-containing map is "too deep", not a stack overflow.
            Map<String, Object> cycle = new HashMap<>();
            cycle.put("self", cycle);
            invalidMessage(() -> Message.builder("user", "x").metadata(cycle).build());
        }

        /** {@code levels} levels of objects, the metadata object included, around a string. */
        private Map<String, Object> nestedMaps(int levels) {
            Object value = "leaf";
            for (int i = 1; i < levels; i++) {
                value = Map.of("k", value);
            }
            return Map.of("k", value);
        }

        @Test
        void unpairedSurrogatesInKeysOrStringValuesAreRejected() {
            assertThat(invalidMessage(() -> Message.builder("user", "x")
                                    .metadata(SECRET + "\uD800", "v")
                                    .build())
                            .getMessage())
                    .contains("unpaired surrogate");
            assertThat(invalidMessage(() -> Message.builder("user", "x")
                                    .metadata("k", SECRET + "\uDC00")
                                    .build())
                            .getMessage())
                    .contains("metadata.k")
                    .contains("unpaired surrogate");
            invalidMessage(() -> Message.builder("user", "x")
                    .metadata("k", List.of(Map.of("x", "\uD83D")))
                    .build());
        }

        @Test
        void integersAreLimitedTo1000Digits() {
            BigInteger max = BigInteger.TEN.pow(1000).subtract(BigInteger.ONE);
            assertThat(Message.builder("user", "x")
                            .metadata("n", max)
                            .build()
                            .metadata()
                            .get("n"))
                    .isEqualTo(max);
            assertThat(Message.builder("user", "x")
                            .metadata("n", max.negate())
                            .build()
                            .metadata()
                            .get("n"))
                    .isEqualTo(max.negate());
            invalidMessage(() -> Message.builder("user", "x")
                    .metadata("n", BigInteger.TEN.pow(1000))
                    .build());
            invalidMessage(() -> Message.builder("user", "x")
                    .metadata("n", BigInteger.TWO.pow(1_000_000))
                    .build());
            invalidMessage(() -> Message.builder("user", "x")
                    .metadata("n", new BigDecimal("1E+1000"))
                    .build());
            // Would take minutes to expand into a BigInteger; rejected from its scale alone.
            invalidMessage(() -> Message.builder("user", "x")
                    .metadata("n", new BigDecimal("1E+100000000"))
                    .build());
            assertThat(Message.builder("user", "x")
                            .metadata("n", new BigDecimal("1E-100000000"))
                            .build()
                            .metadata()
                            .get("n"))
                    .isEqualTo(0.0);
        }

        @Test
        void pinning() {
            assertThat(Message.system("x").isPinned()).isTrue();
            assertThat(Message.user("x").isPinned()).isFalse();
            assertThat(Message.builder("user", "x").pinned().build().isPinned()).isTrue();
            assertThat(Message.builder("user", "x")
                            .metadata("pinned", false)
                            .build()
                            .isPinned())
                    .isFalse();
            assertThat(Message.builder("user", "x")
                            .metadata("pinned", "true")
                            .build()
                            .isPinned())
                    .isFalse();
        }
    }

    @Nested
    class ToolFields {
        private final ToolCall call = new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}");

        @Test
        void assistantCarriesToolCallsAndToolAnswersOne() {
            Message ask = Message.assistant("", List.of(call));
            Message answer = Message.tool("call_1", "18C");
            assertThat(ask.toolCalls()).containsExactly(call);
            assertThat(ask.isToolResult()).isFalse();
            assertThat(answer.toolCallId()).contains("call_1");
            assertThat(answer.isToolResult()).isTrue();
            assertThat(Message.user("x").toolCalls()).isEmpty();
            assertThat(Message.user("x").toolCallId()).isEmpty();
        }

        @Test
        void toolCallsAreCopied() {
            List<ToolCall> calls = new ArrayList<>(List.of(call));
            Message m = Message.assistant("", calls);
            calls.add(new ToolCall("call_2", "f", "{}"));
            assertThat(m.toolCalls()).hasSize(1);
            assertThatThrownBy(() -> m.toolCalls().add(call)).isInstanceOf(UnsupportedOperationException.class);
        }

        @Test
        void onlyAssistantsCarryToolCalls() {
            for (String role : List.of("user", "system", "tool", "critic")) {
                invalidMessage(() -> Message.builder(role, "x")
                        .toolCalls(List.of(call))
                        .toolCallId("c")
                        .build());
            }
            assertThat(invalidMessage(() -> Message.builder("user", "x")
                                    .toolCalls(List.of(call))
                                    .build())
                            .getMessage())
                    .contains("only assistant messages carry tool calls");
        }

        @Test
        void toolCallListMustBePresentWithoutNullsAndUniqueIds() {
            assertThat(invalidMessage(() -> Message.builder("assistant", "x")
                                    .toolCalls(null)
                                    .build())
                            .getMessage())
                    .contains("tool calls are missing");
            invalidMessage(() -> Message.builder("assistant", "x")
                    .toolCalls(Arrays.asList(call, null))
                    .build());
            assertThat(invalidMessage(
                                    () -> Message.assistant("x", List.of(call, new ToolCall("call_1", "other", "{}"))))
                            .getMessage())
                    .contains("appears twice");
        }

        @Test
        void toolMessagesNeedAValidToolCallIdAndOnlyThey() {
            assertThat(invalidMessage(() -> Message.builder("tool", "x").build())
                            .getMessage())
                    .contains("toolCallId");
            invalidMessage(() -> Message.tool("", "x"));
            invalidMessage(() -> Message.tool(" ", "x"));
            invalidMessage(() -> Message.tool("c\n", "x"));
            invalidMessage(() -> Message.tool("c\uD800", "x"));
            invalidMessage(() -> Message.tool("c".repeat(257), "x"));
            assertThat(Message.tool("c".repeat(256), "x").toolCallId())
                    .hasValueSatisfying(id -> assertThat(id).hasSize(256));
            for (String role : List.of("user", "assistant", "system")) {
                assertThat(invalidMessage(() -> Message.builder(role, "x")
                                        .toolCallId("c")
                                        .build())
                                .getMessage())
                        .contains("only tool messages carry a toolCallId");
            }
        }

        @Test
        void toolMessagesCannotBePinned() {
            assertThat(invalidMessage(() -> Message.builder("tool", "x")
                                    .toolCallId("c")
                                    .pinned()
                                    .build())
                            .getMessage())
                    .contains("cannot be pinned");
            assertThat(Message.builder("tool", "x")
                            .toolCallId("c")
                            .metadata("pinned", false)
                            .build()
                            .isPinned())
                    .isFalse();
        }

        @Test
        void toolCallValidation() {
            invalidMessage(() -> new ToolCall(null, "f", "{}"));
            invalidMessage(() -> new ToolCall(" ", "f", "{}"));
            invalidMessage(() -> new ToolCall("c", null, "{}"));
            invalidMessage(() -> new ToolCall("c", "", "{}"));
            invalidMessage(() -> new ToolCall("c", "f\u0000", "{}"));
            invalidMessage(() -> new ToolCall("c".repeat(257), "f", "{}"));
            invalidMessage(() -> new ToolCall("c", "f".repeat(257), "{}"));
            assertThat(invalidMessage(() -> new ToolCall("c", "f", null)).getMessage())
                    .contains("arguments are missing");
            invalidMessage(() -> new ToolCall("c", "f", "{\"" + SECRET + "\uD800\"}"));
            // Arguments are stored verbatim: any well-formed text, controls and emptiness included.
            assertThat(new ToolCall("c", "f", "").arguments()).isEmpty();
            assertThat(new ToolCall("c", "f", "{\n\u0000}").arguments()).isEqualTo("{\n\u0000}");
        }
    }
}
