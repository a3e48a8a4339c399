package io.agentmemory.core.json;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.agentmemory.IntegrityException;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Message;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import io.agentmemory.internal.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The versioned JSON form of a {@link Message}, the one every backend stores. Thread-safe (stateless; one shared,
 * immutable Jackson mapper).
 *
 * <p>Version 1, with keys in this order:
 *
 * <pre>{@code
 * {"v":1,"id":"...","seq":7,"role":"assistant","content":"...","ts":"2024-05-06T07:08:09.123456789Z",
 *  "meta":{...},"toolCalls":[{"id":"...","name":"...","arguments":"..."}],"toolCallId":"...",
 *  "tokens":{"n":12,"counter":"..."}}
 * }</pre>
 *
 * <ul>
 *   <li>{@code seq} is omitted when the sequence is 0 (a message not yet stored);
 *   <li>{@code ts} is {@link Instant#toString()} of the timestamp (which {@link Message} keeps to the microsecond):
 *       ISO-8601 in UTC with 0, 3 or 6 fraction digits, one spelling per instant;
 *   <li>{@code meta} is always present, its keys sorted at every level; integers are written as JSON integers,
 *       other numbers with a fraction or exponent, so that they read back as the same {@code Long},
 *       {@code BigInteger} or {@code Double};
 *   <li>{@code toolCalls}, {@code toolCallId} and {@code tokens} are omitted when empty or absent.
 * </ul>
 *
 * Strings are written as JSON strings with only {@code "}, {@code \} and control characters escaped; the bytes form
 * is UTF-8. Every message round-trips exactly: {@code fromJson(toJson(m)).equals(m)}.
 *
 * <p>Reading is strict: anything but a version-1 document of exactly this shape (an unknown or duplicate key, a
 * missing field, a wrong type, a timestamp spelled otherwise, malformed JSON or UTF-8, or a field the {@link Message}
 * rules reject) fails with an
 * {@link IntegrityException}. Its message names the problem and never contains message content; the parser's own
 * exception is not attached as the cause, since parsers quote the text they choke on.
 */
public final class MessageJson {
    /** The version this class writes. */
    public static final int VERSION = 1;

    /** The versions this class reads. */
    public static final Set<Integer> SUPPORTED_VERSIONS = Set.of(VERSION);

    private static final Set<String> KEYS =
            Set.of("v", "id", "seq", "role", "content", "ts", "meta", "toolCalls", "toolCallId", "tokens");
    private static final Set<String> TOOL_CALL_KEYS = Set.of("id", "name", "arguments");
    private static final Set<String> TOKENS_KEYS = Set.of("n", "counter");

    /**
     * One mapper, configured once. Reading limits admit every valid message (content up to 16 Mi characters,
     * metadata strings and keys of any length, integers of up to {@link Json#MAX_INTEGER_DIGITS} digits) and keep
     * the default nesting limit, which is far above the metadata's.
     */
    private static final JsonMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength(Integer.MAX_VALUE)
                            .maxNameLength(Integer.MAX_VALUE)
                            .maxNumberLength(Json.MAX_INTEGER_DIGITS + 100)
                            .build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    // Pinned, so that the text never changes with a Jackson default: the UTF-8 writer would
                    // otherwise write a supplementary character as two escaped surrogates, unlike the String writer.
                    .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
                    .enable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
                    .disable(JsonWriteFeature.ESCAPE_NON_ASCII)
                    .disable(JsonWriteFeature.ESCAPE_FORWARD_SLASHES)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
            .disable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build();

    private MessageJson() {}

    /** The JSON text of {@code message}. */
    public static String toJson(Message message) {
        Objects.requireNonNull(message, "message");
        StringWriter out = new StringWriter(message.content().length() + 256);
        try (JsonGenerator g = MAPPER.createGenerator(out)) {
            write(g, message);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory failed", e);
        }
        return out.toString();
    }

    /** The JSON text of {@code message} in UTF-8; the same text as {@link #toJson(Message)}. */
    public static byte[] toJsonBytes(Message message) {
        Objects.requireNonNull(message, "message");
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.content().length() + 256);
        try (JsonGenerator g = MAPPER.createGenerator(out, JsonEncoding.UTF8)) {
            write(g, message);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory failed", e);
        }
        return out.toByteArray();
    }

    /**
     * The message in {@code json}.
     *
     * @throws IntegrityException if {@code json} is not a valid message document of a supported version
     */
    public static Message fromJson(String json) {
        Objects.requireNonNull(json, "json");
        Message canonical = CanonicalReader.read(json);
        return canonical != null ? canonical : strict(json);
    }

    /** {@link #fromJson(String)} without the fast path for canonical text: the reference it is tested against. */
    static Message strict(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw malformed(e);
        }
        return read(root);
    }

    /**
     * The message in {@code json}, UTF-8 encoded.
     *
     * @throws IntegrityException if {@code json} is not valid UTF-8 or not a valid message document of a supported
     *     version
     */
    public static Message fromJsonBytes(byte[] json) {
        Objects.requireNonNull(json, "json");
        String text = new String(json, StandardCharsets.UTF_8);
        if (text.indexOf('\uFFFD') >= 0) {
            // A replacement character: malformed input replaced, or one spelled in the text. Decode strictly to tell.
            text = strictUtf8(json);
        }
        return fromJson(text);
    }

    private static String strictUtf8(byte[] json) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(json))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IntegrityException("stored message is not valid UTF-8 (" + json.length + " bytes)");
        }
    }

    // ---- writing

    private static void write(JsonGenerator g, Message m) throws IOException {
        g.writeStartObject();
        g.writeNumberField("v", VERSION);
        g.writeStringField("id", m.id());
        if (m.sequence() != 0) {
            g.writeNumberField("seq", m.sequence());
        }
        g.writeStringField("role", m.role());
        g.writeStringField("content", m.content());
        g.writeStringField("ts", m.timestamp().toString());
        g.writeFieldName("meta");
        JsonValues.write(g, m.metadata(), UnaryOperator.identity());
        if (!m.toolCalls().isEmpty()) {
            g.writeArrayFieldStart("toolCalls");
            for (ToolCall call : m.toolCalls()) {
                g.writeStartObject();
                g.writeStringField("id", call.id());
                g.writeStringField("name", call.name());
                g.writeStringField("arguments", call.arguments());
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        if (m.toolCallId().isPresent()) {
            g.writeStringField("toolCallId", m.toolCallId().get());
        }
        if (m.tokenCount().isPresent()) {
            TokenCount tokens = m.tokenCount().get();
            g.writeObjectFieldStart("tokens");
            g.writeNumberField("n", tokens.tokens());
            g.writeStringField("counter", tokens.counterId());
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    // ---- reading

    private static Message read(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IntegrityException("stored message is not a JSON object");
        }
        JsonNode version = root.get("v");
        if (version == null) {
            throw new IntegrityException("stored message has no format version (field \"v\")");
        }
        if (!version.isIntegralNumber() || !version.canConvertToInt() || version.intValue() != VERSION) {
            throw new IntegrityException("stored message has format version "
                    + (version.isNumber() ? version.numberValue() : "of JSON type " + version.getNodeType())
                    + "; this version of agentmemory reads versions " + SUPPORTED_VERSIONS);
        }
        checkKeys(root, KEYS, "stored message");
        try {
            Message.Builder b = Message.builder(text(root, "role"), text(root, "content"))
                    .id(text(root, "id"))
                    .timestamp(timestamp(root))
                    .metadata(metadata(root.get("meta")));
            JsonNode seq = root.get("seq");
            if (seq != null) {
                if (!seq.isIntegralNumber() || !seq.canConvertToLong()) {
                    throw new IntegrityException("stored message field \"seq\" is not a 64-bit integer");
                }
                b.sequence(seq.longValue());
            }
            JsonNode calls = root.get("toolCalls");
            if (calls != null) {
                b.toolCalls(toolCalls(calls));
            }
            if (root.has("toolCallId")) {
                b.toolCallId(text(root, "toolCallId"));
            }
            JsonNode tokens = root.get("tokens");
            if (tokens != null) {
                b.tokenCount(tokenCount(tokens));
            }
            Message m = b.build();
            if (!m.timestamp().toString().equals(text(root, "ts"))) {
                // An offset, extra fraction digits or nanoseconds: a valid instant, but not what this class writes.
                throw new IntegrityException(
                        "stored message field \"ts\" is not in the canonical form (Instant.toString() in microseconds)");
            }
            return m;
        } catch (InvalidInputException e) {
            // Message validation messages never contain content.
            throw new IntegrityException("stored message is invalid: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode object, String key) {
        JsonNode node = object.get(key);
        if (node == null) {
            throw new IntegrityException("stored message has no field \"" + key + "\"");
        }
        if (!node.isTextual()) {
            throw new IntegrityException(
                    "stored message field \"" + key + "\" is a JSON " + node.getNodeType() + ", not a string");
        }
        return node.textValue();
    }

    private static Instant timestamp(JsonNode root) {
        String ts = text(root, "ts");
        try {
            return Instant.parse(ts);
        } catch (DateTimeParseException e) {
            throw new IntegrityException("stored message field \"ts\" is not an ISO-8601 instant");
        }
    }

    /** The metadata of a stored message's {@code meta} node (null if absent). */
    private static Map<String, Object> metadata(JsonNode meta) {
        if (meta == null) {
            throw new IntegrityException("stored message has no field \"meta\"");
        }
        if (!meta.isObject()) {
            throw new IntegrityException(
                    "stored message field \"meta\" is a JSON " + meta.getNodeType() + ", not an object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) javaValue(meta);
        return map;
    }

    /** The metadata in the text of one JSON object (for {@link CanonicalReader}); throws if it is not one. */
    static Map<String, Object> metadataObject(String object) {
        try {
            return metadata(MAPPER.readTree(object));
        } catch (JsonProcessingException e) {
            throw malformed(e);
        }
    }

    /** Plain Java objects for a JSON tree; {@link Message.Builder} normalizes them (Integer to Long...). */
    private static Object javaValue(JsonNode node) {
        switch (node.getNodeType()) {
            case OBJECT:
                Map<String, Object> map = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : node.properties()) {
                    map.put(e.getKey(), javaValue(e.getValue()));
                }
                return map;
            case ARRAY:
                List<Object> list = new ArrayList<>(node.size());
                for (JsonNode item : node) {
                    list.add(javaValue(item));
                }
                return list;
            case STRING:
                return node.textValue();
            case BOOLEAN:
                return node.booleanValue();
            case NUMBER:
                if (node.isIntegralNumber()) {
                    return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
                }
                return node.doubleValue();
            case NULL:
                // Message rejects null values; name it here, where the reason is clear.
                throw new IntegrityException("stored message metadata contains a JSON null");
            default:
                throw new IntegrityException("stored message metadata contains a " + node.getNodeType() + " node");
        }
    }

    private static List<ToolCall> toolCalls(JsonNode calls) {
        if (!calls.isArray()) {
            throw new IntegrityException(
                    "stored message field \"toolCalls\" is a JSON " + calls.getNodeType() + ", not an array");
        }
        List<ToolCall> list = new ArrayList<>(calls.size());
        for (JsonNode call : calls) {
            if (!call.isObject()) {
                throw new IntegrityException("stored message has a tool call that is not a JSON object");
            }
            checkKeys(call, TOOL_CALL_KEYS, "stored tool call");
            list.add(new ToolCall(text(call, "id"), text(call, "name"), text(call, "arguments")));
        }
        return list;
    }

    private static TokenCount tokenCount(JsonNode tokens) {
        if (!tokens.isObject()) {
            throw new IntegrityException(
                    "stored message field \"tokens\" is a JSON " + tokens.getNodeType() + ", not an object");
        }
        checkKeys(tokens, TOKENS_KEYS, "stored token count");
        JsonNode n = tokens.get("n");
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IntegrityException("stored token count field \"n\" is missing or not a 32-bit integer");
        }
        return new TokenCount(n.intValue(), text(tokens, "counter"));
    }

    private static void checkKeys(JsonNode object, Set<String> allowed, String what) {
        for (Map.Entry<String, JsonNode> e : object.properties()) {
            if (!allowed.contains(e.getKey())) {
                String key = e.getKey();
                throw new IntegrityException(what + " has the unknown field \""
                        + (key.length() <= 40 ? key : key.substring(0, 40) + "...") + "\" (format version "
                        + VERSION + " has " + allowed.stream().sorted().toList() + ")");
            }
        }
    }

    /** An exception for unparsable text: where, and of what kind, but never the parser's message (it quotes). */
    private static IntegrityException malformed(JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        return new IntegrityException("stored message is not well-formed JSON" + where + " ("
                + e.getClass().getSimpleName() + ")");
    }
}
