package io.agentmemory.core.json;

import io.agentmemory.Message;
import io.agentmemory.TokenCount;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;

/**
 * Reads a message document in exactly the form {@link MessageJson} writes, without building a JSON tree: the keys in
 * their order, no white space, the timestamp as {@link Instant#toString()} spells it. Windows and histories decode
 * thousands of stored messages per read, and this is most of their cost.
 *
 * <p>It answers {@code null} for anything else: other key orders, white space, tool calls, a number or timestamp
 * spelled otherwise, malformed text, or a field that {@link Message} rejects. {@link MessageJson} then reads the text
 * strictly, which accepts or rejects it with the precise reason. So for every text this reader either returns
 * {@code null} or the message the strict reading returns; a differential property test holds it to that. Stateless.
 */
final class CanonicalReader {
    private final String s;
    private int pos;

    private CanonicalReader(String s) {
        this.s = s;
    }

    /**
     * The message in {@code json}, or {@code null} when {@code json} is not in the canonical form this reader handles.
     * A non-empty {@code meta} object is read by {@link MessageJson#metadataObject(String)}.
     */
    static Message read(String json) {
        try {
            return new CanonicalReader(json).message();
        } catch (RuntimeException e) {
            // Anything this reader or Message rejects: the strict reading gives the reason.
            return null;
        }
    }

    private Message message() {
        if (!literal("{\"v\":1,\"id\":")) {
            return null;
        }
        String id = string();
        if (id == null) {
            return null;
        }
        long seq = 0;
        if (literal(",\"seq\":")) {
            seq = natural(19);
            if (seq <= 0) {
                return null;
            }
        }
        if (!literal(",\"role\":")) {
            return null;
        }
        String role = string();
        if (role == null || !literal(",\"content\":")) {
            return null;
        }
        String content = string();
        if (content == null || !literal(",\"ts\":\"")) {
            return null;
        }
        Instant ts = timestamp();
        if (ts == null || !literal("\",\"meta\":")) {
            return null;
        }
        Message.Builder b = Message.builder(role, content).id(id).timestamp(ts);
        if (!literal("{}")) {
            int end = valueEnd(pos);
            if (end < 0 || s.charAt(pos) != '{') {
                return null;
            }
            b.metadata(MessageJson.metadataObject(s.substring(pos, end)));
            pos = end;
        }
        if (s.startsWith(",\"toolCalls\":", pos)) {
            return null;
        }
        if (literal(",\"toolCallId\":")) {
            String toolCallId = string();
            if (toolCallId == null) {
                return null;
            }
            b.toolCallId(toolCallId);
        }
        if (literal(",\"tokens\":{\"n\":")) {
            long n = natural(10);
            if (n < 0 || n > Integer.MAX_VALUE || !literal(",\"counter\":")) {
                return null;
            }
            String counter = string();
            if (counter == null || !literal("}")) {
                return null;
            }
            b.tokenCount(new TokenCount((int) n, counter));
        }
        if (!literal("}") || pos != s.length()) {
            return null;
        }
        return b.sequence(seq).build();
    }

    private boolean literal(String expected) {
        if (s.startsWith(expected, pos)) {
            pos += expected.length();
            return true;
        }
        return false;
    }

    /**
     * A JSON integer of at most {@code maxDigits} digits, without sign or leading zero; -1 if there is none; throws
     * past {@link Long#MAX_VALUE}.
     */
    private long natural(int maxDigits) {
        int start = pos;
        long value = 0;
        while (pos < s.length() && pos - start < maxDigits + 1) {
            char c = s.charAt(pos);
            if (c < '0' || c > '9') {
                break;
            }
            value = Math.addExact(Math.multiplyExact(value, 10), c - '0'); // throws past Long.MAX_VALUE
            pos++;
        }
        int digits = pos - start;
        if (digits == 0 || digits > maxDigits || (digits > 1 && s.charAt(start) == '0')) {
            return -1;
        }
        return value;
    }

    /** A JSON string at {@code pos}, unescaped; {@code null} if malformed. */
    private String string() {
        if (pos >= s.length() || s.charAt(pos) != '"') {
            return null;
        }
        int start = ++pos;
        int n = s.length();
        while (pos < n) {
            char c = s.charAt(pos);
            if (c == '"') {
                return s.substring(start, pos++);
            }
            if (c == '\\') {
                return escapedString(start);
            }
            if (c < 0x20) {
                return null;
            }
            pos++;
        }
        return null;
    }

    /** The rest of a string whose first escape is at {@code pos}. */
    private String escapedString(int start) {
        StringBuilder out = new StringBuilder(s.length() - start);
        out.append(s, start, pos);
        int n = s.length();
        while (pos < n) {
            char c = s.charAt(pos++);
            if (c == '"') {
                return out.toString();
            }
            if (c < 0x20) {
                return null;
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= n) {
                return null;
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (pos + 4 > n) {
                        return null;
                    }
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int digit = hexDigit(s.charAt(pos++));
                        if (digit < 0) {
                            return null;
                        }
                        code = code * 16 + digit;
                    }
                    out.append((char) code);
                }
                default -> {
                    return null;
                }
            }
        }
        return null;
    }

    /** The value of an ASCII hex digit, -1 for any other character (Unicode's other digits included). */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /**
     * A timestamp spelled as {@link Instant#toString()} spells an instant of years 1 to 9999 kept to the microsecond:
     * {@code YYYY-MM-DDTHH:MM:SS}, then no fraction, 3 digits (not all zero) or 6 digits (not ending in 000), then
     * {@code Z}; {@code null} for any other spelling.
     */
    private Instant timestamp() {
        int p = pos;
        if (p + 20 > s.length()
                || s.charAt(p + 4) != '-'
                || s.charAt(p + 7) != '-'
                || s.charAt(p + 10) != 'T'
                || s.charAt(p + 13) != ':'
                || s.charAt(p + 16) != ':') {
            return null;
        }
        int year = digits(p, 4);
        int month = digits(p + 5, 2);
        int day = digits(p + 8, 2);
        int hour = digits(p + 11, 2);
        int minute = digits(p + 14, 2);
        int second = digits(p + 17, 2);
        if (year < 1
                || month < 0
                || day < 0
                || hour < 0
                || hour > 23
                || minute < 0
                || minute > 59
                || second < 0
                || second > 59) {
            return null;
        }
        p += 19;
        long nanos = 0;
        if (p < s.length() && s.charAt(p) == '.') {
            int fraction3 = digits(p + 1, 3);
            if (fraction3 < 0) {
                return null;
            }
            if (p + 4 < s.length() && s.charAt(p + 4) == 'Z') {
                if (fraction3 == 0) {
                    return null;
                }
                nanos = fraction3 * 1_000_000L;
                p += 4;
            } else {
                int fraction6 = digits(p + 4, 3);
                if (fraction6 <= 0) {
                    return null; // "000" belongs to the 3-digit form; anything else is not digits
                }
                nanos = fraction3 * 1_000_000L + fraction6 * 1_000L;
                p += 7;
            }
        }
        if (p >= s.length() || s.charAt(p) != 'Z') {
            return null;
        }
        long epochDay;
        try {
            epochDay = LocalDate.of(year, month, day).toEpochDay();
        } catch (DateTimeException e) {
            return null;
        }
        pos = p + 1;
        return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
    }

    /** The decimal number of {@code count} ASCII digits at {@code at}; -1 if they are not all digits. */
    private int digits(int at, int count) {
        if (at + count > s.length()) {
            return -1;
        }
        int value = 0;
        for (int i = at; i < at + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /**
     * The end (exclusive) of the JSON object or array starting at {@code start}, by brackets outside strings; -1 if it
     * does not close. What lies between is checked by the strict parser that reads it.
     */
    private int valueEnd(int start) {
        int depth = 0;
        int n = s.length();
        for (int i = start; i < n; i++) {
            char c = s.charAt(i);
            if (c == '"') {
                for (i++; i < n && s.charAt(i) != '"'; i++) {
                    if (s.charAt(i) == '\\') {
                        i++;
                    }
                }
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return i + 1;
                }
            }
        }
        return -1;
    }
}
