package io.agentmemory.jdbc.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.agentmemory.core.json.JsonValues;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * The filter form of metadata: the JSON stored in the {@code meta} column and compared with query values. PostgreSQL's
 * {@code jsonb} cannot hold the character U+0000, so every string (keys included) is escaped: U+0001 becomes U+0001
 * U+0001 and U+0000 becomes U+0001 {@code '0'}. The mapping is one-to-one, so two values are equal exactly when their
 * filter forms are; the message itself is stored unescaped in the body. Thread-safe (stateless).
 */
public final class FilterJson {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private FilterJson() {}

    /** The filter form of a normalized JSON object (message metadata or a query's metadata filter). */
    public static String of(Map<String, Object> object) {
        return object.isEmpty() ? "{}" : value(object);
    }

    /** The filter form of one normalized JSON value. */
    public static String value(Object value) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            JsonValues.write(g, value, FilterJson::escape);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory failed", e);
        }
        return out.toString();
    }

    /** Whether {@code value} is a JSON array or object (compared by exact equality, not containment). */
    public static boolean isContainer(Object value) {
        return value instanceof Map || value instanceof List;
    }

    /** {@code s} with U+0000 and U+0001 escaped as described above. */
    public static String escape(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) > '\u0001') {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length() + 8).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\u0000') {
                sb.append('\u0001').append('0');
            } else if (c == '\u0001') {
                sb.append('\u0001').append('\u0001');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
