package io.agentmemory.jdbc;

import io.agentmemory.ConfigurationException;
import io.agentmemory.core.config.Durations;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The settings of the {@code jdbc} backend. Under {@code memory.jdbc.} in configuration:
 *
 * <table>
 *   <caption>jdbc settings</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>url</td><td>the JDBC URL: {@code jdbc:postgresql:...} or {@code jdbc:h2:...}</td><td>required</td></tr>
 *   <tr><td>user</td><td>the database user</td><td>none (the URL's or the driver's)</td></tr>
 *   <tr><td>password</td><td>the user's password; a secret, never logged or shown</td><td>none</td></tr>
 *   <tr><td>pool-size</td><td>the most connections the pool holds</td><td>10</td></tr>
 *   <tr><td>connection-timeout</td><td>how long a call waits for a connection before failing with
 *       {@link io.agentmemory.BackendUnavailableException}: 500ms, 5s, PT5S</td><td>5s</td></tr>
 *   <tr><td>schema</td><td>the schema of the tables; created by the migrations if missing</td>
 *       <td>the connection's default</td></tr>
 *   <tr><td>table-prefix</td><td>the prefix of every table and index name</td><td>agentmemory_</td></tr>
 *   <tr><td>migrate</td><td>whether to apply missing schema migrations at start; when false, a schema that is not
 *       up to date fails at start</td><td>true</td></tr>
 *   <tr><td>window-cache</td><td>how many decoded messages this memory keeps for its context windows, across
 *       sessions (0: none). A window then reads only the sequence numbers and token counts of messages it holds,
 *       not their text; see the module's README</td><td>10000</td></tr>
 * </table>
 *
 * <p>{@code schema} and {@code table-prefix} are identifiers of lower-case ASCII letters, digits and {@code _}, not
 * starting with a digit (the schema at most 63 characters, the prefix at most 30, possibly empty). The URL is treated
 * as a secret too, since JDBC URLs may carry a password: {@link #toString()} shows it without its parameters.
 * Immutable and thread-safe.
 */
public final class JdbcSettings {
    public static final String URL = "url";
    public static final String USER = "user";
    public static final String PASSWORD = "password";
    public static final String POOL_SIZE = "pool-size";
    public static final String CONNECTION_TIMEOUT = "connection-timeout";
    public static final String SCHEMA = "schema";
    public static final String TABLE_PREFIX = "table-prefix";
    public static final String MIGRATE = "migrate";
    public static final String WINDOW_CACHE = "window-cache";

    /** Every key, relative to {@code memory.jdbc.}. */
    public static final Set<String> KEYS =
            Set.of(URL, USER, PASSWORD, POOL_SIZE, CONNECTION_TIMEOUT, SCHEMA, TABLE_PREFIX, MIGRATE, WINDOW_CACHE);

    /** The keys whose values are never logged or shown. */
    public static final Set<String> SECRET_KEYS = Set.of(PASSWORD, URL);

    public static final String DEFAULT_TABLE_PREFIX = "agentmemory_";
    public static final int DEFAULT_POOL_SIZE = 10;
    public static final int DEFAULT_WINDOW_CACHE = 10_000;
    public static final int MAX_WINDOW_CACHE = 10_000_000;
    public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(5);

    private static final String KEY_PREFIX = "memory.jdbc.";
    private static final Pattern SCHEMA_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final Pattern PREFIX_NAME = Pattern.compile("([a-z_][a-z0-9_]{0,29})?");

    private final String url;
    private final String user;
    private final String password;
    private final int poolSize;
    private final Duration connectionTimeout;
    private final String schema;
    private final String tablePrefix;
    private final boolean migrate;
    private final int windowCache;

    private JdbcSettings(Builder b) {
        this.url = b.url == null || b.url.isBlank() ? null : b.url.strip();
        this.user = b.user == null || b.user.isEmpty() ? null : b.user;
        this.password = b.password == null || b.password.isEmpty() ? null : b.password;
        if (b.poolSize < 1 || b.poolSize > 1000) {
            throw new ConfigurationException(KEY_PREFIX + POOL_SIZE + " is " + b.poolSize + "; it must be 1 to 1000");
        }
        this.poolSize = b.poolSize;
        if (b.connectionTimeout.compareTo(Duration.ofMillis(250)) < 0
                || b.connectionTimeout.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigurationException(
                    KEY_PREFIX + CONNECTION_TIMEOUT + " is " + b.connectionTimeout + "; it must be 250ms to 1h");
        }
        this.connectionTimeout = b.connectionTimeout;
        if (b.schema != null && !SCHEMA_NAME.matcher(b.schema).matches()) {
            throw new ConfigurationException(KEY_PREFIX + SCHEMA + " must be 1 to 63 lower-case ASCII letters, digits"
                    + " and '_', not starting with a digit" + shown(b.schema));
        }
        this.schema = b.schema;
        if (!PREFIX_NAME.matcher(b.tablePrefix).matches()) {
            throw new ConfigurationException(KEY_PREFIX + TABLE_PREFIX + " must be at most 30 lower-case ASCII"
                    + " letters, digits and '_', not starting with a digit" + shown(b.tablePrefix));
        }
        this.tablePrefix = b.tablePrefix;
        this.migrate = b.migrate;
        if (b.windowCache < 0 || b.windowCache > MAX_WINDOW_CACHE) {
            throw new ConfigurationException(KEY_PREFIX + WINDOW_CACHE + " is " + b.windowCache + "; it must be 0 to "
                    + MAX_WINDOW_CACHE + " messages");
        }
        this.windowCache = b.windowCache;
    }

    /** Shows a rejected identifier when it is short and printable; identifiers are not secrets. */
    private static String shown(String value) {
        return value.length() <= 64 && value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)
                ? ", not '" + value + "'"
                : "";
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The settings in {@code config}, keys relative to {@code memory.jdbc.}.
     *
     * @throws ConfigurationException naming the first unknown or invalid setting
     */
    public static JdbcSettings fromConfig(Map<String, String> config) {
        for (String key : config.keySet()) {
            if (!KEYS.contains(key)) {
                throw new ConfigurationException("unknown setting '" + KEY_PREFIX + key + "'; the jdbc backend accepts "
                        + new java.util.TreeSet<>(KEYS));
            }
        }
        Builder b = builder();
        value(config, URL).ifPresent(b::url);
        value(config, USER).ifPresent(b::user);
        Optional.ofNullable(config.get(PASSWORD)).ifPresent(b::password);
        value(config, POOL_SIZE).ifPresent(v -> b.poolSize(integer(POOL_SIZE, v)));
        value(config, CONNECTION_TIMEOUT).ifPresent(v -> b.connectionTimeout(duration(CONNECTION_TIMEOUT, v)));
        value(config, SCHEMA).ifPresent(b::schema);
        Optional.ofNullable(config.get(TABLE_PREFIX)).map(String::strip).ifPresent(b::tablePrefix);
        value(config, MIGRATE).ifPresent(v -> b.migrate(bool(MIGRATE, v)));
        value(config, WINDOW_CACHE).ifPresent(v -> b.windowCache(integer(WINDOW_CACHE, v)));
        return b.build();
    }

    private static Optional<String> value(Map<String, String> config, String key) {
        return Optional.ofNullable(config.get(key)).map(String::strip).filter(v -> !v.isEmpty());
    }

    private static int integer(String key, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ConfigurationException(KEY_PREFIX + key + " must be a whole number" + shown(v));
        }
    }

    private static boolean bool(String key, String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new ConfigurationException(KEY_PREFIX + key + " must be true or false" + shown(v));
        };
    }

    private static Duration duration(String key, String v) {
        return Durations.parse(KEY_PREFIX + key, v);
    }

    /** The JDBC URL, if set; a secret (it may carry a password). */
    public Optional<String> url() {
        return Optional.ofNullable(url);
    }

    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    /** The password, if set; a secret. */
    public Optional<String> password() {
        return Optional.ofNullable(password);
    }

    public int poolSize() {
        return poolSize;
    }

    public Duration connectionTimeout() {
        return connectionTimeout;
    }

    /** The schema, if set; otherwise tables live in the connection's default schema. */
    public Optional<String> schema() {
        return Optional.ofNullable(schema);
    }

    public String tablePrefix() {
        return tablePrefix;
    }

    public boolean migrate() {
        return migrate;
    }

    /** How many decoded messages the memory keeps for context windows; 0 for none. */
    public int windowCache() {
        return windowCache;
    }

    /**
     * {@code url} without what may hold credentials: no user information, parameters ({@code ?...}) or settings
     * ({@code ;...}). For logs and error messages.
     */
    public static String redact(String url) {
        if (url == null) {
            return "(no url)";
        }
        String s = url;
        int cut = s.length();
        for (char c : new char[] {'?', ';', '&'}) {
            int i = s.indexOf(c);
            if (i >= 0 && i < cut) {
                cut = i;
            }
        }
        s = s.substring(0, cut);
        int at = s.lastIndexOf('@');
        int slashes = s.indexOf("//");
        if (at >= 0 && slashes >= 0 && at > slashes) {
            s = s.substring(0, slashes + 2) + s.substring(at + 1);
        }
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JdbcSettings s
                && Objects.equals(url, s.url)
                && Objects.equals(user, s.user)
                && Objects.equals(password, s.password)
                && poolSize == s.poolSize
                && connectionTimeout.equals(s.connectionTimeout)
                && Objects.equals(schema, s.schema)
                && tablePrefix.equals(s.tablePrefix)
                && migrate == s.migrate
                && windowCache == s.windowCache;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                url, user, password, poolSize, connectionTimeout, schema, tablePrefix, migrate, windowCache);
    }

    /** The settings with the URL redacted and the password masked. */
    @Override
    public String toString() {
        return "JdbcSettings[url=" + redact(url) + ", user=" + user + ", password="
                + (password == null ? "none" : "****")
                + ", poolSize=" + poolSize + ", connectionTimeout=" + connectionTimeout + ", schema=" + schema
                + ", tablePrefix=" + tablePrefix + ", migrate=" + migrate + ", windowCache=" + windowCache + "]";
    }

    /** Builds {@link JdbcSettings}; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private String url;
        private String user;
        private String password;
        private int poolSize = DEFAULT_POOL_SIZE;
        private Duration connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
        private String schema;
        private String tablePrefix = DEFAULT_TABLE_PREFIX;
        private boolean migrate = true;
        private int windowCache = DEFAULT_WINDOW_CACHE;

        private Builder() {}

        public Builder url(String url) {
            this.url = url;
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        public Builder password(String password) {
            this.password = password;
            return this;
        }

        public Builder poolSize(int poolSize) {
            this.poolSize = poolSize;
            return this;
        }

        public Builder connectionTimeout(Duration connectionTimeout) {
            this.connectionTimeout = Objects.requireNonNull(connectionTimeout, "connectionTimeout");
            return this;
        }

        /** The schema; null for the connection's default. */
        public Builder schema(String schema) {
            this.schema = schema;
            return this;
        }

        public Builder tablePrefix(String tablePrefix) {
            this.tablePrefix = Objects.requireNonNull(tablePrefix, "tablePrefix");
            return this;
        }

        public Builder migrate(boolean migrate) {
            this.migrate = migrate;
            return this;
        }

        /** How many decoded messages the memory keeps for context windows, 0 to 10,000,000; 0 for none. */
        public Builder windowCache(int messages) {
            this.windowCache = messages;
            return this;
        }

        /**
         * The settings.
         *
         * @throws ConfigurationException naming the invalid setting
         */
        public JdbcSettings build() {
            return new JdbcSettings(this);
        }
    }
}
