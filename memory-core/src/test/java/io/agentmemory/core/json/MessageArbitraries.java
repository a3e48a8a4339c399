package io.agentmemory.core.json;

import io.agentmemory.Message;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/** Generators of valid messages for property tests, biased toward hostile text. Thread-safe (stateless). */
public final class MessageArbitraries {
    private static final Instant FIRST = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant LAST = Instant.parse("9999-12-31T23:59:59.999999Z");

    private MessageArbitraries() {}

    /** Any Unicode scalar value: ASCII, white space, controls incl. NUL, BMP, supplementary and emoji. */
    public static Arbitrary<Integer> codePoints() {
        return Arbitraries.frequencyOf(List.of(
                Tuple.of(10, Arbitraries.integers().between(0x20, 0x7E)),
                Tuple.of(3, Arbitraries.of(0x20, 0x09, 0x0A, 0x0D, 0xA0, 0x85, 0x3000, 0x2028, 0x200B)),
                Tuple.of(2, Arbitraries.integers().between(0x00, 0x1F)),
                Tuple.of(1, Arbitraries.of(0x00, 0x7F, 0xFEFF, 0xFFFD, 0xFFFF, 0x10FFFF, 0x5C, 0x22)),
                Tuple.of(3, Arbitraries.integers().between(0x80, 0xD7FF)),
                Tuple.of(1, Arbitraries.integers().between(0xE000, 0xFFFF)),
                Tuple.of(2, Arbitraries.integers().between(0x10000, 0x10FFFF)),
                Tuple.of(2, Arbitraries.integers().between(0x1F300, 0x1FAFF))));
    }

    /** Well-formed Unicode text of up to {@code maxCodePoints} code points; may be empty. */
    public static Arbitrary<String> text(int maxCodePoints) {
        return codePoints().list().ofMaxSize(maxCodePoints).map(MessageArbitraries::string);
    }

    /** Text valid as an identifier: not blank, no control characters, at most 256 characters. */
    public static Arbitrary<String> identifier() {
        return codePoints()
                .filter(cp -> !Character.isISOControl(cp))
                .list()
                .ofMinSize(1)
                .ofMaxSize(20)
                .map(MessageArbitraries::string)
                .filter(s -> !s.isBlank());
    }

    /** A JSON value as Message metadata accepts it, nested at most {@code depth} more levels. */
    public static Arbitrary<Object> jsonValue(int depth) {
        Arbitrary<Object> scalar = Arbitraries.oneOf(List.of(
                text(12).map(s -> (Object) s),
                Arbitraries.of(true, false).map(b -> (Object) b),
                Arbitraries.longs().map(l -> (Object) l),
                Arbitraries.integers().map(i -> (Object) i),
                Arbitraries.bigIntegers()
                        .between(BigInteger.TWO.pow(63), BigInteger.TWO.pow(200))
                        .flatMap(b -> Arbitraries.of(b, b.negate()))
                        .map(b -> (Object) b),
                Arbitraries.doubles().filter(Double::isFinite).map(d -> (Object) d),
                Arbitraries.of(
                                0.0,
                                -0.0,
                                0.1,
                                1.0,
                                1e300,
                                -1e-300,
                                Double.MIN_VALUE,
                                Double.MAX_VALUE,
                                1e21,
                                123456789.0)
                        .map(d -> (Object) d)));
        if (depth == 0) {
            return scalar;
        }
        Arbitrary<Object> list =
                Arbitraries.lazy(() -> jsonValue(depth - 1)).list().ofMaxSize(4).map(l -> (Object) l);
        Arbitrary<Object> map = metadata(depth - 1).map(m -> (Object) m);
        return Arbitraries.frequencyOf(List.of(Tuple.of(6, scalar), Tuple.of(1, list), Tuple.of(1, map)));
    }

    /** A metadata map with values nested at most {@code depth} more levels. */
    public static Arbitrary<Map<String, Object>> metadata(int depth) {
        return Arbitraries.maps(text(8), Arbitraries.lazy(() -> jsonValue(depth)))
                .ofMaxSize(4);
    }

    public static Arbitrary<ToolCall> toolCall() {
        return Combinators.combine(identifier(), identifier(), text(30)).as(ToolCall::new);
    }

    /**
     * Instants within the years Message accepts (1 to 9999), with nanoseconds: Message truncates them to the
     * microsecond.
     */
    public static Arbitrary<Instant> instants() {
        return Arbitraries.oneOf(List.of(
                Combinators.combine(
                                Arbitraries.longs().between(FIRST.getEpochSecond(), LAST.getEpochSecond()),
                                Arbitraries.integers().between(0, 999_999_999))
                        .as(Instant::ofEpochSecond),
                Arbitraries.of(Instant.EPOCH, FIRST, LAST, Instant.parse("2024-02-29T23:59:59.000001999Z"))));
    }

    /** Valid messages of every role, with or without sequence, token count and tool-call fields. */
    public static Arbitrary<Message> messages() {
        Arbitrary<Message.Builder> base = Combinators.combine(
                        Arbitraries.of(Message.SYSTEM, Message.USER, Message.ASSISTANT, Message.TOOL, "critic"),
                        text(80),
                        metadata(3),
                        instants(),
                        Arbitraries.longs()
                                .between(0, Long.MAX_VALUE)
                                .edgeCases(c -> c.includeOnly(0L, 1L, Long.MAX_VALUE)),
                        toolCall().list().ofMaxSize(3),
                        identifier())
                .as((role, content, meta, ts, seq, calls, toolCallId) -> {
                    Message.Builder b = Message.builder(role, content)
                            .metadata(meta)
                            .timestamp(ts)
                            .sequence(seq);
                    if (seq % 2 == 1) {
                        b.id("msg-" + Long.toHexString(seq));
                    }
                    if (role.equals(Message.ASSISTANT)) {
                        b.toolCalls(uniqueIds(calls));
                    }
                    if (role.equals(Message.TOOL)) {
                        b.toolCallId(toolCallId).metadata(Message.PINNED, false);
                    }
                    return b;
                });
        return Combinators.combine(
                        base,
                        Arbitraries.integers().between(0, Integer.MAX_VALUE).injectNull(0.3),
                        Arbitraries.of("heuristic-words-1.3", "jtokkit-o200k_base-chat-v1", "custom counter \u00e9"))
                .as((b, tokens, counter) -> {
                    if (tokens != null) {
                        b.tokenCount(new TokenCount(tokens, counter));
                    }
                    return b.build();
                });
    }

    private static List<ToolCall> uniqueIds(List<ToolCall> calls) {
        List<ToolCall> unique = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            ToolCall c = calls.get(i);
            unique.add(new ToolCall("call_" + i + "_" + c.id(), c.name(), c.arguments()));
        }
        return unique;
    }

    static String string(List<Integer> codePoints) {
        StringBuilder sb = new StringBuilder();
        for (int cp : codePoints) {
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }
}
