package io.agentmemory.examples.plugin;

import io.agentmemory.BackendUnavailableException;
import io.agentmemory.Capability;
import io.agentmemory.ConfigurationException;
import io.agentmemory.ErrorCode;
import io.agentmemory.HistoryQuery;
import io.agentmemory.InvalidInputException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.core.backend.BackendSupport;
import io.agentmemory.core.window.ContextWindows;
import io.agentmemory.spi.MemoryContext;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@code journal} backend: each session is an append-only file of JSON lines, one {@code MessageJson} line per
 * message, under one directory. Appends cost one write (and, with {@code fsync}, one force to disk) whatever the
 * history length; a session's file is read once, on first use, and its messages are then served from memory, so
 * reads cost O(result). Declares {@link Capability#METADATA_FILTER}, {@link Capability#TIME_RANGE_FILTER},
 * {@link Capability#SESSION_LISTING} and {@link Capability#PERSISTENT}; it enforces no retention, so a context
 * whose {@link io.agentmemory.Retention} is not none is rejected. Thread-safe.
 *
 * <p>One process owns a directory: a lock file keeps other processes out, and the memories of one JVM open on the
 * same directory share their sessions. Close every memory when done; the last close releases the directory.
 *
 * <pre>{@code
 * Memory memory = Memories.builder().backend("journal").set("memory.journal.directory", "/var/lib/agent").build();
 * }</pre>
 */
public final class JournalMemory implements Memory {
    /** The name configuration selects this backend by. */
    public static final String NAME = "journal";

    private static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.of(
            Capability.METADATA_FILTER,
            Capability.TIME_RANGE_FILTER,
            Capability.SESSION_LISTING,
            Capability.PERSISTENT));

    private final JournalDirectory directory;
    private final boolean fsync;
    private final MemoryContext context;
    private final AtomicBoolean closed = new AtomicBoolean();

    private JournalMemory(JournalDirectory directory, boolean fsync, MemoryContext context) {
        this.directory = directory;
        this.fsync = fsync;
        this.context = context;
    }

    /**
     * A journal memory over {@code directory}, created if missing.
     *
     * @param fsync whether each append is forced to disk before it returns
     * @throws ConfigurationException if the context asks for retention, or the directory cannot be used
     */
    public static JournalMemory open(Path directory, boolean fsync, MemoryContext context) {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(context, "context");
        if (!context.retention().isNone()) {
            throw new ConfigurationException("the journal backend enforces no retention, but " + context.retention()
                    + " was asked for; remove the memory.retention.* settings or choose a backend whose"
                    + " capabilities include the retention you need");
        }
        return new JournalMemory(JournalDirectory.acquire(directory), fsync, context);
    }

    @Override
    public MemoryStore session(SessionKey key) {
        checkOpen();
        return new Store(BackendSupport.requireKey(key));
    }

    @Override
    public List<SessionKey> sessions(String tenant) {
        checkOpen();
        if (tenant == null) {
            throw new InvalidInputException(ErrorCode.INVALID_SESSION_KEY, "tenant is missing");
        }
        return directory.sessions(tenant);
    }

    @Override
    public boolean delete(SessionKey key) {
        checkOpen();
        return directory.journal(BackendSupport.requireKey(key)).clear(context.evictionListener());
    }

    @Override
    public Set<Capability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            directory.release();
        }
    }

    @Override
    public String toString() {
        return "JournalMemory[" + directory.root() + ", fsync=" + fsync + "]";
    }

    /** The exception for a failed file operation: retryable, naming the file but never message content. */
    static BackendUnavailableException unavailable(String what, IOException e) {
        return new BackendUnavailableException(what + " (" + e.getClass().getSimpleName() + ")", e);
    }

    private void checkOpen() {
        if (closed.get()) {
            throw BackendSupport.closed("journal memory");
        }
    }

    /** The store of one session: a view that finds the session's journal on each call. Thread-safe. */
    private final class Store implements MemoryStore {
        private final SessionKey key;

        Store(SessionKey key) {
            this.key = key;
        }

        @Override
        public SessionKey key() {
            return key;
        }

        @Override
        public Message add(Message message) {
            checkOpen();
            return addAll(List.of(BackendSupport.requireMessage(message))).get(0);
        }

        @Override
        public List<Message> addAll(List<Message> messages) {
            checkOpen();
            List<Message> batch = BackendSupport.checkBatch(messages);
            if (batch.isEmpty()) {
                return List.of();
            }
            List<TokenCount> counts = BackendSupport.countTokens(context.tokenCounter(), batch);
            return List.copyOf(directory.journal(key).append(batch, counts, fsync));
        }

        @Override
        public List<Message> history(HistoryQuery query) {
            checkOpen();
            BackendSupport.requireQuery(query);
            return directory.journal(key).read(messages -> messages.history(query));
        }

        @Override
        public List<Message> contextWindow(int maxTokens) {
            checkOpen();
            ContextWindows.checkBudget(maxTokens);
            return directory.journal(key).read(messages -> messages.contextWindow(maxTokens));
        }

        @Override
        public long count() {
            checkOpen();
            return directory.journal(key).read(SessionJournal.Messages::count);
        }

        @Override
        public void clear() {
            delete(key);
        }

        @Override
        public String toString() {
            return "JournalStore[" + key + "]";
        }
    }
}
