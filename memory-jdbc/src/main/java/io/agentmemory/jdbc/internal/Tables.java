package io.agentmemory.jdbc.internal;

import java.util.Optional;

/**
 * The quoted names of the backend's tables and indexes, from a validated schema and table prefix (lower-case ASCII
 * letters, digits and {@code _}; see {@code JdbcSettings}). Quoting keeps them exactly as given on every database.
 * Immutable and thread-safe.
 *
 * @param schema the schema, if not the connection's default
 * @param prefix the table prefix
 */
public record Tables(Optional<String> schema, String prefix) {
    public Tables {
        schema.ifPresent(s -> check(s, 63));
        check(prefix, 30);
    }

    private static void check(String identifier, int max) {
        // JdbcSettings validated these already; this guards every other way in.
        if (identifier.length() > max || !identifier.matches("([a-z_][a-z0-9_]*)?")) {
            throw new IllegalArgumentException("not a valid identifier: " + identifier.length() + " characters");
        }
    }

    /** The quoted schema name, if any. */
    public Optional<String> quotedSchema() {
        return schema.map(s -> '"' + s + '"');
    }

    /** A quoted, schema-qualified table name. */
    public String table(String name) {
        String quoted = '"' + prefix + name + '"';
        return schema.map(s -> '"' + s + "\"." + quoted).orElse(quoted);
    }

    /** A quoted index name (indexes live in their table's schema). */
    public String index(String name) {
        return '"' + prefix + name + '"';
    }

    /** A quoted index name qualified by the schema, as {@code DROP INDEX} needs it. */
    public String qualifiedIndex(String name) {
        return schema.map(s -> '"' + s + "\"." + index(name)).orElse(index(name));
    }

    /** The sessions table: one row per session with its sequence counter and message counters. */
    public String sessions() {
        return table("sessions");
    }

    /** The messages table. */
    public String messages() {
        return table("messages");
    }

    /** The applied schema versions. */
    public String versions() {
        return table("schema_version");
    }

    /** Names this set of tables in logs and errors, e.g. {@code memory.agentmemory_*}. */
    public String describe() {
        return schema.map(s -> s + ".").orElse("") + prefix + "*";
    }
}
