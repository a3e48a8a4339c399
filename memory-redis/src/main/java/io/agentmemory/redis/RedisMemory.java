package io.agentmemory.redis;

import io.agentmemory.Added;
import io.agentmemory.BackendUnavailableException;
import io.agentmemory.Capability;
import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.IntegrityException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.core.backend.BackendSupport;
import io.agentmemory.core.json.MessageJson;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.internal.Checks;
import io.agentmemory.internal.Text;
import io.agentmemory.redis.WindowCache.Decoded;
import io.agentmemory.spi.MemoryContext;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.ZRangeParams;

/**
 * The Redis backend: each session's messages in five keys of one cluster hash slot, written by one atomic Lua script
 * per {@code add}/{@code addAll} that assigns sequence numbers, stores the messages, applies retention and refreshes
 * the session's TTL. Works with a standalone server ({@link RedisClient}) and with Redis Cluster
 * ({@link RedisClusterClient}). Declares every {@link Capability}. Thread-safe.
 *
 * <p>Costs: an append is one round trip (one script call) whatever the history length, two when an eviction
 * listener must hear of removals first (see below). History without filters or max age is one native {@code ZRANGE}
 * by rank, O(log n + offset + limit); with filters or a max age one script call that selects the messages by their
 * headers (plus one pipelined native read when more than a few dozen match: JSON is costly to pass through Lua).
 * {@code contextWindow} after a window of the same session that this memory still holds is one script call that
 * returns only the messages added since, and after an append of this memory to such a session one native check that
 * nothing else was written (the append's reply tells the memory what it changed); otherwise it is one script call
 * for small windows, and larger ones get their
 * range from the script and read it natively, usually in one page, decoding only messages whose bytes differ from
 * those held (see the module's README). {@code count} is one native {@code ZCARD} (a script call with a max age).
 *
 * <p>Eviction listener: a listener must hear of removals before they are final and can veto them by throwing. A
 * script cannot call back, so with a listener (anything but {@link EvictionListener#NONE}) a write that would remove
 * messages runs in two phases: the script writes nothing, locks the session (other writers wait; readers see the
 * state before the write) and returns the plan; the listener is told; a second run of the script commits the plan
 * under the lock. A throwing listener releases the lock: nothing was written and no sequence number was used. Writes
 * that remove nothing take one round trip either way. Should the listener outlast the lock lease while another writer
 * changes the session, the commit is refused and the write planned again, and the listener may then hear of some
 * messages twice.
 *
 * <p>Failures: an unreachable server or cluster node, a server that is loading its data, a slot being migrated, all
 * throw a retryable {@link BackendUnavailableException}; the connection pool reconnects by itself. Whether a failed
 * write took effect is unknown to the caller; repeating it with the same message ids is safe (ids are idempotent).
 */
public final class RedisMemory implements Memory {
    /** The name configuration selects the Redis backend by. */
    public static final String NAME = "redis";

    private static final Logger LOG = LoggerFactory.getLogger(RedisMemory.class);
    private static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.allOf(Capability.class));
    private static final byte[] SEQ_MARKER = ",\"seq\":1,".getBytes(StandardCharsets.US_ASCII);
    /** The decimal texts of 0 to 4095, made once: token counts and batch sizes are mostly among them. */
    private static final byte[][] SMALL_NUMBERS = new byte[4096][];

    static {
        for (int i = 0; i < SMALL_NUMBERS.length; i++) {
            SMALL_NUMBERS[i] = Integer.toString(i).getBytes(StandardCharsets.US_ASCII);
        }
    }

    private static final byte[] EMPTY = new byte[0];
    private static final byte[] ZERO = bytes(0);
    private static final byte[] ONE = bytes(1);
    private static final byte[] COMMIT = bytes("c");
    private static final byte[] PLAN = bytes("p");
    /** Up to this many messages a read script returns as JSON; more are fetched natively (Lua copies are slow). */
    private static final int INLINE = 32;
    /** The most messages a window following a held one reads as added since; with more, it reads in full. */
    private static final int SINCE_LIMIT = 64;

    private static final byte[] WINDOW = bytes("window");
    private static final byte[] SINCE = bytes("since");
    /** Fields of a session's hash (see append.lua): its epoch and its version. */
    private static final byte[] EPOCH_FIELD = bytes("ep");

    private static final byte[] VERSION_FIELD = bytes("ver");
    /**
     * Where the append script's arguments hold the new version's tag, where those of the first message start, and
     * how many each message has (see append.lua).
     */
    private static final int VERSION_ARG = 12;

    private static final int FIRST_MESSAGE_ARG = 14;

    private static final int MESSAGE_ARGS = 7;
    /** Messages of the first page of a context window read natively, when the script gives no lower bound. */
    private static final int PAGE = 1024;
    /** The most messages one page of a context window holds; pages double up to this. */
    private static final int MAX_PAGE = 16_384;

    private final UnifiedJedis jedis;
    private final RedisSettings settings;
    private final MemoryContext context;
    private final RedisKeys keys;
    private final boolean reportRemovals;
    private final byte[] ttlMillis;
    private final byte[] leaseMillis;
    private final List<byte[]> retentionArgs;
    /** What the last windows of sessions read, for the next windows of the same sessions. */
    private final WindowCache windows;
    /** How many windows were read from a held one and the messages added since (for tests). */
    private final LongAdder sinceWindows = new LongAdder();
    /** How many windows were read from a held one that an append brought up to date, checked natively (for tests). */
    private final LongAdder checkedWindows = new LongAdder();
    /** How many windows were read in full (for tests). */
    private final LongAdder fullWindows = new LongAdder();
    /** Windows of addAndWindow made from the held window its own append brought up to date, with no round trip. */
    private final LongAdder appendWindows = new LongAdder();
    /** Whether appends of plain messages may take the script's short path; off only in tests that compare both. */
    private final boolean shortPath;

    private volatile boolean closed;

    private RedisMemory(UnifiedJedis jedis, RedisSettings settings, MemoryContext context, boolean shortPath) {
        this.jedis = jedis;
        this.shortPath = shortPath;
        this.settings = settings;
        this.context = context;
        this.keys = new RedisKeys(settings.keyPrefix());
        this.reportRemovals = context.evictionListener() != EvictionListener.NONE;
        this.ttlMillis = bytes(settings.ttl().map(Duration::toMillis).orElse(0L));
        this.leaseMillis = bytes(settings.lockLease().toMillis());
        this.windows = new WindowCache(settings.windowCache());
        Retention r = context.retention();
        this.retentionArgs = List.of(
                bytes(r.overflow().map(Retention.Overflow::maxSize).orElse(0)),
                bytes(r.overflow().map(Retention.Overflow::keep).orElse(0)),
                bytes(r.maxMessages().orElse(0)),
                bytes(r.maxTokens().orElse(0)));
    }

    /**
     * Connects to Redis and checks that it answers.
     *
     * @throws io.agentmemory.ConfigurationException if Redis refuses the credentials
     * @throws BackendUnavailableException if Redis cannot be reached
     */
    public static RedisMemory open(RedisSettings settings, MemoryContext context) {
        return open(settings, context, true);
    }

    /**
     * A memory on a client the caller made (settings give the key prefix, the TTL and the caches; their connection
     * settings are not used); for tests that stand a client in for the network, such as one that runs a command twice
     * as a client's retry after a lost reply does. The memory closes the client.
     */
    static RedisMemory open(UnifiedJedis client, RedisSettings settings, MemoryContext context) {
        return new RedisMemory(
                Objects.requireNonNull(client, "client"),
                Objects.requireNonNull(settings, "settings"),
                Objects.requireNonNull(context, "context"),
                true);
    }

    /**
     * {@link #open(RedisSettings, MemoryContext)}, with the append script's short path for plain messages turned off
     * when {@code shortPath} is false: every append then takes the general path, which the tests compare it with.
     */
    static RedisMemory open(RedisSettings settings, MemoryContext context, boolean shortPath) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(context, "context");
        // The trust and key stores are read here, once: a bad file or password fails now, not at the first call.
        SSLSocketFactory tls = settings.tls() ? RedisTls.socketFactory(settings) : null;
        if (settings.tls()) {
            RedisTls.probe(settings, tls);
        }
        UnifiedJedis client;
        try {
            client = connect(settings, tls);
        } catch (JedisException e) {
            throw RedisErrors.translate(e, "connect to " + settings.nodes());
        }
        RedisMemory memory = new RedisMemory(client, settings, context, shortPath);
        try {
            memory.call("reach " + settings.nodes(), () -> client.exists(memory.keys.index("agentmemory-ping")));
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
        LOG.info(
                "redis memory opened: {} retention={} listener={}",
                settings,
                context.retention(),
                memory.reportRemovals ? "set" : "none");
        return memory;
    }

    // ssl(), sslSocketFactory() and sslParameters() are deprecated in favour of SslOptions, which reads the trust and
    // key stores again for every new connection; one context, read and checked when the memory opens, is kept instead.
    @SuppressWarnings("deprecation")
    private static UnifiedJedis connect(RedisSettings s, SSLSocketFactory tls) {
        int timeout = (int) s.timeout().toMillis();
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeout)
                .socketTimeoutMillis(timeout)
                .clientName("agentmemory");
        if (s.tls()) {
            // Without stores the factory is null and Jedis takes the JVM's default one; host names are always verified.
            config.ssl(true).sslSocketFactory(tls).sslParameters(RedisTls.parameters());
        }
        s.user().ifPresent(config::user);
        s.password().ifPresent(config::password);
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(64);
        pool.setMaxIdle(64);
        pool.setMaxWait(s.timeout());
        if (s.cluster()) {
            Set<HostAndPort> seeds = new java.util.LinkedHashSet<>();
            for (RedisSettings.Node node : s.nodes()) {
                seeds.add(new HostAndPort(node.host(), node.port()));
            }
            return RedisClusterClient.builder()
                    .nodes(seeds)
                    .clientConfig(config.build())
                    .poolConfig(pool)
                    .maxAttempts(5)
                    .maxTotalRetriesDuration(s.timeout())
                    .build();
        }
        RedisSettings.Node node = s.nodes().get(0);
        config.database(s.database());
        return RedisClient.builder()
                .hostAndPort(node.host(), node.port())
                .clientConfig(config.build())
                .poolConfig(pool)
                .build();
    }

    /** How many context windows were read from a held window and the messages added since. */
    long windowsSince() {
        return sinceWindows.sum();
    }

    /** How many context windows were read from a held window that appends brought up to date, checked natively. */
    long windowsChecked() {
        return checkedWindows.sum();
    }

    /** How many context windows were read in full. */
    long windowsInFull() {
        return fullWindows.sum();
    }

    /** How many windows of {@code addAndWindow} came from what its own append told, with no read. */
    long windowsFromAppends() {
        return appendWindows.sum();
    }

    /** The settings this memory was opened with. */
    public RedisSettings settings() {
        return settings;
    }

    @Override
    public MemoryStore session(SessionKey key) {
        checkOpen();
        return new Store(BackendSupport.requireKey(key));
    }

    @Override
    public List<SessionKey> sessions(String tenant) {
        checkOpen();
        Text.identifier(tenant, "tenant", SessionKey.MAX_LENGTH, ErrorCode.INVALID_SESSION_KEY);
        List<Object> members = list(call(
                "list the sessions of tenant " + tenant,
                () -> Lua.INDEX.run(jedis, List.of(keys.index(tenant)), List.of(bytes("list")))));
        List<SessionKey> candidates = new ArrayList<>(members.size());
        for (Object member : members) {
            candidates.add(RedisKeys.fromIndexMember(tenant, (byte[]) member));
        }
        List<Long> counts = counts(candidates);
        List<SessionKey> live = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            if (counts.get(i) > 0) {
                live.add(candidates.get(i));
            }
        }
        Collections.sort(live);
        return List.copyOf(live);
    }

    /** The live message count of each session, pipelined (per node, on a cluster). */
    private List<Long> counts(List<SessionKey> sessions) {
        if (sessions.isEmpty()) {
            return List.of();
        }
        List<byte[]> args = countArgs();
        boolean scripted = context.retention().maxAge().isPresent();
        List<Object> results = new ArrayList<>(sessions.size());
        call("count the sessions of a tenant", () -> {
            List<Response<?>> responses = new ArrayList<>(sessions.size());
            try (AbstractPipeline pipeline = jedis.pipelined()) {
                for (SessionKey key : sessions) {
                    List<byte[]> k = keys.session(key);
                    responses.add(
                            scripted
                                    ? pipeline.evalsha(Lua.READ.sha(), k, args)
                                    : pipeline.zcard(k.get(RedisKeys.MESSAGES)));
                }
                pipeline.sync();
            }
            for (int i = 0; i < responses.size(); i++) {
                Object value;
                try {
                    value = responses.get(i).get();
                } catch (JedisDataException e) {
                    if (!String.valueOf(e.getMessage()).startsWith("NOSCRIPT")) {
                        throw e;
                    }
                    value = Lua.READ.run(jedis, keys.session(sessions.get(i)), args);
                }
                results.add(value);
            }
            return null;
        });
        List<Long> counts = new ArrayList<>(results.size());
        for (Object r : results) {
            counts.add((Long) r);
        }
        return counts;
    }

    @Override
    public boolean delete(SessionKey key) {
        checkOpen();
        BackendSupport.requireKey(key);
        windows.remove(key);
        return reportRemovals ? deleteReporting(key) : deleteQuietly(key);
    }

    /** Unindexes, then deletes; the session is never left holding messages without an index entry to come. */
    private boolean deleteQuietly(SessionKey key) {
        List<byte[]> sessionKeys = keys.session(key);
        Waiter waiter = new Waiter(key);
        while (true) {
            List<Object> r = list(call("delete " + key, () -> Lua.SESSION.run(jedis, sessionKeys, args("unindex"))));
            if (status(r).equals("OK")) {
                break;
            }
            waiter.await();
        }
        removeFromIndex(key);
        while (true) {
            List<Object> r =
                    list(call("delete " + key, () -> Lua.SESSION.run(jedis, sessionKeys, args("delete", "c", "", ""))));
            if (status(r).equals("OK")) {
                return (Long) r.get(1) > 0;
            }
            waiter.await();
        }
    }

    /** Locks and reads the session, tells the listener, then deletes under the lock. */
    private boolean deleteReporting(SessionKey key) {
        List<byte[]> sessionKeys = keys.session(key);
        Waiter waiter = new Waiter(key);
        while (true) {
            String token = UUID.randomUUID().toString();
            List<Object> r = list(call(
                    "read " + key + " to clear it",
                    () -> Lua.SESSION.run(jedis, sessionKeys, args("read", token, new String(leaseMillis)))));
            String status = status(r);
            if (status.equals("EMPTY")) {
                return false;
            }
            if (status.equals("LOCKED")) {
                waiter.await();
                continue;
            }
            boolean done = false;
            try {
                String version = string(r.get(1));
                List<Message> all = new ArrayList<>(r.size() - 2);
                for (int i = 2; i < r.size(); i++) {
                    all.add(parse(r.get(i), key));
                }
                BackendSupport.report(context.evictionListener(), key, all, RemovalCause.CLEARED);
                removeFromIndex(key);
                List<Object> d = list(call(
                        "delete " + key,
                        () -> Lua.SESSION.run(jedis, sessionKeys, args("delete", "l", token, version))));
                if (status(d).equals("OK")) {
                    done = true;
                    return (Long) d.get(1) > 0;
                }
                LOG.warn(
                        "clearing {} outlasted its lock lease of {} while another writer changed the session; the"
                                + " listener heard of messages that are read again now",
                        key,
                        settings.lockLease());
            } finally {
                if (!done) {
                    unlockQuietly(sessionKeys, token);
                }
            }
        }
    }

    private void removeFromIndex(SessionKey key) {
        call(
                "unindex " + key,
                () -> Lua.INDEX.run(
                        jedis,
                        List.of(keys.index(key.tenant())),
                        List.of(bytes("remove"), RedisKeys.indexMember(key))));
    }

    private void unlockQuietly(List<byte[]> sessionKeys, String token) {
        try {
            // Run as every script is, so that a server that forgot the script (restarted meanwhile) gets it whole.
            Lua.SESSION.run(jedis, sessionKeys, args("unlock", token));
        } catch (RuntimeException e) {
            // The lease frees the session in time; the failure that got us here is what the caller needs to see.
            LOG.debug("releasing a session lock failed; it expires with its lease", e);
        }
    }

    @Override
    public Set<Capability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            jedis.close();
        }
    }

    @Override
    public String toString() {
        return "RedisMemory[" + settings + ", retention=" + context.retention() + "]";
    }

    private void checkOpen() {
        if (closed) {
            throw BackendSupport.closed("redis memory");
        }
    }

    /** Runs {@code action}, translating Jedis's exceptions; fails with CLOSED if the memory was closed meanwhile. */
    private <T> T call(String what, Supplier<T> action) {
        return call(what, null, action);
    }

    /**
     * {@link #call(String, Supplier)} for what {@code verb} and {@code target} say together ("append to" and the
     * session), joined only when a failure needs the text.
     */
    private <T> T call(String verb, Object target, Supplier<T> action) {
        long deadline = 0;
        long sleepMillis = 1;
        while (true) {
            try {
                return action.get();
            } catch (JedisDataException e) {
                checkOpen();
                // TRYAGAIN: a slot is being migrated and only some of the session's keys have moved; the script did
                // not run, so running it again is safe once they have.
                if (!String.valueOf(e.getMessage()).startsWith("TRYAGAIN")) {
                    throw RedisErrors.translate(e, what(verb, target));
                }
                if (deadline == 0) {
                    deadline = System.nanoTime() + settings.timeout().toNanos();
                } else if (System.nanoTime() - deadline > 0) {
                    throw RedisErrors.translate(e, what(verb, target));
                }
                pause(sleepMillis, what(verb, target));
                sleepMillis = Math.min(50, sleepMillis * 2);
            } catch (JedisException e) {
                checkOpen();
                throw RedisErrors.translate(e, what(verb, target));
            } catch (IllegalStateException e) {
                checkOpen();
                throw e;
            }
        }
    }

    private static String what(String verb, Object target) {
        return target == null ? verb : verb + " " + target;
    }

    private static void pause(long millis, String what) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendUnavailableException("interrupted while waiting to " + what, e);
        }
    }

    private List<byte[]> countArgs() {
        Instant cutoff = cutoff();
        return List.of(bytes("count"), cutoffSeconds(cutoff), cutoffNanos(cutoff), bytes(INLINE));
    }

    /** Messages older than this have expired; null without a max age. */
    private Instant cutoff() {
        return context.retention()
                .maxAge()
                .map(age -> context.clock().instant().minus(age))
                .orElse(null);
    }

    private static byte[] cutoffSeconds(Instant cutoff) {
        return cutoff == null ? EMPTY : bytes(cutoff.getEpochSecond());
    }

    private static byte[] cutoffNanos(Instant cutoff) {
        return cutoff == null ? ZERO : bytes(cutoff.getNano());
    }

    private Message parse(Object json, SessionKey key) {
        if (!(json instanceof byte[] b)) {
            throw missing(key);
        }
        try {
            return MessageJson.fromJsonBytes(b);
        } catch (IntegrityException e) {
            throw new IntegrityException("a stored message of " + key + " is unreadable: " + e.getMessage(), e);
        }
    }

    private static IntegrityException missing(SessionKey key) {
        return new IntegrityException("a message of " + key + " is missing from its hash although its index lists it;"
                + " the session's keys were changed by something else than this backend");
    }

    /** The messages of decoded ones, in the same order. */
    private static List<Message> messages(Decoded[] decoded) {
        Message[] out = new Message[decoded.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = decoded[i].message();
        }
        return Arrays.asList(out);
    }

    /** Whether {@code values} (a few) holds {@code v}. */
    private static boolean contains(long[] values, long v) {
        for (long x : values) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private static byte[] bytesOf(Object o) {
        return (byte[]) o;
    }

    private static String status(List<Object> reply) {
        return string(reply.get(0));
    }

    private static String string(Object o) {
        return new String((byte[]) o, StandardCharsets.UTF_8);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object reply) {
        return (List<Object>) reply;
    }

    /** The decimal text of {@code n} in ASCII; the same array for the same small number (arguments are not changed). */
    static byte[] bytes(long n) {
        if (n >= 0 && n < SMALL_NUMBERS.length) {
            return SMALL_NUMBERS[(int) n];
        }
        if (n == Long.MIN_VALUE) {
            return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
        }
        long v = Math.abs(n);
        int digits = 1;
        for (long x = v; x >= 10; x /= 10) {
            digits++;
        }
        int length = n < 0 ? digits + 1 : digits;
        byte[] out = new byte[length];
        for (int i = length - 1; i >= length - digits; i--) {
            out[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        if (n < 0) {
            out[0] = '-';
        }
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<byte[]> args(String... values) {
        List<byte[]> out = new ArrayList<>(values.length);
        for (String v : values) {
            out.add(bytes(v));
        }
        return out;
    }

    /** Waits for a session another writer has locked: short sleeps, up to the lock lease plus the timeout. */
    private final class Waiter {
        private final SessionKey key;
        private final long deadline;
        private long sleepMillis = 1;

        Waiter(SessionKey key) {
            this.key = key;
            this.deadline = System.nanoTime()
                    + settings.lockLease().toNanos()
                    + settings.timeout().toNanos();
        }

        void await() {
            checkOpen();
            if (System.nanoTime() - deadline > 0) {
                throw new BackendUnavailableException(
                        key + " stayed locked by another writer (one whose eviction listener is running) for longer"
                                + " than the lock lease of " + settings.lockLease() + "; retry",
                        null);
            }
            pause(sleepMillis, "write " + key);
            sleepMillis = Math.min(50, sleepMillis * 2);
        }
    }

    /** The store of one session: every call goes to Redis. */
    private final class Store implements MemoryStore {
        private final SessionKey key;
        private final List<byte[]> sessionKeys;

        Store(SessionKey key) {
            this.key = key;
            this.sessionKeys = keys.session(key);
        }

        @Override
        public SessionKey key() {
            return key;
        }

        @Override
        public Message add(Message message) {
            List<Message> batch = List.of(BackendSupport.requireMessage(message));
            checkOpen();
            // One message: nothing for checkBatch to find (no duplicate ids), and List.of is already the copy it makes.
            return append(batch).messages().get(0);
        }

        /**
         * One script call: when the append's reply brings the held window up to date, the window is the session as
         * that append left it, made with no further round trip; else it is read as {@link #contextWindow} reads it.
         */
        @Override
        public Added addAndWindow(Message message, int maxTokens) {
            List<Message> batch = List.of(BackendSupport.requireMessage(message));
            ContextWindows.checkBudget(maxTokens);
            checkOpen();
            Committed committed = append(batch);
            return Checks.added(committed.messages().get(0), () -> window(maxTokens, committed.window()));
        }

        @Override
        public List<Message> addAll(List<Message> messages) {
            checkOpen();
            List<Message> batch = BackendSupport.checkBatch(messages);
            if (batch.isEmpty()) {
                return List.of();
            }
            return append(batch).messages();
        }

        /** Appends a checked, non-empty batch. */
        private Committed append(List<Message> batch) {
            List<TokenCount> counts = BackendSupport.countTokens(context.tokenCounter(), batch);
            Instant cutoff = cutoff();
            List<byte[]> args = new ArrayList<>(FIRST_MESSAGE_ARG + MESSAGE_ARGS * batch.size());
            args.add(reportRemovals ? PLAN : COMMIT);
            String token = reportRemovals ? UUID.randomUUID().toString() : "";
            args.add(reportRemovals ? bytes(token) : EMPTY);
            args.add(leaseMillis);
            args.add(EMPTY);
            args.add(ttlMillis);
            args.add(cutoffSeconds(cutoff));
            args.add(cutoffNanos(cutoff));
            args.addAll(retentionArgs);
            args.add(WindowCache.newEpoch());
            args.add(EMPTY); // the new version, set for each call below
            args.add(bytes(batch.size()));
            if (args.size() != FIRST_MESSAGE_ARG) {
                throw new IllegalStateException("the append script's arguments are out of step with append.lua");
            }
            for (int i = 0; i < batch.size(); i++) {
                Message m = batch.get(i);
                TokenCount count = counts.get(i);
                byte[] json = MessageJson.toJsonBytes(m.stored(1, count));
                int at = indexOf(json, SEQ_MARKER);
                if (at < 0) {
                    throw new IllegalStateException("the JSON form of a message has no sequence field");
                }
                args.add(bytes(m.id()));
                args.add(Arrays.copyOfRange(json, 0, at));
                args.add(Arrays.copyOfRange(json, at + SEQ_MARKER.length - 1, json.length));
                args.add(Headers.of(m, count));
                // What the script's short path reads instead of the header: the same values, as text.
                args.add(shortPath && plain(m) ? ONE : ZERO);
                args.add(bytes(count.tokens()));
                args.add(bytes(m.timestamp().getEpochSecond()));
            }
            Waiter waiter = null;
            while (true) {
                args.set(VERSION_ARG, WindowCache.newEpoch());
                List<Object> r = list(call("append to", key, () -> Lua.APPEND.run(jedis, sessionKeys, args)));
                switch (status(r)) {
                    case "OK":
                        return stored(r, batch, counts, args);
                    case "LOCKED":
                        if (waiter == null) {
                            waiter = new Waiter(key);
                        }
                        waiter.await();
                        continue;
                    case "PLAN":
                        Committed committed = commitPlan(r, args, batch, counts, token);
                        if (committed != null) {
                            return committed;
                        }
                        continue;
                    default:
                        throw new IntegrityException("the append script answered " + status(r));
                }
            }
        }

        /** Reports a plan's removals, then commits it; null if the plan went stale and must be made again. */
        private Committed commitPlan(
                List<Object> plan, List<byte[]> args, List<Message> batch, List<TokenCount> counts, String token) {
            boolean done = false;
            try {
                Map<RemovalCause, List<Message>> removed = new EnumMap<>(RemovalCause.class);
                int i = 2;
                while (i < plan.size()) {
                    RemovalCause cause = RemovalCause.valueOf(string(plan.get(i)));
                    int n = ((Long) plan.get(i + 1)).intValue();
                    List<Message> messages = new ArrayList<>(n);
                    for (int j = 0; j < n; j++) {
                        messages.add(parse(plan.get(i + 2 + j), key));
                    }
                    removed.put(cause, messages);
                    i += 2 + n;
                }
                BackendSupport.report(context.evictionListener(), key, removed);
                List<byte[]> commit = new ArrayList<>(args);
                commit.set(0, bytes("l"));
                commit.set(3, (byte[]) plan.get(1));
                commit.set(VERSION_ARG, WindowCache.newEpoch());
                List<Object> r = list(call("append to " + key, () -> Lua.APPEND.run(jedis, sessionKeys, commit)));
                if (status(r).equals("OK")) {
                    done = true;
                    return stored(r, batch, counts, commit);
                }
                LOG.warn(
                        "an append to {} outlasted its lock lease of {} while another writer changed the session;"
                                + " planning again, the listener may hear of some removals twice",
                        key,
                        settings.lockLease());
                return null;
            } finally {
                if (!done) {
                    unlockQuietly(sessionKeys, token);
                }
            }
        }

        /** The messages as stored, from an OK reply; records the session in its tenant's index when asked to. */
        private Committed stored(List<Object> r, List<Message> batch, List<TokenCount> counts, List<byte[]> args) {
            List<Message> out = new ArrayList<>(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                Object o = r.get(3 + i);
                out.add(o instanceof Long seq ? batch.get(i).stored(seq, counts.get(i)) : parse(o, key));
            }
            WindowCache.Entry advanced = windows.enabled() ? advanceWindow(r, out, args) : null;
            byte[] index = (byte[]) r.get(1);
            if (index.length > 0) {
                call(
                        "index " + key,
                        () -> Lua.INDEX.run(
                                jedis,
                                List.of(keys.index(key.tenant())),
                                List.of(bytes("add"), RedisKeys.indexMember(key), index)));
                call("index " + key, () -> Lua.SESSION.run(jedis, sessionKeys, List.of(bytes("ixset"), index)));
            }
            return new Committed(Collections.unmodifiableList(out), advanced);
        }

        /**
         * Brings the session's held window up to date with an OK reply of the append script, when the reply tells the
         * session's new state exactly ({@link WindowCache.Entry#appended}): every message new, unpinned and without
         * tool fields. {@code args} are the script's arguments, whose JSON parts make the stored bytes.
         *
         * @return the entry brought up to date: the session exactly as this append left it; null if there is none
         */
        private WindowCache.Entry advanceWindow(List<Object> r, List<Message> stored, List<byte[]> args) {
            WindowCache.Entry held = windows.get(key);
            int n = stored.size();
            if (held == null || r.size() < 6 + n) {
                return null;
            }
            Decoded[] added = new Decoded[n];
            for (int i = 0; i < n; i++) {
                Message m = stored.get(i);
                if (!(r.get(3 + i) instanceof Long) || !plain(m)) {
                    return null;
                }
                int at = FIRST_MESSAGE_ARG + MESSAGE_ARGS * i;
                added[i] = new Decoded(storedJson(args.get(at + 1), m.sequence(), args.get(at + 2)), m);
            }
            long[] removed = new long[r.size() - 6 - n];
            for (int i = 0; i < removed.length; i++) {
                removed[i] = (Long) r.get(6 + n + i);
            }
            WindowCache.Entry next =
                    held.appended(string(r.get(3 + n)), string(r.get(4 + n)), string(r.get(5 + n)), added, removed);
            if (next != null) {
                windows.put(key, next);
            } else if (held.appended() > 0) {
                // The session moved on without the entry: the next window reads what changed, with no check first.
                windows.put(key, held.read());
            }
            return next;
        }

        @Override
        public List<Message> history(HistoryQuery query) {
            checkOpen();
            BackendSupport.requireQuery(query);
            int limit = query.limit().orElse(-1);
            if (limit == 0) {
                return List.of();
            }
            Instant cutoff = cutoff();
            if (!query.hasFilters() && cutoff == null) {
                // One native command, an atomic snapshot: the JSON of the newest messages by rank.
                long stop = limit < 0 ? -1 : (long) query.offset() + limit - 1;
                List<byte[]> newestFirst = call(
                        "read the history of",
                        key,
                        () -> jedis.zrange(
                                sessionKeys.get(RedisKeys.MESSAGES),
                                ZRangeParams.zrangeParams((long) query.offset(), stop)
                                        .rev()));
                return chronological(newestFirst);
            }
            List<byte[]> args = new ArrayList<>();
            args.add(bytes("history"));
            args.add(cutoffSeconds(cutoff));
            args.add(cutoffNanos(cutoff));
            args.add(bytes(INLINE));
            args.add(bytes(query.offset()));
            args.add(bytes(limit));
            args.add(query.from().map(f -> bytes(f.getEpochSecond())).orElse(new byte[0]));
            args.add(bytes(query.from().map(Instant::getNano).orElse(0)));
            args.add(query.to().map(f -> bytes(f.getEpochSecond())).orElse(new byte[0]));
            args.add(bytes(query.to().map(Instant::getNano).orElse(0)));
            args.add(bytes(query.roles().size()));
            for (String role : query.roles()) {
                args.add(bytes(role));
            }
            args.add(bytes(query.metadata().size()));
            for (Map.Entry<String, Object> e : query.metadata().entrySet()) {
                args.add(bytes(Headers.canonKey(e.getKey())));
                args.add(bytes(Headers.canonValue(e.getValue())));
            }
            List<Object> r = list(call("read the history of", key, () -> Lua.READ.run(jedis, sessionKeys, args)));
            List<byte[]> newestFirst = new ArrayList<>(r.size() - 1);
            if (status(r).equals("I")) {
                for (int i = 1; i < r.size(); i++) {
                    newestFirst.add(bytesOf(r.get(i)));
                }
            } else {
                newestFirst.addAll(fetch(r.subList(1, r.size())));
            }
            return chronological(newestFirst);
        }

        /** The JSON of the messages with these sequences, in one pipelined round trip; removed ones are left out. */
        private List<byte[]> fetch(List<Object> sequences) {
            return call("read messages of", key, () -> {
                byte[] m = sessionKeys.get(RedisKeys.MESSAGES);
                List<Response<List<byte[]>>> responses = new ArrayList<>(sequences.size());
                try (AbstractPipeline pipeline = jedis.pipelined()) {
                    for (Object seq : sequences) {
                        double s = (Long) seq;
                        responses.add(pipeline.zrangeByScore(m, s, s));
                    }
                    pipeline.sync();
                }
                List<byte[]> out = new ArrayList<>(responses.size());
                for (Response<List<byte[]>> response : responses) {
                    out.addAll(response.get());
                }
                return out;
            });
        }

        private List<Message> chronological(List<byte[]> newestFirst) {
            Message[] out = new Message[newestFirst.size()];
            for (int i = 0; i < out.length; i++) {
                out[out.length - 1 - i] = parse(newestFirst.get(i), key);
            }
            return List.of(out);
        }

        @Override
        public List<Message> contextWindow(int maxTokens) {
            checkOpen();
            ContextWindows.checkBudget(maxTokens);
            return window(maxTokens, null);
        }

        /**
         * The window of a checked budget.
         *
         * @param current an entry that an append of this call brought up to date: the window is made from it as it
         *     stands, with no round trip; null to take the held entry, if any, and read what changed since
         */
        private List<Message> window(int maxTokens, WindowCache.Entry current) {
            Instant cutoff = cutoff();
            WindowCache.Entry held = current != null ? current : windows.enabled() ? windows.get(key) : null;
            if (held != null && held.serves(cutoff)) {
                try {
                    if (current != null) {
                        List<Message> window = window(maxTokens, cutoff, held, held.unchanged());
                        if (window != null) {
                            appendWindows.increment();
                            return window;
                        }
                    }
                    List<Message> window =
                            current == null && held.appended() > 0 ? windowChecked(maxTokens, cutoff, held) : null;
                    if (window != null) {
                        checkedWindows.increment();
                        return window;
                    }
                    window = windowSince(maxTokens, cutoff, held);
                    if (window != null) {
                        sinceWindows.increment();
                        return window;
                    }
                } catch (WindowCache.BeyondHeld e) {
                    // The budget reaches below the messages held: the full read below.
                }
            }
            fullWindows.increment();
            return fullWindow(maxTokens, cutoff, held);
        }

        /**
         * The window from a held one and the messages added since, in one script call; null when that cannot be done
         * exactly (see {@link WindowCache.Entry#validFrom}). Throws {@link WindowCache.BeyondHeld} when the window
         * rule asks for an older message than the entry holds.
         */
        private List<Message> windowSince(int maxTokens, Instant cutoff, WindowCache.Entry held) {
            List<byte[]> args = List.of(
                    SINCE,
                    EMPTY,
                    ZERO,
                    bytes(SINCE_LIMIT),
                    bytes(held.lo()),
                    bytes(held.last()),
                    bytes(held.anchor().message().id()),
                    bytes(held.anchor().sequence()));
            List<Object> r =
                    list(call("read the context window of", key, () -> Lua.READ.run(jedis, sessionKeys, args)));
            return window(maxTokens, cutoff, held, changes(r));
        }

        /**
         * The window from an entry that an append of this memory brought up to date, after one pipelined round trip
         * of native commands checks that the session is still as the append left it (its epoch, its version, the
         * newest held message in place, as many pinned messages and unpinned ones from the entry's {@code lo} on as
         * it holds); null when it is not.
         */
        private List<Message> windowChecked(int maxTokens, Instant cutoff, WindowCache.Entry held) {
            Decoded anchor = held.anchor();
            Object[] now = call("read the context window of", key, () -> {
                try (AbstractPipeline pipeline = jedis.pipelined()) {
                    Response<List<byte[]>> fields = pipeline.hmget(
                            sessionKeys.get(RedisKeys.DATA), EPOCH_FIELD, VERSION_FIELD, idField(anchor));
                    // The counts catch what no version tells: messages removed from the keys by another client, or
                    // keys evicted by the server's maxmemory policy.
                    Response<Long> pinned = pipeline.zcard(sessionKeys.get(RedisKeys.PINNED));
                    Response<Long> unpinned =
                            pipeline.zcount(sessionKeys.get(RedisKeys.UNPINNED), held.lo(), held.last());
                    pipeline.sync();
                    return new Object[] {fields.get(), pinned.get(), unpinned.get()};
                }
            });
            @SuppressWarnings("unchecked")
            List<byte[]> fields = (List<byte[]>) now[0];
            if (fields.size() != 3
                    || fields.get(0) == null
                    || fields.get(1) == null
                    || fields.get(2) == null
                    || !string(fields.get(0)).equals(held.epoch())
                    || !string(fields.get(1)).equals(held.version())
                    || Long.parseLong(string(fields.get(2))) != anchor.sequence()
                    || (Long) now[1] != held.pinned().length
                    || (Long) now[2] != held.unpinned().length) {
                return null;
            }
            return window(maxTokens, cutoff, held, held.unchanged());
        }

        /**
         * The window from a held entry and what changed since it was made; null when that cannot be done exactly (see
         * {@link WindowCache.Entry#validFrom}).
         */
        private List<Message> window(
                int maxTokens, Instant cutoff, WindowCache.Entry held, WindowCache.Changes changes) {
            int from = held.validFrom(changes);
            if (from < 0) {
                return null;
            }
            long[] newPinned = changes.newPinned();
            List<byte[]> newestFirst = changes.newestFirst();
            Decoded[] heldPinned = held.pinned();
            Decoded[] pinned = Arrays.copyOf(heldPinned, heldPinned.length + newPinned.length);
            int pinnedAt = pinned.length;
            Decoded[] run = held.run();
            Decoded[] walk = new Decoded[newestFirst.size() + run.length];
            int size = 0;
            long[] added = new long[newestFirst.size()];
            int addedCount = 0;
            for (byte[] json : newestFirst) {
                Decoded d = decode(json, null);
                if (contains(newPinned, d.sequence())) {
                    if (pinnedAt == heldPinned.length) {
                        return null; // more pinned messages than the script named: read in full
                    }
                    pinned[--pinnedAt] = d;
                } else {
                    added[addedCount++] = d.sequence();
                    if (!WindowCache.expired(d.message(), cutoff)) {
                        walk[size++] = d;
                    }
                }
            }
            if (pinnedAt != heldPinned.length) {
                return null;
            }
            // The held unpinned messages still stored: those from the oldest left on (retention removes the oldest).
            long floor = changes.held() == 0 ? Long.MAX_VALUE : changes.oldestHeld();
            for (Decoded d : run) {
                if (d.sequence() < floor) {
                    break;
                }
                if (!WindowCache.expired(d.message(), cutoff)) {
                    walk[size++] = d;
                }
            }
            WindowCache.HeldWalk rest = new WindowCache.HeldWalk(walk, size, held.exhausted());
            List<Message> window = ContextWindows.select(maxTokens, messages(pinned), rest, size + 1);
            long[] heldUnpinned = held.unpinned();
            long[] unpinned = Arrays.copyOfRange(heldUnpinned, from, heldUnpinned.length + addedCount);
            for (int i = 0; i < addedCount; i++) {
                unpinned[heldUnpinned.length - from + i] = added[addedCount - 1 - i];
            }
            windows.put(
                    key,
                    changes.epoch(),
                    changes.last(),
                    pinned,
                    rest.taken(),
                    rest.ranOut(),
                    unpinned,
                    cutoff,
                    changes.version(),
                    changes.lastStamp());
            return window;
        }

        /** The reply of the {@code since} read (see read.lua). */
        private WindowCache.Changes changes(List<Object> r) {
            long[] newPinned = null;
            List<byte[]> newestFirst = null;
            if (r.size() > 11) {
                newPinned = new long[((Long) r.get(11)).intValue()];
                for (int i = 0; i < newPinned.length; i++) {
                    newPinned[i] = (Long) r.get(12 + i);
                }
                int first = 12 + newPinned.length;
                newestFirst = new ArrayList<>(r.size() - first);
                for (int i = first; i < r.size(); i++) {
                    if (!(r.get(i) instanceof byte[] json)) {
                        throw missing(key);
                    }
                    newestFirst.add(json);
                }
            }
            return new WindowCache.Changes(
                    string(r.get(1)),
                    (Long) r.get(2),
                    (Long) r.get(3),
                    (Long) r.get(4),
                    (Long) r.get(5),
                    (Long) r.get(6),
                    (Long) r.get(7),
                    string(r.get(8)),
                    string(r.get(9)),
                    string(r.get(10)),
                    newPinned,
                    newestFirst);
        }

        /**
         * The window read in full: the script takes the pinned messages and plans the range of unpinned ones, which
         * come in the same reply (small windows) or are read natively. Messages whose stored bytes equal those of a
         * held message are not decoded again.
         */
        private List<Message> fullWindow(int maxTokens, Instant cutoff, WindowCache.Entry held) {
            List<byte[]> args =
                    List.of(WINDOW, cutoffSeconds(cutoff), cutoffNanos(cutoff), bytes(INLINE), bytes(maxTokens));
            List<Object> r =
                    list(call("read the context window of", key, () -> Lua.READ.run(jedis, sessionKeys, args)));
            String epoch = string(r.get(1));
            long hi = (Long) r.get(2);
            double lo = r.get(3) instanceof Long l ? l : Double.NEGATIVE_INFINITY;
            boolean fromOldest = (Long) r.get(4) == 1;
            String lastStamp = string(r.get(5));
            long[] expired = new long[((Long) r.get(6)).intValue()];
            for (int i = 0; i < expired.length; i++) {
                expired[i] = (Long) r.get(7 + i);
            }
            int at = 7 + expired.length;
            Decoded[] pinned = new Decoded[((Long) r.get(at)).intValue()];
            for (int i = 0; i < pinned.length; i++) {
                pinned[i] = decode(r.get(at + 1 + i), held);
            }
            int first = at + 1 + pinned.length;
            WindowCache.Walk walk;
            int sizeHint;
            if (status(r).equals("I")) {
                walk = new WindowCache.Walk(r.size() - first) {
                    private int next = first;

                    @Override
                    protected boolean more() {
                        return next < r.size();
                    }

                    @Override
                    protected Decoded take() {
                        return decode(r.get(next++), held);
                    }
                };
                sizeHint = Math.max(16, r.size() - first);
            } else {
                Set<Long> skip = new HashSet<>();
                for (long s : expired) {
                    skip.add(s);
                }
                for (Decoded d : pinned) {
                    skip.add(d.sequence());
                }
                Pages pages = new Pages(hi, lo, skip, held);
                walk = pages;
                sizeHint = pages.firstPage;
            }
            List<Message> window = ContextWindows.select(maxTokens, messages(pinned), walk, sizeHint);
            if (windows.enabled()) {
                Decoded[] taken = walk.taken();
                Arrays.sort(expired);
                long[] unpinned = new long[taken.length + expired.length];
                int n = 0;
                int e = 0;
                for (int t = taken.length - 1; t >= 0; t--) {
                    long s = taken[t].sequence();
                    while (e < expired.length && expired[e] < s) {
                        unpinned[n++] = expired[e++];
                    }
                    unpinned[n++] = s;
                }
                while (e < expired.length) {
                    unpinned[n++] = expired[e++];
                }
                windows.put(
                        key, epoch, hi, pinned, taken, walk.ranOut() && fromOldest, unpinned, cutoff, "", lastStamp);
            }
            return window;
        }

        /**
         * A stored message's JSON decoded, or the held message with its sequence number if its bytes are the same;
         * checks that the sequence number read off the text is the decoded one.
         */
        private Decoded decode(Object o, WindowCache.Entry held) {
            if (!(o instanceof byte[] json)) {
                throw missing(key);
            }
            long seq = storedSequence(json);
            if (held != null && seq > 0) {
                Decoded d = held.find(seq);
                if (d != null && Arrays.equals(d.json(), json)) {
                    return d;
                }
            }
            Decoded d = new Decoded(json, parse(json, key));
            if (seq > 0 && d.sequence() != seq) {
                throw new IntegrityException("a stored message of " + key + " has sequence number " + d.sequence()
                        + " in its text but " + seq + " was read off its start");
            }
            return d;
        }

        /** The first page of a window's range: all of it when the script bounded it, else {@link #PAGE} messages. */
        private static int firstPage(long hi, double lo) {
            return lo == Double.NEGATIVE_INFINITY ? PAGE : (int) Math.max(16, Math.min(MAX_PAGE, hi - (long) lo + 1));
        }

        /**
         * The unpinned messages of a sequence range of m, newest first, fetched natively page by page as the window
         * rule asks for them, without the pinned and expired ones.
         */
        private final class Pages extends WindowCache.Walk {
            private final double lo;
            private final Set<Long> skip;
            private double hi;
            private List<byte[]> page = List.of();
            private long[] seqs = new long[0];
            private int next;
            private boolean exhausted;
            /** The size of the first page: the whole range when the script bounded it, else {@link #PAGE}. */
            final int firstPage;

            private int pageSize;
            /** The messages a window of this session holds, if any. */
            private final WindowCache.Entry held;

            /** The sequence number in a stored message's JSON: read off its start, or by parsing it all. */
            private long sequenceOf(byte[] json) {
                long seq = storedSequence(json);
                return seq > 0 ? seq : parse(json, key).sequence();
            }

            Pages(long hi, double lo, Set<Long> skip, WindowCache.Entry held) {
                super(firstPage(hi, lo));
                this.hi = hi;
                this.lo = lo;
                this.skip = skip;
                this.firstPage = firstPage(hi, lo);
                this.pageSize = firstPage;
                this.held = held;
            }

            @Override
            protected boolean more() {
                while (true) {
                    while (next < page.size()) {
                        if (!skip.contains(seqs[next])) {
                            return true;
                        }
                        next++;
                    }
                    if (exhausted) {
                        return false;
                    }
                    double max = hi;
                    int size = pageSize;
                    // Without scores: Redis formats them and the client parses them, which costs as much as the read;
                    // each message's JSON holds its sequence near the start.
                    page = call(
                            "read the context window of",
                            key,
                            () -> jedis.zrange(
                                    sessionKeys.get(RedisKeys.MESSAGES),
                                    ZRangeParams.zrangeByScoreParams(max, lo)
                                            .rev()
                                            .limit(0, size)));
                    seqs = new long[page.size()];
                    for (int i = 0; i < seqs.length; i++) {
                        seqs[i] = sequenceOf(page.get(i));
                    }
                    next = 0;
                    // A page as long as the rest of the range has read all of it.
                    exhausted = page.size() < size || (lo != Double.NEGATIVE_INFINITY && size >= max - lo + 1);
                    pageSize = Math.min(MAX_PAGE, pageSize * 2);
                    if (!page.isEmpty()) {
                        hi = seqs[seqs.length - 1] - 1;
                    }
                }
            }

            @Override
            protected Decoded take() {
                long seq = seqs[next];
                byte[] json = page.get(next++);
                Decoded d = decode(json, held);
                if (d.sequence() != seq) {
                    throw new IntegrityException("a stored message of " + key + " has sequence number " + d.sequence()
                            + " in its text but was read as " + seq);
                }
                return d;
            }
        }

        @Override
        public long count() {
            checkOpen();
            if (context.retention().maxAge().isEmpty()) {
                return call("count the messages of", key, () -> jedis.zcard(sessionKeys.get(RedisKeys.MESSAGES)));
            }
            return (Long) call("count the messages of", key, () -> Lua.READ.run(jedis, sessionKeys, countArgs()));
        }

        @Override
        public void clear() {
            delete(key);
        }

        @Override
        public String toString() {
            return "RedisStore[" + key + "]";
        }
    }

    private static final byte[] JSON_START = "{\"v\":1,\"id\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SEQ_FIELD = ",\"seq\":".getBytes(StandardCharsets.US_ASCII);

    /** What an append committed: the messages as stored, and the held window it brought up to date (or null). */
    private record Committed(List<Message> messages, WindowCache.Entry window) {}

    /**
     * Whether a message is plain: unpinned, no tool calls, no tool-call id. The append script stores it as sent (it
     * may pin a tool result whose call is pinned), and its short path takes only plain messages.
     */
    private static boolean plain(Message m) {
        return !m.isPinned() && m.toolCallId().isEmpty() && m.toolCalls().isEmpty();
    }

    /** The bytes append.lua stores for a message: the JSON before the sequence, the sequence, the JSON after it. */
    static byte[] storedJson(byte[] head, long seq, byte[] tail) {
        byte[] number = Long.toString(seq).getBytes(StandardCharsets.US_ASCII);
        byte[] json = new byte[head.length + SEQ_FIELD.length + number.length + tail.length];
        System.arraycopy(head, 0, json, 0, head.length);
        System.arraycopy(SEQ_FIELD, 0, json, head.length, SEQ_FIELD.length);
        System.arraycopy(number, 0, json, head.length + SEQ_FIELD.length, number.length);
        System.arraycopy(tail, 0, json, head.length + SEQ_FIELD.length + number.length, tail.length);
        return json;
    }

    /** The field of a session's hash that maps a message's id to its sequence number (see append.lua). */
    private static byte[] idField(Decoded message) {
        return bytes("i:" + message.message().id());
    }

    /**
     * The sequence number of a stored message's canonical JSON ({@code {"v":1,"id":"...","seq":N,...}}), read off
     * its start; 0 if the text does not start that way (the caller then parses it).
     */
    static long storedSequence(byte[] json) {
        if (!Arrays.equals(json, 0, Math.min(json.length, JSON_START.length), JSON_START, 0, JSON_START.length)) {
            return 0;
        }
        int i = JSON_START.length;
        while (i < json.length && json[i] != '"') {
            i += json[i] == '\\' ? 2 : 1;
        }
        i++;
        if (i + SEQ_FIELD.length > json.length
                || !Arrays.equals(json, i, i + SEQ_FIELD.length, SEQ_FIELD, 0, SEQ_FIELD.length)) {
            return 0;
        }
        i += SEQ_FIELD.length;
        long seq = 0;
        int digits = 0;
        while (i < json.length && json[i] >= '0' && json[i] <= '9' && digits < 18) {
            seq = seq * 10 + (json[i++] - '0');
            digits++;
        }
        return digits == 0 || i >= json.length || (json[i] != ',' && json[i] != '}') ? 0 : seq;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
