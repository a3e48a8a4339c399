package io.agentmemory.core.json;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Writes normalized JSON values, the form {@code Message} metadata takes (see {@code io.agentmemory.internal.Json}):
 * strings, booleans, {@code Long}s, {@code BigInteger}s, {@code Double}s, maps (already sorted by key) and lists. For
 * {@link MessageJson} and for backends that store metadata in a form of their own. Thread-safe (stateless).
 */
public final class JsonValues {
    private JsonValues() {}

    /**
     * Writes {@code value}, every string (map keys included) as {@code text} gives it.
     *
     * @throws IllegalStateException if {@code value} is not a normalized JSON value
     */
    public static void write(JsonGenerator g, Object value, UnaryOperator<String> text) throws IOException {
        if (value instanceof String s) {
            g.writeString(text.apply(s));
        } else if (value instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (value instanceof Long l) {
            g.writeNumber(l);
        } else if (value instanceof BigInteger big) {
            g.writeNumber(big);
        } else if (value instanceof Double d) {
            // Double.toString: always a fraction or an exponent, so it reads back as a Double, bit for bit.
            g.writeNumber(d);
        } else if (value instanceof Map<?, ?> map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                g.writeFieldName(text.apply((String) e.getKey()));
                write(g, e.getValue(), text);
            }
            g.writeEndObject();
        } else if (value instanceof List<?> list) {
            g.writeStartArray();
            for (Object item : list) {
                write(g, item, text);
            }
            g.writeEndArray();
        } else {
            // Message metadata is normalized by Json.object; anything else is a bug there.
            throw new IllegalStateException(
                    "not a normalized JSON value: " + value.getClass().getName());
        }
    }
}
