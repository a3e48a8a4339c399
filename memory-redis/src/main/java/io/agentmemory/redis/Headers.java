package io.agentmemory.redis;

import io.agentmemory.Message;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The per-message header the scripts read instead of the JSON (Lua never parses a message): a MessagePack array
 * {@code [tokens, epoch second, nanos, pinned, toolCallId or false, [call ids], id, role, {metadata canon}]}.
 *
 * <p>The metadata canon makes JSON equality a string comparison in Lua: each top-level entry is stored as
 * {@link #canonKey(String)} mapped to {@link #canonValue(Object)}, a canonical text of the value in which numbers are
 * written by decimal value ({@code 1}, {@code 1.0} and {@code 1.00} all become {@code 1}), strings quoted and escaped,
 * maps sorted by key. Texts longer than {@value #MAX_CANON} characters are replaced by {@code #} and the base64url
 * SHA-256 of the text, so a header stays small whatever the metadata holds. Thread-safe (stateless).
 */
final class Headers {
    /** The longest canonical text kept as is. */
    static final int MAX_CANON = 64;

    private Headers() {}

    /** The header of {@code m}, stored with the token count {@code count}. */
    static byte[] of(Message m, TokenCount count) {
        Out out = new Out(64 + m.metadata().size() * 32);
        out.arrayHeader(9);
        out.integer(count.tokens());
        Instant ts = m.timestamp();
        out.integer(ts.getEpochSecond());
        out.integer(ts.getNano());
        out.bool(m.isPinned());
        if (m.toolCallId().isPresent()) {
            out.string(m.toolCallId().get());
        } else {
            out.bool(false);
        }
        out.arrayHeader(m.toolCalls().size());
        for (ToolCall call : m.toolCalls()) {
            out.string(call.id());
        }
        out.string(m.id());
        out.string(m.role());
        out.mapHeader(m.metadata().size());
        for (Map.Entry<String, Object> e : m.metadata().entrySet()) {
            out.string(canonKey(e.getKey()));
            out.string(canonValue(e.getValue()));
        }
        return out.toByteArray();
    }

    /** The canonical form of a metadata key: the key itself, marked, or its digest when it is long. */
    static String canonKey(String key) {
        return key.length() <= MAX_CANON ? "=" + key : digest(key);
    }

    /** The canonical form of a normalized JSON value; equal forms exactly when the values are equal as JSON. */
    static String canonValue(Object value) {
        StringBuilder sb = new StringBuilder();
        canon(value, sb);
        return sb.length() <= MAX_CANON ? sb.toString() : digest(sb.toString());
    }

    private static void canon(Object value, StringBuilder sb) {
        if (value instanceof String s) {
            quote(s, sb);
        } else if (value instanceof Boolean b) {
            sb.append(b.booleanValue());
        } else if (value instanceof Number n) {
            sb.append(decimal(n).stripTrailingZeros().toString());
        } else if (value instanceof Map<?, ?> map) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                quote((String) e.getKey(), sb);
                sb.append(':');
                canon(e.getValue(), sb);
            }
            sb.append('}');
        } else if (value instanceof List<?> list) {
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                canon(list.get(i), sb);
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException(
                    "not a normalized JSON value: " + value.getClass().getName());
        }
    }

    /** Numbers as {@link io.agentmemory.internal.Json#jsonEquals} compares them. */
    private static BigDecimal decimal(Number n) {
        if (n instanceof Long l) {
            return BigDecimal.valueOf(l);
        }
        if (n instanceof BigInteger b) {
            return new BigDecimal(b);
        }
        return BigDecimal.valueOf(n.doubleValue());
    }

    private static void quote(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }

    private static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return "#" + Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    /**
     * A MessagePack writer for the few types the headers use; only formats Redis's Lua cmsgpack reads. A plain growing
     * array: {@link java.io.ByteArrayOutputStream} takes a lock for every byte. Not thread-safe.
     */
    static final class Out {
        private byte[] buf;
        private int count;

        Out(int size) {
            buf = new byte[size];
        }

        private void write(int b) {
            if (count == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            buf[count++] = (byte) b;
        }

        private void write(byte[] b, int off, int len) {
            if (count + len > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + len));
            }
            System.arraycopy(b, off, buf, count, len);
            count += len;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(buf, count);
        }

        void arrayHeader(int n) {
            if (n < 16) {
                write(0x90 | n);
            } else if (n < 65536) {
                write(0xdc);
                u16(n);
            } else {
                write(0xdd);
                u32(n);
            }
        }

        void mapHeader(int n) {
            if (n < 16) {
                write(0x80 | n);
            } else if (n < 65536) {
                write(0xde);
                u16(n);
            } else {
                write(0xdf);
                u32(n);
            }
        }

        void bool(boolean b) {
            write(b ? 0xc3 : 0xc2);
        }

        void integer(long v) {
            if (v >= 0 && v < 128) {
                write((int) v);
            } else if (v < 0 && v >= -32) {
                write((int) (v & 0xff));
            } else {
                if (count + 9 > buf.length) {
                    buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + 9));
                }
                buf[count++] = (byte) 0xd3;
                for (int shift = 56; shift >= 0; shift -= 8) {
                    buf[count++] = (byte) (v >>> shift);
                }
            }
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length < 32) {
                write(0xa0 | b.length);
            } else if (b.length < 65536) {
                write(0xda);
                u16(b.length);
            } else {
                write(0xdb);
                u32(b.length);
            }
            write(b, 0, b.length);
        }

        private void u16(int n) {
            write((n >>> 8) & 0xff);
            write(n & 0xff);
        }

        private void u32(int n) {
            write((n >>> 24) & 0xff);
            write((n >>> 16) & 0xff);
            write((n >>> 8) & 0xff);
            write(n & 0xff);
        }
    }
}
