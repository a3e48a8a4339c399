package io.agentmemory.examples.plugin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.agentmemory.ConfigurationException;
import io.agentmemory.IntegrityException;
import io.agentmemory.InvalidInputException;
import io.agentmemory.SessionKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One journal directory as this JVM sees it: the lock file that keeps other processes out, the session journals
 * (shared by every {@link JournalMemory} open on the directory, so that their caches and locks agree), and the file
 * layout. Thread-safe.
 *
 * <p>Layout: {@code <directory>/<sha256(tenant)>/<sha256(session, scope)>.jsonl}, names in lower-case hex, so that
 * any key (256 characters of {@code /}, {@code ..}, emoji...) gives a short, inert file name. The first line of
 * each file is a header recording the real key ({@link #header}); it makes listing possible and turns a hash
 * collision into an {@link IntegrityException} instead of a shared session.
 */
final class JournalDirectory {
    static final String SUFFIX = ".jsonl";
    static final String LOCK_FILE = "journal.lock";
    static final int HEADER_VERSION = 1;

    /** Header lines are short (three ids of at most 256 characters); a longer first line is not a header. */
    private static final int MAX_HEADER_BYTES = 64 * 1024;

    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final Set<String> HEADER_FIELDS = Set.of("journal", "tenant", "session", "scope");

    /** The directories open in this JVM, by real path; guarded by itself. */
    private static final Map<Path, JournalDirectory> OPEN = new HashMap<>();

    private final Path root;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ConcurrentHashMap<SessionKey, SessionJournal> journals = new ConcurrentHashMap<>();
    private int users;

    private JournalDirectory(Path root, FileChannel lockChannel, FileLock lock) {
        this.root = root;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * The directory at {@code directory}, created if missing, shared with the other memories of this JVM open on it.
     *
     * @throws ConfigurationException if it cannot be created or another process holds it
     */
    static JournalDirectory acquire(Path directory) {
        Path real;
        try {
            Files.createDirectories(directory);
            real = directory.toRealPath();
        } catch (IOException e) {
            throw new ConfigurationException(
                    "memory.journal.directory " + directory + " cannot be created or opened ("
                            + e.getClass().getSimpleName() + "); give a writable directory",
                    e);
        }
        synchronized (OPEN) {
            JournalDirectory d = OPEN.get(real);
            if (d == null) {
                d = lock(real);
                OPEN.put(real, d);
            }
            d.users++;
            return d;
        }
    }

    private static JournalDirectory lock(Path real) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(real.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held in this JVM, but not through this class
            }
            if (lock == null) {
                throw new ConfigurationException("memory.journal.directory " + real
                        + " is in use by another process; give each process its own directory");
            }
            return new JournalDirectory(real, channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ConfigurationException(
                    "memory.journal.directory " + real + " cannot be locked ("
                            + e.getClass().getSimpleName() + "); give a writable directory on a local file system",
                    e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** Gives up one use; the last one releases the lock file and forgets the cached sessions. */
    void release() {
        synchronized (OPEN) {
            if (--users > 0) {
                return;
            }
            OPEN.remove(root);
            // Still under OPEN's monitor: a memory opening the directory again must not find the lock held.
            try {
                lock.release();
            } catch (IOException e) {
                // Closing the channel below releases the lock as well.
            }
            closeQuietly(lockChannel);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                System.getLogger(JournalDirectory.class.getName())
                        .log(System.Logger.Level.WARNING, "closing the journal lock file failed", e);
            }
        }
    }

    Path root() {
        return root;
    }

    /** The journal of {@code key}; the same object for equal keys while the directory is open. Does no I/O. */
    SessionJournal journal(SessionKey key) {
        return journals.computeIfAbsent(key, k -> new SessionJournal(k, fileOf(k)));
    }

    /** The file holding {@code key}'s messages. */
    Path fileOf(SessionKey key) {
        return tenantDirectory(key.tenant()).resolve(hex(key.session(), key.scope()) + SUFFIX);
    }

    private Path tenantDirectory(String tenant) {
        return root.resolve(hex(tenant));
    }

    /**
     * The keys of {@code tenant}'s sessions that hold messages, sorted. Reads one header per session file.
     *
     * @throws IntegrityException if a file's header is not a valid header of that tenant
     */
    List<SessionKey> sessions(String tenant) {
        Path dir = tenantDirectory(tenant);
        List<SessionKey> keys = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "[0-9a-f]*" + SUFFIX)) {
            for (Path file : files) {
                try {
                    Header header = readHeader(file);
                    if (!header.key().tenant().equals(tenant)) {
                        throw new IntegrityException("journal file " + file + ", line 1: the header names another"
                                + " tenant (a file moved by hand?); move it back or delete it");
                    }
                    if (journal(header.key()).holdsMessages(header.length())) {
                        keys.add(header.key());
                    }
                } catch (NoSuchFileException gone) {
                    // cleared since it was listed
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw JournalMemory.unavailable("listing journal directory " + dir, e);
        }
        keys.sort(null);
        return List.copyOf(keys);
    }

    /** A session file's first line: its key, and the bytes it takes with its line feed. */
    record Header(SessionKey key, int length) {}

    /** The header line of {@code key}, line feed included. */
    static byte[] header(SessionKey key) {
        ObjectNode node = MAPPER.createObjectNode()
                .put("journal", HEADER_VERSION)
                .put("tenant", key.tenant())
                .put("session", key.session())
                .put("scope", key.scope());
        try {
            return (MAPPER.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("writing JSON to memory failed", e);
        }
    }

    /** Reads and checks the first line of {@code file}. */
    static Header readHeader(Path file) throws IOException {
        byte[] buffer = new byte[4096];
        ByteBuffer line = ByteBuffer.allocate(MAX_HEADER_BYTES);
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        byte[] bytes = new byte[line.position()];
                        line.flip().get(bytes);
                        return new Header(parseHeader(file, bytes), bytes.length + 1);
                    }
                    if (!line.hasRemaining()) {
                        throw new IntegrityException("journal file " + file + ", line 1: not a journal header");
                    }
                    line.put(buffer[i]);
                }
            }
        }
        throw new IntegrityException("journal file " + file + ", line 1: the header is incomplete");
    }

    /** The key in a header line (without its line feed). */
    static SessionKey parseHeader(Path file, byte[] line) {
        JsonNode node;
        try {
            node = MAPPER.readTree(line);
        } catch (IOException e) {
            node = null;
        }
        if (node == null || !node.isObject() || node.size() != HEADER_FIELDS.size()) {
            throw new IntegrityException("journal file " + file + ", line 1: not a journal header");
        }
        for (String field : HEADER_FIELDS) {
            if (!node.has(field)) {
                throw new IntegrityException("journal file " + file + ", line 1: the header has no \"" + field + "\"");
            }
        }
        JsonNode version = node.get("journal");
        if (!version.isInt() || version.intValue() != HEADER_VERSION) {
            throw new IntegrityException("journal file " + file
                    + ", line 1: the journal format version is not supported; this plugin reads version "
                    + HEADER_VERSION);
        }
        JsonNode tenant = node.get("tenant");
        JsonNode session = node.get("session");
        JsonNode scope = node.get("scope");
        if (!tenant.isTextual() || !session.isTextual() || !scope.isTextual()) {
            throw new IntegrityException("journal file " + file + ", line 1: the header's key fields are not strings");
        }
        try {
            return new SessionKey(tenant.textValue(), session.textValue(), scope.textValue());
        } catch (InvalidInputException e) {
            throw new IntegrityException(
                    "journal file " + file + ", line 1: the header's key is invalid: " + e.getMessage());
        }
    }

    /** SHA-256 of the UTF-8 of {@code parts}, each preceded by its length so that no two lists share an input. */
    static String hex(String... parts) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        for (String part : parts) {
            byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
            sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
            sha.update(bytes);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    @Override
    public String toString() {
        return "JournalDirectory[" + root + ", sessions=" + journals.size() + "]";
    }
}
