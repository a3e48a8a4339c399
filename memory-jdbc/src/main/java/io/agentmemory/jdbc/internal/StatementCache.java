package io.agentmemory.jdbc.internal;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Prepared statements kept per physical connection across pool check-outs, for databases that parse and plan a
 * statement on every {@code prepareStatement} (H2 caches only some statements itself, none with a subquery, and
 * preparing was measured at two fifths of an embedded agent turn).
 *
 * <p>{@link #wrap} gives a view of a pooled connection whose {@code prepareStatement(String)} returns the physical
 * connection's statement for that text, prepared once. Closing such a statement clears its parameters and batch and
 * keeps it open for the next check-out; everything else (transactions, other methods) goes to the pooled connection
 * as before. A statement is only ever used by the thread that holds its connection, as the pool hands a connection
 * to one thread at a time. At most {@value #PER_CONNECTION} statements are kept a connection, the least recently
 * used closed first; a connection the pool closes takes its statements with it, and its entry goes with the
 * connection (weak keys). Thread-safe.
 */
final class StatementCache {
    static final int PER_CONNECTION = 64;

    private final Class<? extends Connection> physicalType;
    private final Map<Connection, Map<String, PreparedStatement>> byConnection =
            Collections.synchronizedMap(new WeakHashMap<>());

    /** @param physicalType the driver's connection class, which the pool's connections unwrap to */
    StatementCache(Class<? extends Connection> physicalType) {
        this.physicalType = physicalType;
    }

    /** {@code pooled}, with statements reused when it unwraps to the driver's connection; else {@code pooled}. */
    Connection wrap(Connection pooled) throws SQLException {
        if (!physicalType.isInstance(pooled) && !pooled.isWrapperFor(physicalType)) {
            return pooled;
        }
        Connection physical = physicalType.isInstance(pooled) ? pooled : pooled.unwrap(physicalType);
        Map<String, PreparedStatement> statements = byConnection.computeIfAbsent(physical, k -> new Lru());
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("prepareStatement")
                    && args != null
                    && args.length == 1
                    && args[0] instanceof String text) {
                return statement(physical, statements, text);
            }
            return forward(pooled, method, args);
        };
        return (Connection) Proxy.newProxyInstance(
                StatementCache.class.getClassLoader(), new Class<?>[] {Connection.class}, handler);
    }

    private static PreparedStatement statement(
            Connection physical, Map<String, PreparedStatement> statements, String text) throws SQLException {
        PreparedStatement ps = statements.get(text);
        if (ps == null || ps.isClosed()) {
            ps = physical.prepareStatement(text);
            statements.put(text, ps);
        }
        PreparedStatement kept = ps;
        InvocationHandler handler = (proxy, method, args) -> {
            switch (method.getName()) {
                case "close" -> {
                    release(statements, text, kept);
                    return null;
                }
                case "isClosed" -> {
                    return kept.isClosed();
                }
                default -> {
                    return forward(kept, method, args);
                }
            }
        };
        return (PreparedStatement) Proxy.newProxyInstance(
                StatementCache.class.getClassLoader(), new Class<?>[] {PreparedStatement.class}, handler);
    }

    /** Readies a statement for its next use, or closes and drops it if it cannot be. */
    private static void release(Map<String, PreparedStatement> statements, String text, PreparedStatement ps) {
        try {
            ps.clearBatch();
            ps.clearParameters();
        } catch (SQLException e) {
            statements.remove(text, ps);
            try {
                ps.close();
            } catch (SQLException ignored) {
                // a statement that fails to close is left to its connection
            }
        }
    }

    private static Object forward(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** One connection's statements, least recently used first; only its holder's thread touches it. */
    private static final class Lru extends LinkedHashMap<String, PreparedStatement> {
        private static final long serialVersionUID = 1L;

        Lru() {
            super(16, 0.75f, true);
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
            if (size() <= PER_CONNECTION) {
                return false;
            }
            try {
                eldest.getValue().close();
            } catch (SQLException ignored) {
                // a statement that fails to close is left to its connection
            }
            return true;
        }
    }
}
