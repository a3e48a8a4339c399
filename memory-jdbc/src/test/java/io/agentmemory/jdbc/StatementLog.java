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
            return bind(connection, connection.prepareStatement(prefix + sql), setters);
        }

        /**
         * PostgreSQL: the plan the server runs this statement with as a prepared statement under the settings of the
         * backend's own pools ({@link JdbcMemory#POSTGRES_SETTINGS}: a generic plan, no sequential scans), executed with
         * {@code EXPLAIN (ANALYZE)}: its lines. (An {@code EXPLAIN} of the statement itself plans it for the values
         * given, which shows a custom plan.) Run it in a transaction that is rolled back.
         */
        List<String> genericPlan(Connection connection, String name) throws Exception {
            StringBuilder numbered = new StringBuilder();
            int n = 0;
            for (char ch : sql.toCharArray()) {
                if (ch == '?') {
                    numbered.append('$').append(++n);
                } else {
                    numbered.append(ch);
                }
            }
            if (n != setters.size()) {
                throw new IllegalStateException(
                        sql + " has " + n + " placeholders but " + setters.size() + " parameters were set");
            }
            try (java.sql.Statement st = connection.createStatement()) {
                for (String setting : JdbcMemory.POSTGRES_SETTINGS) {
                    st.execute("SET LOCAL " + setting);
                }
                st.execute("PREPARE " + name + " AS " + numbered);
            }
            // Each argument cast to the type the server inferred for it; nulls written out, as a null parameter of no
            // given type cannot be typed inside EXPLAIN.
            List<String> types = new ArrayList<>();
            try (PreparedStatement ps = connection.prepareStatement(
                    "SELECT CAST(unnest(parameter_types) AS text) FROM pg_prepared_statements WHERE name = ?")) {
                ps.setString(1, name);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        types.add(rs.getString(1));
                    }
                }
            }
            // EXECUTE inside EXPLAIN takes no parameters: the values are written out as literals.
            List<String> args = new ArrayList<>();
            for (Map.Entry<Integer, Object[]> e : setters.entrySet()) {
                Object[] call = e.getValue();
                Object value = call[0].equals("setNull") ? null : call[1];
                args.add("CAST(" + literal(value) + " AS " + types.get(e.getKey() - 1) + ")");
            }
            List<String> plan = new ArrayList<>();
            try (java.sql.Statement st = connection.createStatement();
                    java.sql.ResultSet rs = st.executeQuery("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE " + name
                            + "(" + String.join(", ", args) + ")")) {
                while (rs.next()) {
                    plan.add(rs.getString(1));
                }
            }
            return plan;
        }

        private static String literal(Object value) throws Exception {
            if (value == null) {
                return "NULL";
            }
            if (value instanceof Number || value instanceof Boolean) {
                return value.toString();
            }
            if (value instanceof java.sql.Array array) {
                List<String> elements = new ArrayList<>();
                for (Object element : (Object[]) array.getArray()) {
                    elements.add(literal(element));
                }
                return "ARRAY[" + String.join(", ", elements) + "]";
            }
            return "'" + value.toString().replace("'", "''") + "'";
        }

        private PreparedStatement bind(Connection connection, PreparedStatement ps, Map<Integer, Object[]> setters)
                throws Exception {
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
