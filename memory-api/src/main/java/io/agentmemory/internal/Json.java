package io.agentmemory.internal;

import io.agentmemory.ErrorCode;
import io.agentmemory.InvalidInputException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * JSON values as plain Java objects: {@code String}, {@code Boolean}, {@code Long} or {@code BigInteger} for
 * integers, {@code Double} for other numbers, immutable {@code List} and key-sorted immutable {@code Map} with
 * {@code String} keys. Not API. Thread-safe (stateless).
 */
public final class Json {
    /** Deepest nesting accepted in metadata. */
    public static final int MAX_DEPTH = 32;
    /** The most decimal digits of an integer accepted in metadata. */
    public static final int MAX_INTEGER_DIGITS = 1000;
    /** Integers of more bits than this have more than {@link #MAX_INTEGER_DIGITS} digits. */
    private static final int MAX_INTEGER_BITS = (int) Math.ceil(MAX_INTEGER_DIGITS / Math.log10(2)) + 1;

    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private Json() {}

    /**
     * A deep, immutable, normalized copy of a JSON object given as a map.
     *
     * @param what names the value in error messages, e.g. "metadata"
     * @throws InvalidInputException if any value is not a JSON value, a key is not a string, a value is null, a
     *     string is not well-formed Unicode, a number is not finite or is an integer of more than
     *     {@link #MAX_INTEGER_DIGITS} digits, or nesting is deeper than {@link #MAX_DEPTH}
     */
    public static Map<String, Object> object(Map<?, ?> map, String what, ErrorCode code) {
        if (map == null) {
            throw new InvalidInputException(code, what + " is missing; use an empty map");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> copy = (Map<String, Object>) copy(map, what, 0, code);
        return copy;
    }

    /**
     * The characters of text a JSON value made by {@link #copy} holds: its strings and object keys, and its numbers
     * and booleans as they are written.
     */
    public static long textLength(Object value) {
        if (value instanceof String string) {
            return string.length();
        }
        long length = 0;
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                length += ((String) e.getKey()).length() + textLength(e.getValue());
            }
            return length;
        }
        if (value instanceof List<?> list) {
            for (Object item : list) {
                length += textLength(item);
            }
            return length;
        }
        return String.valueOf(value).length();
    }

    /** A deep, immutable, normalized copy of one JSON value; see {@link #object}. */
    public static Object value(Object value, String what, ErrorCode code) {
        return copy(value, what, 0, code);
    }

    private static Object copy(Object value, String path, int depth, ErrorCode code) {
        if (depth > MAX_DEPTH) {
            throw new InvalidInputException(code, path + " is nested deeper than " + MAX_DEPTH + " levels");
        }
        if (value == null) {
            throw new InvalidInputException(code, path + " is null; omit the key instead");
        }
        if (value instanceof String string) {
            int bad = Text.firstUnpairedSurrogate(string);
            if (bad >= 0) {
                throw new InvalidInputException(
                        code, path + " contains an unpaired surrogate at index " + bad + "; it is not valid Unicode");
            }
            return string;
        }
        if (value instanceof Boolean) {
            return value;
        }
        if (value instanceof Number number) {
            return number(number, path, code);
        }
        if (value instanceof Map<?, ?> map) {
            TreeMap<String, Object> copy = new TreeMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new InvalidInputException(
                            code, path + " has a key that is not a string; JSON object keys are strings");
                }
                int bad = Text.firstUnpairedSurrogate(key);
                if (bad >= 0) {
                    throw new InvalidInputException(code, path + " has a key with an unpaired surrogate");
                }
                copy.put(key, copy(e.getValue(), path + "." + shorten(key), depth + 1, code));
            }
            return Collections.unmodifiableMap(copy);
        }
        if (value instanceof Collection<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            int i = 0;
            for (Object item : list) {
                copy.add(copy(item, path + "[" + i++ + "]", depth + 1, code));
            }
            return Collections.unmodifiableList(copy);
        }
        if (value instanceof Object[] array) {
            return copy(Arrays.asList(array), path, depth, code);
        }
        throw new InvalidInputException(
                code,
                path + " is a " + value.getClass().getName()
                        + "; only strings, booleans, numbers, lists and maps are JSON values");
    }

    private static Object number(Number number, String path, ErrorCode code) {
        if (number instanceof Long || number instanceof Integer || number instanceof Short || number instanceof Byte) {
            return number.longValue();
        }
        if (number instanceof BigInteger big) {
            if (big.compareTo(LONG_MIN) >= 0 && big.compareTo(LONG_MAX) <= 0) {
                return big.longValue();
            }
            // The bit length bounds the digits cheaply; the exact count is computed only for numbers near the limit.
            if (big.bitLength() > MAX_INTEGER_BITS || new BigDecimal(big).precision() > MAX_INTEGER_DIGITS) {
                throw tooManyDigits(path, code);
            }
            return big;
        }
        if (number instanceof BigDecimal decimal) {
            // Decide integrality from the scale: toBigIntegerExact() on 1E+100000000 would compute 10^100000000.
            BigDecimal stripped = decimal.stripTrailingZeros();
            if (stripped.scale() <= 0) {
                if ((long) stripped.precision() - stripped.scale() > MAX_INTEGER_DIGITS) {
                    throw tooManyDigits(path, code);
                }
                return number(stripped.toBigIntegerExact(), path, code);
            }
            return finite(decimal.doubleValue(), path, code);
        }
        if (number instanceof Float f) {
            return finite(Double.parseDouble(Float.toString(f)), path, code);
        }
        if (number instanceof Double d) {
            return finite(d, path, code);
        }
        throw new InvalidInputException(
                code, path + " is a " + number.getClass().getName() + "; use a standard Java number type");
    }

    private static InvalidInputException tooManyDigits(String path, ErrorCode code) {
        return new InvalidInputException(
                code, path + " is an integer of more than " + MAX_INTEGER_DIGITS + " digits; store it as a string");
    }

    private static Double finite(double d, String path, ErrorCode code) {
        if (!Double.isFinite(d)) {
            throw new InvalidInputException(code, path + " is " + d + "; JSON numbers are finite");
        }
        return d;
    }

    /**
     * JSON equality of two normalized values: numbers compare by numeric value (1 equals 1.0), objects by entries,
     * arrays element by element.
     */
    public static boolean jsonEquals(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return decimal(x).compareTo(decimal(y)) == 0;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !jsonEquals(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!jsonEquals(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    private static BigDecimal decimal(Number n) {
        if (n instanceof Long l) {
            return BigDecimal.valueOf(l);
        }
        if (n instanceof BigInteger b) {
            return new BigDecimal(b);
        }
        return BigDecimal.valueOf(n.doubleValue());
    }

    private static String shorten(String key) {
        return key.length() <= 40 ? key : key.substring(0, 40) + "...";
    }
}
