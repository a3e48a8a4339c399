package io.agentmemory.core.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.agentmemory.ErrorCode;
import io.agentmemory.IntegrityException;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Message;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import java.math.BigInteger;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MessageJsonTest {
    private static final String SECRET = "SECRET-CONTENT-4711";

    /** An assistant message with every field an assistant message can have. */
    static Message fullAssistant() {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("topic", "billing");
        meta.put("pinned", true);
        meta.put("n", 1);
        meta.put("big", BigInteger.TWO.pow(70));
        meta.put("ratio", 0.5f);
        meta.put("nested", Map.of("z", List.of(1, 2.5, "x", false), "a", Map.of()));
        return Message.builder(Message.ASSISTANT, "Hi \"you\"\\\n\t\u0000\u001f é \uD83D\uDE00 \u2028</script>")
                .id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
                .sequence(42)
                .timestamp(Instant.parse("2024-05-06T07:08:09.123456789Z"))
                .metadata(meta)
                .toolCalls(List.of(
                        new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}"),
                        new ToolCall("call_2", "now", "{}")))
                .tokenCount(new TokenCount(17, "jtokkit-o200k_base-chat-v1"))
                .build();
    }

    @Nested
    class Golden {
        @Test
        void everyFieldOfAnAssistantMessage() {
            String expected =
                    "{\"v\":1,\"id\":\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\",\"seq\":42,\"role\":\"assistant\","
                            + "\"content\":\"Hi \\\"you\\\"\\\\\\n\\t\\u0000\\u001F é \uD83D\uDE00 \u2028</script>\","
                            + "\"ts\":\"2024-05-06T07:08:09.123456Z\","
                            + "\"meta\":{\"big\":1180591620717411303424,\"n\":1,\"nested\":{\"a\":{},\"z\":[1,2.5,\"x\",false]},"
                            + "\"pinned\":true,\"ratio\":0.5,\"topic\":\"billing\"},"
                            + "\"toolCalls\":[{\"id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"},"
                            + "{\"id\":\"call_2\",\"name\":\"now\",\"arguments\":\"{}\"}],"
                            + "\"tokens\":{\"n\":17,\"counter\":\"jtokkit-o200k_base-chat-v1\"}}";
            Message m = fullAssistant();

            assertThat(MessageJson.toJson(m)).isEqualTo(expected);
            assertThat(MessageJson.toJsonBytes(m)).isEqualTo(expected.getBytes(UTF_8));
            assertThat(MessageJson.fromJson(expected)).isEqualTo(m);
            assertThat(MessageJson.fromJsonBytes(expected.getBytes(UTF_8))).isEqualTo(m);
        }

        @Test
        void toolMessageCarriesToolCallId() {
            Message m = Message.builder(Message.TOOL, "18°C")
                    .id("t1")
                    .sequence(43)
                    .timestamp(Instant.parse("2024-05-06T07:08:10Z"))
                    .toolCallId("call_1")
                    .tokenCount(new TokenCount(9, "heuristic-words-1.3"))
                    .build();

            assertThat(MessageJson.toJson(m))
                    .isEqualTo("{\"v\":1,\"id\":\"t1\",\"seq\":43,\"role\":\"tool\",\"content\":\"18°C\","
                            + "\"ts\":\"2024-05-06T07:08:10Z\",\"meta\":{},\"toolCallId\":\"call_1\","
                            + "\"tokens\":{\"n\":9,\"counter\":\"heuristic-words-1.3\"}}");
        }

        @Test
        void optionalFieldsAreOmittedAndMetaIsAlwaysPresent() {
            Message m = Message.builder(Message.USER, "")
                    .id("u1")
                    .timestamp(Instant.parse("2024-05-06T07:08:10.100Z"))
                    .build();

            assertThat(MessageJson.toJson(m))
                    .isEqualTo("{\"v\":1,\"id\":\"u1\",\"role\":\"user\",\"content\":\"\","
                            + "\"ts\":\"2024-05-06T07:08:10.100Z\",\"meta\":{}}");
            assertThat(MessageJson.fromJson(MessageJson.toJson(m))).isEqualTo(m);
        }
    }

    @Nested
    class RoundTrip {
        @Test
        void nulEmojiAndEveryPlane() {
            String content = "\u0000a\u0000 \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 \uDBFF\uDFFF \uFFFF \uFEFF"
                    + " \u007F\u0085\u2028\u2029 \\u0000 \"";
            assertRoundTrip(Message.user(content));
        }

        @Test
        void oneMebibyteOfContent() {
            StringBuilder sb = new StringBuilder(1 << 20);
            for (int i = 0; sb.length() < (1 << 20) - 2; i++) {
                sb.append(i % 7 == 0 ? "\uD83D\uDE00" : i % 11 == 0 ? "\u0000" : i % 13 == 0 ? "\"\\\n" : "word ");
            }
            Message m = Message.user(sb.toString());
            assertRoundTrip(m);
            assertThat(MessageJson.fromJsonBytes(MessageJson.toJsonBytes(m)).content())
                    .isEqualTo(sb.toString());
        }

        @Test
        void numbersKeepTheirNormalizedTypes() {
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("int", 7);
            meta.put("long", Long.MIN_VALUE);
            meta.put("big", BigInteger.TWO.pow(64).negate());
            meta.put("integralDouble", 2.0);
            meta.put("tiny", Double.MIN_VALUE);
            meta.put("huge", Double.MAX_VALUE);
            meta.put("negZero", -0.0);
            meta.put("float", 0.1f);
            Message back =
                    roundTrip(Message.builder(Message.USER, "x").metadata(meta).build());

            assertThat(back.metadata().get("int")).isEqualTo(7L);
            assertThat(back.metadata().get("long")).isEqualTo(Long.MIN_VALUE);
            assertThat(back.metadata().get("big"))
                    .isEqualTo(BigInteger.TWO.pow(64).negate());
            assertThat(back.metadata().get("integralDouble")).isEqualTo(2.0);
            assertThat(back.metadata().get("tiny")).isEqualTo(Double.MIN_VALUE);
            assertThat(back.metadata().get("huge")).isEqualTo(Double.MAX_VALUE);
            assertThat(back.metadata().get("negZero")).isEqualTo(-0.0);
            assertThat(back.metadata().get("float")).isEqualTo(0.1);
        }

        @Test
        void extremeInstantsAndSequences() {
            for (Instant ts : List.of(
                    Instant.parse("0001-01-01T00:00:00Z"),
                    Instant.parse("9999-12-31T23:59:59.999999Z"),
                    Instant.EPOCH,
                    Instant.ofEpochSecond(-1, 1_000))) {
                assertRoundTrip(Message.builder(Message.USER, "x").timestamp(ts).build());
            }
            assertRoundTrip(Message.builder(Message.USER, "x")
                    .sequence(Long.MAX_VALUE)
                    .tokenCount(new TokenCount(Integer.MAX_VALUE, "c"))
                    .build());
        }

        @Test
        void timestampsAreWrittenAsMessageKeepsThem() {
            // Message keeps microseconds; Instant.toString writes 0, 3 or 6 fraction digits.
            Message m = Message.builder(Message.USER, "x")
                    .timestamp(Instant.parse("2024-05-06T07:08:09.100000999Z"))
                    .build();
            assertThat(MessageJson.toJson(m)).contains("\"ts\":\"2024-05-06T07:08:09.100Z\"");
            assertRoundTrip(m);
        }

        @Test
        void deepestMetadataAndLongKeys() {
            Object value = "leaf";
            for (int i = 0; i < 31; i++) {
                value = Map.of("k", value);
            }
            String longKey = "k".repeat(100_000);
            assertRoundTrip(Message.builder(Message.USER, "x")
                    .metadata("deep", value)
                    .metadata(longKey, "v".repeat(100_000))
                    .metadata("digits", BigInteger.TEN.pow(999))
                    .build());
        }

        private static void assertRoundTrip(Message m) {
            assertThat(roundTrip(m)).isEqualTo(m);
        }

        private static Message roundTrip(Message m) {
            String json = MessageJson.toJson(m);
            byte[] bytes = MessageJson.toJsonBytes(m);
            assertThat(bytes).isEqualTo(json.getBytes(UTF_8));
            Message fromBytes = MessageJson.fromJsonBytes(bytes);
            Message fromText = MessageJson.fromJson(json);
            assertThat(fromBytes).isEqualTo(fromText);
            return fromText;
        }
    }

    @Nested
    class Versions {
        @ParameterizedTest
        @ValueSource(strings = {"0", "2", "99", "-1", "1.5", "12345678901234567890"})
        void unknownVersionIsAnIntegrityFailureNamingBothVersions(String version) {
            String json = MessageJson.toJson(Message.user(SECRET)).replace("{\"v\":1,", "{\"v\":" + version + ",");

            IntegrityException e = catchThrowableOfType(IntegrityException.class, () -> MessageJson.fromJson(json));

            assertThat(e.code()).isEqualTo(ErrorCode.INTEGRITY_FAILURE);
            assertThat(e.getMessage())
                    .contains("version " + version)
                    .contains("[1]")
                    .doesNotContain(SECRET);
        }

        @Test
        void versionTwoMessageNamesTwo() {
            String json = "{\"v\":2,\"future\":true}";
            assertThatThrownBy(() -> MessageJson.fromJson(json))
                    .isInstanceOf(IntegrityException.class)
                    .hasMessageContaining("format version 2")
                    .hasMessageContaining("reads versions [1]");
        }

        @Test
        void missingOrNonNumericVersion() {
            String noVersion = MessageJson.toJson(Message.user(SECRET)).replace("\"v\":1,", "");
            assertThatThrownBy(() -> MessageJson.fromJson(noVersion))
                    .isInstanceOf(IntegrityException.class)
                    .hasMessageContaining("no format version");
            String stringVersion = MessageJson.toJson(Message.user(SECRET)).replace("\"v\":1,", "\"v\":\"1\",");
            assertThatThrownBy(() -> MessageJson.fromJson(stringVersion))
                    .isInstanceOf(IntegrityException.class)
                    .hasMessageContaining("format version")
                    .hasMessageNotContaining(SECRET);
        }

        @Test
        void supportedVersionsAreExposed() {
            assertThat(MessageJson.VERSION).isEqualTo(1);
            assertThat(MessageJson.SUPPORTED_VERSIONS).containsExactly(1);
        }
    }

    @Nested
    class Corruption {
        private final String valid = MessageJson.toJson(Message.builder(Message.ASSISTANT, SECRET)
                .id("m1")
                .sequence(3)
                .timestamp(Instant.parse("2024-01-01T00:00:00Z"))
                .metadata("k", 1)
                .toolCalls(List.of(new ToolCall("c1", "f", "{}")))
                .tokenCount(new TokenCount(5, "c"))
                .build());

        @Test
        void theFixtureIsValid() {
            assertThat(MessageJson.fromJson(valid).content()).isEqualTo(SECRET);
        }

        @ParameterizedTest
        @ValueSource(
                strings = {
                    "",
                    " ",
                    "null",
                    "[]",
                    "\"SECRET-CONTENT-4711\"",
                    "{",
                    "{\"v\":1,\"content\":\"SECRET-CONTENT-4711",
                    "{\"v\":1,\"content\":SECRET-CONTENT-4711}",
                    "{\"v\":1,\"content\":'SECRET-CONTENT-4711'}",
                    "{\"v\":1,\"id\":\"a\",\"role\":\"user\",\"content\":\"SECRET-CONTENT-4711\",\"ts\":\"2024-01-01T00:00:00Z\","
                            + "\"meta\":{}} trailing SECRET-CONTENT-4711",
                    "{\"v\":1,\"id\":\"a\",\"role\":\"user\",\"content\":\"SECRET-CONTENT-4711\",\"ts\":\"2024-01-01T00:00:00Z\","
                            + "\"meta\":{}}{}",
                    "{\"v\":1,\"id\":\"a\",\"role\":\"user\",\"content\":\"SECRET-CONTENT-4711\",\"content\":\"x\","
                            + "\"ts\":\"2024-01-01T00:00:00Z\",\"meta\":{}}",
                    "{\"v\":1,\"id\":\"a\",\"role\":\"user\",\"content\":\"SECRET-CONTENT-4711\",\"ts\":\"2024-01-01T00:00:00Z\","
                            + "\"meta\":{\"x\":NaN}}",
                    "{\"v\":1,\"id\":\"a\",\"role\":\"user\",\"content\":\"SECRET-CONTENT-4711\",\"ts\":\"2024-01-01T00:00:00Z\","
                            + "\"meta\":{\"x\":01}}",
                })
        void malformedJson(String json) {
            assertIntegrityFailureWithoutContent(() -> MessageJson.fromJson(json));
        }

        @ParameterizedTest
        @ValueSource(strings = {"\"id\":\"m1\",", "\"role\":\"assistant\",", "\"ts\":\"2024-01-01T00:00:00Z\","})
        void missingField(String field) {
            assertThat(valid).contains(field);
            String json = valid.replace(field, "");
            IntegrityException e = assertIntegrityFailureWithoutContent(() -> MessageJson.fromJson(json));
            assertThat(e.getMessage()).contains("no field");
        }

        @Test
        void missingContentAndMeta() {
            String noContent = valid.replace("\"content\":\"" + SECRET + "\",", "");
            assertThat(assertIntegrityFailureWithoutContent(() -> MessageJson.fromJson(noContent))
                            .getMessage())
                    .contains("\"content\"");
            String noMeta = valid.replace("\"meta\":{\"k\":1},", "");
            assertThat(assertIntegrityFailureWithoutContent(() -> MessageJson.fromJson(noMeta))
                            .getMessage())
                    .contains("\"meta\"");
        }

        @ParameterizedTest
        @ValueSource(
                strings = {
                    "\"id\":\"m1\"|\"id\":7",
                    "\"id\":\"m1\"|\"id\":null",
                    "\"id\":\"m1\"|\"id\":\"\"",
                    "\"seq\":3|\"seq\":-3",
                    "\"seq\":3|\"seq\":3.5",
                    "\"seq\":3|\"seq\":\"3\"",
                    "\"seq\":3|\"seq\":99999999999999999999",
                    "\"role\":\"assistant\"|\"role\":\" \"",
                    "\"role\":\"assistant\"|\"role\":[]",
                    "\"ts\":\"2024-01-01T00:00:00Z\"|\"ts\":\"yesterday\"",
                    "\"ts\":\"2024-01-01T00:00:00Z\"|\"ts\":1704067200",
                    "\"ts\":\"2024-01-01T00:00:00Z\"|\"ts\":\"+10000-01-01T00:00:00Z\"",
                    "\"ts\":\"2024-01-01T00:00:00Z\"|\"ts\":\"-0001-01-01T00:00:00Z\"",
                    "\"ts\":\"2024-01-01T00:00:00Z\"|\"ts\":\"2024-01-01T00:00:00+01:00\"",
                    "\"ts\":\"2024-01-01T00:00:00Z\"|\"ts\":\"2024-01-01T00:00:00.000Z\"",
                    "\"ts\":\"2024-01-01T00:00:00Z\"|\"ts\":\"2024-01-01T00:00:00.000000001Z\"",
                    "\"ts\":\"2024-01-01T00:00:00Z\"|\"ts\":\"2024-01-01t00:00:00z\"",
                    "\"meta\":{\"k\":1}|\"meta\":[]",
                    "\"meta\":{\"k\":1}|\"meta\":{\"k\":null}",
                    "\"meta\":{\"k\":1}|\"meta\":{\"k\":1e999}",
                    "\"meta\":{\"k\":1}|\"meta\":{\"k\":\"\\ud800\"}",
                    "\"meta\":{\"k\":1}|\"meta\":{\"\\udc00\":1}",
                    "\"toolCalls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"}]|\"toolCalls\":{}",
                    "\"toolCalls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"}]|\"toolCalls\":[1]",
                    "\"toolCalls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"}]|\"toolCalls\":[{\"id\":\"c1\"}]",
                    "\"toolCalls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"}]|"
                            + "\"toolCalls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\",\"extra\":1}]",
                    "\"toolCalls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"}]|"
                            + "\"toolCalls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"},"
                            + "{\"id\":\"c1\",\"name\":\"g\",\"arguments\":\"{}\"}]",
                    "\"toolCalls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"}]|"
                            + "\"toolCalls\":[{\"id\":\"c1\",\"name\":\"f\",\"arguments\":\"\\udfff\"}]",
                    "\"tokens\":{\"n\":5,\"counter\":\"c\"}|\"tokens\":{\"n\":-5,\"counter\":\"c\"}",
                    "\"tokens\":{\"n\":5,\"counter\":\"c\"}|\"tokens\":{\"n\":5}",
                    "\"tokens\":{\"n\":5,\"counter\":\"c\"}|\"tokens\":{\"n\":3000000000,\"counter\":\"c\"}",
                    "\"tokens\":{\"n\":5,\"counter\":\"c\"}|\"tokens\":{\"n\":5,\"counter\":\"c\",\"x\":1}",
                    "\"tokens\":{\"n\":5,\"counter\":\"c\"}|\"tokens\":5",
                    "\"tokens\":{\"n\":5,\"counter\":\"c\"}|\"tokens\":{\"n\":5,\"counter\":\"c\"},\"unknown\":1",
                    "\"tokens\":{\"n\":5,\"counter\":\"c\"}|\"tokens\":{\"n\":5,\"counter\":\"c\"},\"toolCallId\":\"c1\"",
                })
        void wrongFieldValues(String replacement) {
            String[] parts = replacement.split("\\|", 2);
            assertThat(valid).contains(parts[0]);
            String json = valid.replace(parts[0], parts[1]);
            assertIntegrityFailureWithoutContent(() -> MessageJson.fromJson(json));
        }

        @Test
        void loneSurrogateEscapeInContentIsRejected() {
            String json = valid.replace(SECRET, SECRET + "\\ud83d");
            assertIntegrityFailureWithoutContent(() -> MessageJson.fromJson(json));
        }

        @Test
        void aMessageTheRulesRejectKeepsTheRuleAsCause() {
            // A tool message without toolCallId.
            String json = "{\"v\":1,\"id\":\"a\",\"role\":\"tool\",\"content\":\"" + SECRET
                    + "\",\"ts\":\"2024-01-01T00:00:00Z\",\"meta\":{}}";
            IntegrityException e = assertIntegrityFailureWithoutContent(() -> MessageJson.fromJson(json));
            assertThat(e).hasCauseInstanceOf(InvalidInputException.class).hasMessageContaining("toolCallId");
        }

        @Test
        void metadataTooDeepForMessagesOrForTheParser() {
            for (int depth : new int[] {40, 5_000}) {
                String nested = "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
                String json = valid.replace("\"meta\":{\"k\":1}", "\"meta\":" + nested);
                assertIntegrityFailureWithoutContent(() -> MessageJson.fromJson(json));
            }
        }

        @Test
        void hugeNumbersAreRejectedNotParsedForever() {
            String json = valid.replace("\"meta\":{\"k\":1}", "\"meta\":{\"k\":" + "9".repeat(200_000) + "}");
            assertIntegrityFailureWithoutContent(() -> MessageJson.fromJson(json));
        }

        @Test
        void invalidUtf8() {
            byte[] bytes = valid.getBytes(UTF_8);
            int at = valid.indexOf(SECRET);
            for (byte[] bad : new byte[][] {
                {(byte) 0xFF}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xE2, 0x28}
            }) {
                byte[] corrupt = bytes.clone();
                System.arraycopy(bad, 0, corrupt, at, bad.length);
                IntegrityException e = assertIntegrityFailureWithoutContent(() -> MessageJson.fromJsonBytes(corrupt));
                assertThat(e.getMessage()).contains("UTF-8");
            }
        }

        @Test
        void truncatedAtEveryPosition() {
            byte[] bytes = valid.getBytes(UTF_8);
            for (int end = 0; end < bytes.length; end++) {
                byte[] prefix = java.util.Arrays.copyOf(bytes, end);
                assertIntegrityFailureWithoutContent(() -> MessageJson.fromJsonBytes(prefix));
            }
        }
    }

    static IntegrityException assertIntegrityFailureWithoutContent(Runnable read) {
        IntegrityException e = catchThrowableOfType(IntegrityException.class, read::run);
        assertThat(e).as("an IntegrityException").isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.INTEGRITY_FAILURE);
        assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain("SECRET");
        return e;
    }
}
