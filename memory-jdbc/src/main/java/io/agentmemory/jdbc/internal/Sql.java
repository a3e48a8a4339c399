package io.agentmemory.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A SQL statement with named parameters written {@code {name}}, turned into JDBC's {@code ?} once. Every value is a
 * bind parameter; nothing a caller gives is ever part of the SQL text. Immutable and thread-safe.
 */
public final class Sql {
    private static final Pattern PARAMETER = Pattern.compile("\\{([a-z_][a-z0-9_]*)}");

    private final String text;
    private final List<String> names;

    private Sql(String text, List<String> names) {
        this.text = text;
        this.names = List.copyOf(names);
    }

    /** Parses {@code sql}, whose parameters are written {@code {name}}. */
    public static Sql of(String sql) {
        Matcher m = PARAMETER.matcher(sql);
        StringBuilder out = new StringBuilder(sql.length());
        List<String> names = new ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
            m.appendReplacement(out, "?");
        }
        m.appendTail(out);
        return new Sql(out.toString(), names);
    }

    /** The JDBC text, with {@code ?} for each parameter. */
    public String text() {
        return text;
    }

    /** A statement of this SQL on {@code connection} with {@code params} bound. */
    public PreparedStatement prepare(Connection connection, Params params) throws SQLException {
        PreparedStatement ps = connection.prepareStatement(text);
        try {
            bind(ps, params);
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    /** Binds {@code params} to {@code ps} (for batches). */
    public void bind(PreparedStatement ps, Params params) throws SQLException {
        for (int i = 0; i < names.size(); i++) {
            params.bind(ps, i + 1, names.get(i));
        }
    }

    @Override
    public String toString() {
        return text;
    }

    /** Named values for a {@link Sql}. Not thread-safe. */
    public static final class Params {
        private final Map<String, Object> values = new HashMap<>();
        private final Map<String, Integer> nullTypes = new HashMap<>();

        /** A copy, to add more values to without changing this one. */
        public Params copy() {
            Params p = new Params();
            p.values.putAll(values);
            p.nullTypes.putAll(nullTypes);
            return p;
        }

        public Params set(String name, Object value) {
            values.put(name, value);
            return this;
        }

        /** Sets {@code name} to SQL NULL of {@code sqlType} ({@link Types}). */
        public Params setNull(String name, int sqlType) {
            values.put(name, null);
            nullTypes.put(name, sqlType);
            return this;
        }

        /** Sets {@code name} to an instant as a timestamp with time zone, in UTC. */
        public Params instant(String name, Instant instant) {
            return set(name, OffsetDateTime.ofInstant(instant, ZoneOffset.UTC));
        }

        void bind(PreparedStatement ps, int index, String name) throws SQLException {
            if (!values.containsKey(name)) {
                throw new IllegalStateException("SQL parameter {" + name + "} is not set");
            }
            Object v = values.get(name);
            if (v == null) {
                ps.setNull(index, nullTypes.getOrDefault(name, Types.VARCHAR));
            } else if (v instanceof String s) {
                ps.setString(index, s);
            } else if (v instanceof Long l) {
                ps.setLong(index, l);
            } else if (v instanceof Integer n) {
                ps.setInt(index, n);
            } else if (v instanceof Boolean b) {
                ps.setBoolean(index, b);
            } else if (v instanceof byte[] bytes) {
                ps.setBytes(index, bytes);
            } else if (v instanceof java.sql.Array array) {
                ps.setArray(index, array);
            } else if (v instanceof OffsetDateTime t) {
                ps.setObject(index, t, Types.TIMESTAMP_WITH_TIMEZONE);
            } else {
                throw new IllegalStateException(
                        "unsupported SQL parameter type " + v.getClass().getName());
            }
        }
    }
}
