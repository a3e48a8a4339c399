package io.agentmemory.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * Wraps a real {@link DataSource} and records the SQL of every statement executed through it: an
 * {@code executeQuery}, {@code executeUpdate}, {@code execute} or {@code executeBatch} is one entry (one round trip on
 * PostgreSQL, where pgjdbc sends a batch at once). Nothing is faked: every call reaches the database. Thread-safe.
 */
final class StatementLog {
    private final List<String> executed = new ArrayList<>();
    private final List<Execution> executions = new ArrayList<>();
    private final DataSource dataSource;

    StatementLog(DataSource real) {
        this.dataSource = (DataSource) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    Object result = invoke(real, method, args);
                    return method.getName().equals("getConnection") ? connection((Connection) result) : result;
                });
    }

    DataSource dataSource() {
        return dataSource;
    }

    synchronized List<String> executed() {
        return List.copyOf(executed);
    }

    /** The executions with their parameters, to replay (for EXPLAIN). */
    synchronized List<Execution> executions() {
        return List.copyOf(executions);
    }

    synchronized void clear() {
        executed.clear();
        executions.clear();
    }

    private synchronized void record(String sql, Map<Integer, Object[]> setters) {
        executed.add(sql);
        executions.add(new Execution(sql, new TreeMap<>(setters)));
    }

    /**
     * One execution: its SQL and, by parameter index, the setter called ({@code args[0]} its name, the rest its
     * arguments after the index).
     */
    record Execution(String sql, Map<Integer, Object[]> setters) {
        /** Prepares {@code prefix + sql} on {@code connection} with the same parameters. */
        PreparedStatement replay(Connection connection, String prefix) throws Exception {
            PreparedStatement ps = connection.prepareStatement(prefix + sql);
            for (Map.Entry<Integer, Object[]> e : setters.entrySet()) {
                Object[] call = e.getValue();
                String name = (String) call[0];
                Object value = call[1];
                if (value instanceof java.sql.Array array) {
                    ps.setArray(
                            e.getKey(), connection.createArrayOf(array.getBaseTypeName(), (Object[]) array.getArray()));
                } else if (name.equals("setNull")) {
                    ps.setNull(e.getKey(), (Integer) value);
                } else if (call.length == 3) {
                    ps.setObject(e.getKey(), value, (Integer) call[2]);
                } else {
                    ps.setObject(e.getKey(), value);
                }
            }
            return ps;
        }
    }

    private Connection connection(Connection real) {
        InvocationHandler handler = (proxy, method, args) -> {
            Object result = invoke(real, method, args);
            if (method.getName().equals("prepareStatement") && result instanceof PreparedStatement ps) {
                return statement(ps, (String) args[0]);
            }
            if (method.getName().equals("unwrap") || method.getName().equals("isWrapperFor")) {
                return result;
            }
            return result;
        };
        return (Connection)
                Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class}, handler);
    }

    private PreparedStatement statement(PreparedStatement real, String sql) {
        Map<Integer, Object[]> setters = new HashMap<>();
        return (PreparedStatement) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {PreparedStatement.class}, (proxy, method, args) -> {
                    String name = method.getName();
                    if (name.startsWith("execute")) {
                        record(sql, setters);
                    } else if (name.startsWith("set")
                            && args != null
                            && args.length >= 2
                            && args[0] instanceof Integer i) {
                        Object[] call = new Object[args.length];
                        call[0] = name;
                        System.arraycopy(args, 1, call, 1, args.length - 1);
                        setters.put(i, call);
                    }
                    return invoke(real, method, args);
                });
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
