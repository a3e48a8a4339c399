package io.agentmemory.redis;

import io.agentmemory.ConfigurationException;
import io.agentmemory.core.config.Durations;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How to reach Redis and how to lay out the keys: the settings of the {@code redis} backend, read from
 * {@code memory.redis.*} by {@link #fromConfig(Map)} or built with {@link #builder()}. Immutable and thread-safe; the
 * passwords (the secret keys: {@link #SECRET_KEYS}) never appear in {@link #toString()} nor in any error message.
 *
 * <table>
 *   <caption>settings under memory.redis.</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>url</td><td>{@code redis://host:port[/database]}, or {@code rediss://} for TLS; with {@code cluster=true}
 *       one or more seed nodes separated by commas. No user or password in the URL: use the settings below. Not
 *       together with host/port.</td><td>redis://127.0.0.1:6379</td></tr>
 *   <tr><td>host, port</td><td>the server (standalone) or one seed node (cluster), instead of url</td>
 *       <td>127.0.0.1, 6379</td></tr>
 *   <tr><td>cluster</td><td>true for Redis Cluster (the url's nodes are seeds; the rest is discovered)</td>
 *       <td>false</td></tr>
 *   <tr><td>user</td><td>ACL user name</td><td>none (the default user)</td></tr>
 *   <tr><td>password</td><td>the password (secret)</td><td>none</td></tr>
 *   <tr><td>tls</td><td>true to connect with TLS; the server's certificate must chain to a trusted CA and name the
 *       host connected to (host name verification is always on)</td><td>true for rediss://, else false</td></tr>
 *   <tr><td>trust-store</td><td>TLS: the file of the CAs that verify the server, instead of the JVM's trust store
 *       (for a private CA); read once when the memory opens</td><td>none: the JVM's default TLS setup</td></tr>
 *   <tr><td>trust-store-type</td><td>PKCS12, JKS, or PEM (one or more X.509 certificates, as Redis's own
 *       {@code tls-ca-cert-file})</td><td>PKCS12</td></tr>
 *   <tr><td>trust-store-password</td><td>the trust store's password (secret); optional for a PKCS12 or JKS
 *       store whose certificates are not encrypted, never given for PEM</td><td>none</td></tr>
 *   <tr><td>key-store</td><td>TLS: the client's certificate and private key, for a server that asks for client
 *       certificates ({@code tls-auth-clients yes} or {@code optional})</td><td>none: no client certificate</td></tr>
 *   <tr><td>key-store-type</td><td>PKCS12 or JKS</td><td>PKCS12</td></tr>
 *   <tr><td>key-store-password</td><td>the key store's password (secret), also the private key's</td>
 *       <td>none</td></tr>
 *   <tr><td>database</td><td>the database number (standalone only; Redis Cluster has database 0 only)</td>
 *       <td>0, or the url's path</td></tr>
 *   <tr><td>key-prefix</td><td>put before every key; no '{', '}' or control characters</td><td>agentmemory:</td></tr>
 *   <tr><td>ttl</td><td>a session expires this long after its last write (the spec's ttl_hours); 30m, 24h, 7d or
 *       ISO-8601; at most 100,000 years</td><td>none: sessions never expire</td></tr>
 *   <tr><td>timeout</td><td>connect and read timeout; also the longest a write waits for a session that another
 *       writer has locked; at most 24 days</td><td>5s</td></tr>
 *   <tr><td>lock-lease</td><td>how long a writer may hold a session while its eviction listener runs; a writer
 *       that dies meanwhile blocks the session's writes this long at most; at most 24 days</td><td>30s</td></tr>
 *   <tr><td>window-cache</td><td>how many decoded messages the memory keeps of the context windows it read last,
 *       across sessions (0: none); the next window of such a session reads only the messages added since, and a
 *       window read in full decodes only messages whose stored bytes differ from the held ones</td><td>10000</td></tr>
 * </table>
 */
public final class RedisSettings {
    public static final String URL = "url";
    public static final String HOST = "host";
    public static final String PORT = "port";
    public static final String CLUSTER = "cluster";
    public static final String USER = "user";
    public static final String PASSWORD = "password";
    public static final String TLS = "tls";
    public static final String TRUST_STORE = "trust-store";
    public static final String TRUST_STORE_TYPE = "trust-store-type";
    public static final String TRUST_STORE_PASSWORD = "trust-store-password";
    public static final String KEY_STORE = "key-store";
    public static final String KEY_STORE_TYPE = "key-store-type";
    public static final String KEY_STORE_PASSWORD = "key-store-password";
    public static final String DATABASE = "database";
    public static final String KEY_PREFIX = "key-prefix";
    public static final String TTL = "ttl";
    public static final String TIMEOUT = "timeout";
    public static final String LOCK_LEASE = "lock-lease";
    public static final String WINDOW_CACHE = "window-cache";

    /** Every key {@link #fromConfig(Map)} accepts. */
    public static final Set<String> KEYS = Set.of(
            URL,
            HOST,
            PORT,
            CLUSTER,
            USER,
            PASSWORD,
            TLS,
            TRUST_STORE,
            TRUST_STORE_TYPE,
            TRUST_STORE_PASSWORD,
            KEY_STORE,
            KEY_STORE_TYPE,
            KEY_STORE_PASSWORD,
            DATABASE,
            KEY_PREFIX,
            TTL,
            TIMEOUT,
            LOCK_LEASE,
            WINDOW_CACHE);

    /** The keys whose values are secrets. */
    public static final Set<String> SECRET_KEYS = Set.of(PASSWORD, TRUST_STORE_PASSWORD, KEY_STORE_PASSWORD);

    /** The trust store types {@link #TRUST_STORE_TYPE} accepts. */
    public static final Set<String> TRUST_STORE_TYPES = Set.of("PKCS12", "JKS", "PEM");

    /** The key store types {@link #KEY_STORE_TYPE} accepts. */
    public static final Set<String> KEY_STORE_TYPES = Set.of("PKCS12", "JKS");

    public static final String DEFAULT_KEY_PREFIX = "agentmemory:";

    /**
     * The longest {@link #TTL}: the scripts compute expiries in milliseconds as Lua numbers, which are exact up to
     * 2^53 (about 285,000 years from 1970) and which Redis formats as whole numbers below 10^17 only.
     */
    static final Duration MAX_TTL = Duration.ofDays(36_500_000);

    /** The longest {@link #TIMEOUT} and {@link #LOCK_LEASE}: Jedis takes timeouts in int milliseconds. */
    private static final Duration MAX_WAIT = Duration.ofMillis(Integer.MAX_VALUE);

    private static final String PREFIX = "memory.redis.";

    private final List<Node> nodes;
    private final boolean cluster;
    private final String user;
    private final String password;
    private final boolean tls;
    private final Store trustStore;
    private final Store keyStore;
    private final int database;
    private final String keyPrefix;
    private final Duration ttl;
    private final Duration timeout;
    private final Duration lockLease;
    private final int windowCache;

    /**
     * A key store file for TLS: the trust store (CAs that verify the server) or the key store (the client's
     * certificate and key). The password never shows in {@link #toString()}. Immutable and thread-safe.
     *
     * @param path the file; read when the memory opens
     * @param type PKCS12, JKS, or (trust store only) PEM
     * @param password the store's password, if it has one (a secret)
     */
    public record Store(Path path, String type, Optional<String> password) {
        public Store {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(password, "password");
        }

        /** The store, or null when no file is given; the type defaults to PKCS12. */
        static Store of(
                String pathKey,
                String typeKey,
                String passwordKey,
                Set<String> types,
                Path path,
                String type,
                String password) {
            if (path == null) {
                if (type != null) {
                    throw new ConfigurationException(
                            PREFIX + typeKey + " is set without " + PREFIX + pathKey + "; give the file or omit both");
                }
                if (password != null) {
                    throw new ConfigurationException(PREFIX + passwordKey + " is set without " + PREFIX + pathKey
                            + "; give the file or omit the password");
                }
                return null;
            }
            if (path.toString().isBlank()) {
                throw new ConfigurationException(PREFIX + pathKey + " is blank; give a file or omit it");
            }
            String t = type == null ? "PKCS12" : type.strip().toUpperCase(Locale.ROOT);
            if (!types.contains(t)) {
                throw new ConfigurationException(PREFIX + typeKey + " must be one of " + new java.util.TreeSet<>(types)
                        + ", not '" + type + "'");
            }
            return new Store(path, t, Optional.ofNullable(password));
        }

        @Override
        public String toString() {
            return type + ":" + path + (password.isPresent() ? " (password ****)" : "");
        }
    }

    /**
     * One server address.
     *
     * @param host a host name or IP address
     * @param port a TCP port, 1 to 65535
     */
    public record Node(String host, int port) {
        public Node {
            if (host == null || host.isBlank()) {
                throw new ConfigurationException(PREFIX + HOST + " is blank; give a host name or address");
            }
            if (port < 1 || port > 65535) {
                throw new ConfigurationException(PREFIX + PORT + " is " + port + "; it must be 1 to 65535");
            }
        }

        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    private RedisSettings(Builder b) {
        if (b.nodes.isEmpty()) {
            throw new ConfigurationException("no Redis node is given; set " + PREFIX + URL);
        }
        if (!b.cluster && b.nodes.size() > 1) {
            throw new ConfigurationException(PREFIX + URL + " names " + b.nodes.size()
                    + " nodes, but only Redis Cluster takes several; set " + PREFIX + CLUSTER + "=true or give one");
        }
        if (b.cluster && b.database != 0) {
            throw new ConfigurationException(
                    PREFIX + DATABASE + " is " + b.database + ", but Redis Cluster has database 0 only");
        }
        if (b.database < 0) {
            throw new ConfigurationException(PREFIX + DATABASE + " is " + b.database + "; it must be >= 0");
        }
        checkPrefix(b.keyPrefix);
        if (b.ttl != null && (b.ttl.isNegative() || b.ttl.isZero())) {
            throw new ConfigurationException(PREFIX + TTL + " is " + b.ttl + "; it must be positive");
        }
        if (b.ttl != null && b.ttl.compareTo(MAX_TTL) > 0) {
            throw new ConfigurationException(PREFIX + TTL + " is too long; at most " + MAX_TTL.toDays()
                    + " days (100,000 years) are allowed; omit it for sessions that never expire");
        }
        checkPositive(TIMEOUT, b.timeout);
        checkPositive(LOCK_LEASE, b.lockLease);
        if (b.lockLease.compareTo(MAX_WAIT) > 0) {
            throw new ConfigurationException(
                    PREFIX + LOCK_LEASE + " is " + b.lockLease + "; at most 24 days are allowed");
        }
        if (b.windowCache < 0 || b.windowCache > 10_000_000) {
            throw new ConfigurationException(
                    PREFIX + WINDOW_CACHE + " is " + b.windowCache + "; it must be 0 to 10000000 messages");
        }
        if (b.timeout.compareTo(MAX_WAIT) > 0) {
            throw new ConfigurationException(PREFIX + TIMEOUT + " is " + b.timeout + "; at most 24 days are allowed");
        }
        if (b.user != null && b.user.isBlank()) {
            throw new ConfigurationException(PREFIX + USER + " is blank; omit it for the default user");
        }
        Store trust = Store.of(
                TRUST_STORE,
                TRUST_STORE_TYPE,
                TRUST_STORE_PASSWORD,
                TRUST_STORE_TYPES,
                b.trustStore,
                b.trustStoreType,
                b.trustStorePassword);
        Store key = Store.of(
                KEY_STORE,
                KEY_STORE_TYPE,
                KEY_STORE_PASSWORD,
                KEY_STORE_TYPES,
                b.keyStore,
                b.keyStoreType,
                b.keyStorePassword);
        if (!b.tls && (trust != null || key != null)) {
            throw new ConfigurationException(PREFIX + (trust != null ? TRUST_STORE : KEY_STORE)
                    + " is set but TLS is off; use a rediss:// url or set " + PREFIX + TLS + "=true");
        }
        if (trust != null && trust.type().equals("PEM") && trust.password().isPresent()) {
            throw new ConfigurationException(
                    PREFIX + TRUST_STORE_PASSWORD + " is set, but a PEM trust store has no password; omit it");
        }
        this.nodes = List.copyOf(b.nodes);
        this.cluster = b.cluster;
        this.user = b.user;
        this.password = b.password;
        this.tls = b.tls;
        this.trustStore = trust;
        this.keyStore = key;
        this.database = b.database;
        this.keyPrefix = b.keyPrefix;
        this.ttl = b.ttl;
        this.timeout = b.timeout;
        this.lockLease = b.lockLease;
        this.windowCache = b.windowCache;
    }

    private static void checkPrefix(String prefix) {
        if (prefix == null) {
            throw new ConfigurationException(PREFIX + KEY_PREFIX + " is missing");
        }
        if (prefix.length() > 256) {
            throw new ConfigurationException(
                    PREFIX + KEY_PREFIX + " is " + prefix.length() + " characters long; at most 256 are allowed");
        }
        for (int i = 0; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            if (c == '{' || c == '}' || Character.isISOControl(c) || Character.isSurrogate(c)) {
                throw new ConfigurationException(PREFIX + KEY_PREFIX
                        + " may not contain '{', '}', control characters or surrogates (found at index " + i
                        + "): braces would change the keys' cluster hash slot");
            }
        }
    }

    private static void checkPositive(String key, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new ConfigurationException(PREFIX + key + " is " + d + "; it must be positive");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The settings in {@code config}, keys without the {@code memory.redis.} prefix.
     *
     * @throws ConfigurationException naming the first unknown or invalid setting (never showing the password)
     */
    public static RedisSettings fromConfig(Map<String, String> config) {
        Objects.requireNonNull(config, "config");
        for (String key : new java.util.TreeSet<>(config.keySet())) {
            if (!KEYS.contains(key)) {
                throw new ConfigurationException("unknown setting '" + PREFIX + key + "'; the redis backend accepts "
                        + new java.util.TreeSet<>(KEYS));
            }
        }
        Builder b = builder();
        Optional<String> url = get(config, URL);
        Optional<String> host = get(config, HOST);
        Optional<String> port = get(config, PORT);
        if (url.isPresent() && (host.isPresent() || port.isPresent())) {
            throw new ConfigurationException(
                    "set either " + PREFIX + URL + " or " + PREFIX + HOST + "/" + PREFIX + PORT + ", not both");
        }
        Boolean tlsFromUrl = null;
        Integer databaseFromUrl = null;
        if (url.isPresent()) {
            List<Node> nodes = new ArrayList<>();
            for (String part : url.get().split(",")) {
                ParsedUrl parsed = parseUrl(part.strip());
                if (tlsFromUrl != null && tlsFromUrl != parsed.tls) {
                    throw new ConfigurationException(
                            PREFIX + URL + " mixes redis:// and rediss:// nodes; use one scheme for all");
                }
                tlsFromUrl = parsed.tls;
                if (parsed.database != null) {
                    databaseFromUrl = parsed.database;
                }
                nodes.add(parsed.node);
            }
            b.nodes(nodes);
        } else if (host.isPresent() || port.isPresent()) {
            b.nodes(List.of(new Node(
                    host.orElse("127.0.0.1"), port.map(v -> integer(PORT, v)).orElse(6379))));
        }
        get(config, CLUSTER).map(v -> bool(CLUSTER, v)).ifPresent(b::cluster);
        get(config, USER).ifPresent(b::user);
        Optional.ofNullable(config.get(PASSWORD)).filter(v -> !v.isEmpty()).ifPresent(b::password);
        Optional<Boolean> tls = get(config, TLS).map(v -> bool(TLS, v));
        if (tls.isPresent() && tlsFromUrl != null && tls.get() != tlsFromUrl) {
            throw new ConfigurationException(PREFIX + TLS + " is " + tls.get() + " but " + PREFIX + URL + " uses "
                    + (tlsFromUrl ? "rediss://" : "redis://") + "; make them agree");
        }
        b.tls(tls.orElse(tlsFromUrl != null && tlsFromUrl));
        get(config, TRUST_STORE).map(v -> path(TRUST_STORE, v)).ifPresent(b::trustStore);
        get(config, TRUST_STORE_TYPE).ifPresent(b::trustStoreType);
        Optional.ofNullable(config.get(TRUST_STORE_PASSWORD))
                .filter(v -> !v.isEmpty())
                .ifPresent(b::trustStorePassword);
        get(config, KEY_STORE).map(v -> path(KEY_STORE, v)).ifPresent(b::keyStore);
        get(config, KEY_STORE_TYPE).ifPresent(b::keyStoreType);
        Optional.ofNullable(config.get(KEY_STORE_PASSWORD))
                .filter(v -> !v.isEmpty())
                .ifPresent(b::keyStorePassword);
        Optional<Integer> database = get(config, DATABASE).map(v -> integer(DATABASE, v));
        if (database.isPresent() && databaseFromUrl != null && !database.get().equals(databaseFromUrl)) {
            throw new ConfigurationException(
                    PREFIX + DATABASE + " and the database in " + PREFIX + URL + " differ; give it once");
        }
        b.database(database.orElse(databaseFromUrl == null ? 0 : databaseFromUrl));
        if (config.containsKey(KEY_PREFIX)) {
            b.keyPrefix(config.get(KEY_PREFIX));
        }
        get(config, TTL).map(v -> duration(TTL, v)).ifPresent(b::ttl);
        get(config, TIMEOUT).map(v -> duration(TIMEOUT, v)).ifPresent(b::timeout);
        get(config, LOCK_LEASE).map(v -> duration(LOCK_LEASE, v)).ifPresent(b::lockLease);
        get(config, WINDOW_CACHE).map(v -> integer(WINDOW_CACHE, v)).ifPresent(b::windowCache);
        return b.build();
    }

    private record ParsedUrl(Node node, boolean tls, Integer database) {}

    private static ParsedUrl parseUrl(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            // The text is not shown: a malformed URL may carry a password.
            throw new ConfigurationException(PREFIX + URL + " is not a valid URL (" + e.getReason()
                    + "); use redis://host:port or rediss://host:port");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("redis") && !scheme.equals("rediss")) {
            throw new ConfigurationException(PREFIX + URL + " must start with redis:// or rediss://");
        }
        if (uri.getRawUserInfo() != null) {
            throw new ConfigurationException(PREFIX + URL + " carries a user or password; set them in " + PREFIX + USER
                    + " and " + PREFIX + PASSWORD + " (a secret) instead");
        }
        if (uri.getHost() == null) {
            throw new ConfigurationException(PREFIX + URL + " has no host; use redis://host:port");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new ConfigurationException(PREFIX + URL + " has a query or fragment; use redis://host:port/db");
        }
        Integer database = null;
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            database = integer(DATABASE, path.substring(1));
        }
        int port = uri.getPort() == -1 ? 6379 : uri.getPort();
        return new ParsedUrl(new Node(uri.getHost(), port), scheme.equals("rediss"), database);
    }

    private static Optional<String> get(Map<String, String> config, String key) {
        return Optional.ofNullable(config.get(key)).map(String::strip).filter(v -> !v.isEmpty());
    }

    private static Path path(String key, String value) {
        try {
            return Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigurationException(PREFIX + key + " is not a valid file path (" + e.getReason() + ")");
        }
    }

    private static int integer(String key, String value) {
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new ConfigurationException(PREFIX + key + " must be a whole number, not '" + value + "'");
        }
    }

    private static boolean bool(String key, String value) {
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ConfigurationException(PREFIX + key + " must be true or false, not '" + value + "'");
        };
    }

    /** A duration as {@link Durations#parse} reads it. */
    static Duration duration(String key, String value) {
        return Durations.parse(PREFIX + key, value);
    }

    /** The server (standalone) or the seed nodes (cluster). */
    public List<Node> nodes() {
        return nodes;
    }

    public boolean cluster() {
        return cluster;
    }

    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    /** The password; never logged. */
    public Optional<String> password() {
        return Optional.ofNullable(password);
    }

    public boolean tls() {
        return tls;
    }

    /** The CAs that verify the server; empty for the JVM's default. */
    public Optional<Store> trustStore() {
        return Optional.ofNullable(trustStore);
    }

    /** The client's certificate and key for mutual TLS; empty for none. */
    public Optional<Store> keyStore() {
        return Optional.ofNullable(keyStore);
    }

    public int database() {
        return database;
    }

    public String keyPrefix() {
        return keyPrefix;
    }

    /** How long a session lives after its last write; empty when sessions never expire. */
    public Optional<Duration> ttl() {
        return Optional.ofNullable(ttl);
    }

    public Duration timeout() {
        return timeout;
    }

    public Duration lockLease() {
        return lockLease;
    }

    /** How many decoded messages the memory keeps for context windows; 0 for none. */
    public int windowCache() {
        return windowCache;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RedisSettings s
                && nodes.equals(s.nodes)
                && cluster == s.cluster
                && Objects.equals(user, s.user)
                && Objects.equals(password, s.password)
                && tls == s.tls
                && Objects.equals(trustStore, s.trustStore)
                && Objects.equals(keyStore, s.keyStore)
                && database == s.database
                && keyPrefix.equals(s.keyPrefix)
                && Objects.equals(ttl, s.ttl)
                && timeout.equals(s.timeout)
                && lockLease.equals(s.lockLease)
                && windowCache == s.windowCache;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                nodes,
                cluster,
                user,
                password,
                tls,
                trustStore,
                keyStore,
                database,
                keyPrefix,
                ttl,
                timeout,
                lockLease,
                windowCache);
    }

    /** Every setting but the passwords, which show as {@code ****} when set. */
    @Override
    public String toString() {
        return "RedisSettings[nodes=" + nodes + ", cluster=" + cluster + ", user=" + (user == null ? "default" : user)
                + ", password=" + (password == null ? "none" : "****") + ", tls=" + tls
                + (trustStore == null ? "" : ", trustStore=" + trustStore)
                + (keyStore == null ? "" : ", keyStore=" + keyStore) + ", database=" + database
                + ", keyPrefix=" + keyPrefix + ", ttl=" + (ttl == null ? "none" : ttl) + ", timeout=" + timeout
                + ", lockLease=" + lockLease + ", windowCache=" + windowCache + "]";
    }

    /** Builds {@link RedisSettings}; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private List<Node> nodes = List.of(new Node("127.0.0.1", 6379));
        private boolean cluster;
        private String user;
        private String password;
        private boolean tls;
        private Path trustStore;
        private String trustStoreType;
        private String trustStorePassword;
        private Path keyStore;
        private String keyStoreType;
        private String keyStorePassword;
        private int database;
        private String keyPrefix = DEFAULT_KEY_PREFIX;
        private Duration ttl;
        private Duration timeout = Duration.ofSeconds(5);
        private Duration lockLease = Duration.ofSeconds(30);
        private int windowCache = 10_000;

        private Builder() {}

        /** The server, or one seed node of a cluster. */
        public Builder node(String host, int port) {
            return nodes(List.of(new Node(host, port)));
        }

        /** The server, or the seed nodes of a cluster. */
        public Builder nodes(List<Node> nodes) {
            this.nodes = List.copyOf(nodes);
            return this;
        }

        public Builder cluster(boolean cluster) {
            this.cluster = cluster;
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

        public Builder tls(boolean tls) {
            this.tls = tls;
            return this;
        }

        /** TLS: the CAs that verify the server (a PKCS12 file unless {@link #trustStoreType} says otherwise). */
        public Builder trustStore(Path file) {
            this.trustStore = file;
            return this;
        }

        /** PKCS12 (the default), JKS or PEM. */
        public Builder trustStoreType(String type) {
            this.trustStoreType = type;
            return this;
        }

        /** The trust store's password (a secret), if it has one. */
        public Builder trustStorePassword(String password) {
            this.trustStorePassword = password;
            return this;
        }

        /** TLS: the client's certificate and private key, for servers that ask for client certificates. */
        public Builder keyStore(Path file) {
            this.keyStore = file;
            return this;
        }

        /** PKCS12 (the default) or JKS. */
        public Builder keyStoreType(String type) {
            this.keyStoreType = type;
            return this;
        }

        /** The key store's password (a secret), which also opens the private key. */
        public Builder keyStorePassword(String password) {
            this.keyStorePassword = password;
            return this;
        }

        public Builder database(int database) {
            this.database = database;
            return this;
        }

        public Builder keyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
            return this;
        }

        /** Sessions expire this long after their last write; null for never. */
        public Builder ttl(Duration ttl) {
            this.ttl = ttl;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder lockLease(Duration lockLease) {
            this.lockLease = lockLease;
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
         * @throws ConfigurationException naming the first invalid setting
         */
        public RedisSettings build() {
            return new RedisSettings(this);
        }
    }
}
