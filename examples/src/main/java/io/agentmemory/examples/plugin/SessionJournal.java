package io.agentmemory.examples.plugin;

import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.IntegrityException;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.core.backend.BackendSupport;
import io.agentmemory.core.backend.PinnedCalls;
import io.agentmemory.core.json.MessageJson;
import io.agentmemory.core.window.ContextWindows;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * One session's journal file and its parsed messages, cached after the first read. Thread-safe: appends and clears
 * take the write lock, reads the read lock; the lock is in-process, so one process owns a journal directory.
 *
 * <p>The file is a header line ({@link JournalDirectory#header}) then one {@link MessageJson} line per message, in
 * sequence order. A new file is written whole to a temporary file and renamed into place; later appends write
 * all their lines with one positioned write and, if it fails, truncate the file back to its previous length. A last
 * line without a line feed is an append a crash cut short, never acknowledged to its caller: reading drops it.
 */
final class SessionJournal {
    private static final System.Logger LOG = System.getLogger(SessionJournal.class.getName());

    private final SessionKey key;
    private final Path file;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    /** The parsed file; null until first needed, and again after a failed write left the file in doubt. */
    private Messages cache;

    SessionJournal(SessionKey key, Path file) {
        this.key = key;
        this.file = file;
    }

    /**
     * Appends the messages not yet in the session (by id), with the next sequence numbers and the given counts.
     *
     * @return the stored messages: new ones as written, known ids as they were stored before
     */
    List<Message> append(List<Message> batch, List<TokenCount> counts, boolean fsync) {
        lock.writeLock().lock();
        try {
            Messages messages = loaded();
            List<Message> stored = new ArrayList<>(batch.size());
            List<Message> fresh = new ArrayList<>(batch.size());
            ByteArrayOutputStream lines = new ByteArrayOutputStream();
            if (messages.fileLength == 0) {
                lines.writeBytes(JournalDirectory.header(key));
            }
            long next = messages.all.size() + 1;
            for (int i = 0; i < batch.size(); i++) {
                Message existing = messages.byId.get(batch.get(i).id());
                if (existing != null) {
                    stored.add(existing);
                    continue;
                }
                Message m = batch.get(i).stored(next++, counts.get(i));
                lines.writeBytes(MessageJson.toJsonBytes(m));
                lines.write('\n');
                fresh.add(m);
                stored.add(m);
            }
            if (fresh.isEmpty()) {
                return stored;
            }
            byte[] bytes = lines.toByteArray();
            if (messages.fileLength == 0) {
                create(bytes, fsync);
            } else {
                appendAt(messages.fileLength, bytes, fsync);
            }
            messages.fileLength += bytes.length;
            fresh.forEach(messages::add);
            return stored;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Writes a new file whole under a temporary name, then renames it into place. */
    private void create(byte[] bytes, boolean fsync) {
        Path dir = file.getParent();
        Path temporary = null;
        try {
            Files.createDirectories(dir);
            temporary = Files.createTempFile(dir, ".", ".tmp");
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                writeFully(channel, bytes, 0);
                if (fsync) {
                    channel.force(true);
                }
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
            temporary = null;
            if (fsync) {
                forceDirectory(dir);
            }
        } catch (IOException e) {
            cache = null;
            throw JournalMemory.unavailable("creating journal file " + file + " failed; nothing was written", e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "deleting temporary journal file " + temporary + " failed", e);
                }
            }
        }
    }

    /** Appends {@code bytes} at {@code length} with one write; on failure truncates the file back to it. */
    private void appendAt(long length, byte[] bytes, boolean fsync) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            writeFully(channel, bytes, length);
            if (fsync) {
                channel.force(true);
            }
        } catch (IOException e) {
            // The file now holds a prefix of the batch, or the whole batch unforced: take all of it back.
            // RandomAccessFile, since an interrupt may have closed the channel (and would close a new one).
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                if (raf.length() > length) {
                    raf.setLength(length);
                }
            } catch (IOException truncation) {
                e.addSuppressed(truncation);
                cache = null; // read the file again next time; a torn last line is dropped then
            }
            throw JournalMemory.unavailable("appending to journal file " + file + " failed; nothing was written", e);
        }
    }

    private static void writeFully(FileChannel channel, byte[] bytes, long position) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
    }

    /** Makes a rename durable where the platform allows it (POSIX); elsewhere a no-op. */
    private static void forceDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows cannot open a directory as a channel; NTFS journals the rename itself.
        }
    }

    /** Applies {@code read} to the session's messages under the read lock, loading them first if needed. */
    <T> T read(Function<Messages, T> read) {
        lock.readLock().lock();
        try {
            if (cache != null) {
                return read.apply(cache);
            }
        } finally {
            lock.readLock().unlock();
        }
        lock.writeLock().lock();
        try {
            return read.apply(loaded());
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Reports every message to {@code listener} as {@link RemovalCause#CLEARED}, then deletes the file. If the
     * listener throws, nothing is deleted.
     *
     * @return whether the session held any message
     */
    boolean clear(EvictionListener listener) {
        lock.writeLock().lock();
        try {
            Messages messages = loaded();
            BackendSupport.report(listener, key, messages.all, RemovalCause.CLEARED);
            if (messages.fileLength > 0) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    cache = null;
                    throw JournalMemory.unavailable("deleting journal file " + file + " failed", e);
                }
            }
            cache = new Messages();
            return !messages.all.isEmpty();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Whether the session holds a message; {@code headerLength} is the file's header size, known to the caller. */
    boolean holdsMessages(int headerLength) throws IOException {
        lock.readLock().lock();
        try {
            if (cache != null) {
                return !cache.all.isEmpty();
            }
            return Files.size(file) > headerLength;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The cache, reading the file if needed; the caller holds the write lock. */
    private Messages loaded() {
        if (cache == null) {
            cache = load();
        }
        return cache;
    }

    private Messages load() {
        Messages messages = new Messages();
        long good = 0;
        int lineNumber = 0;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            Lines lines = new Lines(in);
            byte[] line;
            while ((line = lines.next()) != null) {
                lineNumber++;
                if (!lines.terminated) {
                    if (lineNumber == 1) {
                        throw corrupt(lineNumber, "the header is incomplete");
                    }
                    dropTornTail(good, lineNumber);
                    break;
                }
                if (lineNumber == 1) {
                    SessionKey stored = JournalDirectory.parseHeader(file, line);
                    if (!stored.equals(key)) {
                        throw corrupt(
                                lineNumber,
                                "the header names another session (a file moved by hand, or a SHA-256 collision)");
                    }
                } else {
                    messages.add(parse(line, lineNumber, messages));
                }
                good += line.length + 1;
            }
        } catch (NoSuchFileException e) {
            return messages;
        } catch (IOException e) {
            throw JournalMemory.unavailable("reading journal file " + file + " failed", e);
        }
        if (lineNumber == 0) {
            throw corrupt(1, "the file is empty; a journal file starts with a header");
        }
        messages.fileLength = good;
        return messages;
    }

    private Message parse(byte[] line, int lineNumber, Messages messages) {
        Message m;
        try {
            m = MessageJson.fromJsonBytes(line);
        } catch (IntegrityException e) {
            // MessageJson's messages never contain message content.
            throw corrupt(lineNumber, e.getMessage());
        }
        long expected = messages.all.size() + 1;
        if (m.sequence() != expected) {
            throw corrupt(lineNumber, "the message has sequence " + m.sequence() + "; expected " + expected);
        }
        if (m.tokenCount().isEmpty()) {
            throw corrupt(lineNumber, "the message has no token count");
        }
        if (messages.byId.containsKey(m.id())) {
            throw corrupt(lineNumber, "the message id " + m.id() + " appears twice");
        }
        return m;
    }

    private void dropTornTail(long good, int lineNumber) throws IOException {
        LOG.log(
                System.Logger.Level.WARNING,
                "journal file " + file + ", line " + lineNumber
                        + ": dropping an incomplete last line (an append cut short, never acknowledged)");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(good);
        }
    }

    private IntegrityException corrupt(int lineNumber, String problem) {
        return new IntegrityException("journal file " + file + ", line " + lineNumber + ": " + problem
                + "; repair or remove the file (nothing in it was changed)");
    }

    @Override
    public String toString() {
        return "SessionJournal[" + key + ", " + file + "]";
    }

    /** Reads {@code \n}-terminated lines of bytes; UTF-8 never uses that byte inside a character. Not thread-safe. */
    private static final class Lines {
        private final InputStream in;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
        boolean terminated;

        Lines(InputStream in) {
            this.in = in;
        }

        /** The next line without its line feed, or null at the end. */
        byte[] next() throws IOException {
            line.reset();
            int b;
            while ((b = in.read()) >= 0) {
                if (b == '\n') {
                    terminated = true;
                    return line.toByteArray();
                }
                line.write(b);
            }
            terminated = false;
            return line.size() == 0 ? null : line.toByteArray();
        }
    }

    /**
     * A session's messages in sequence order, indexed for the reads: by id (idempotent appends), pinned apart from
     * the others (context windows). Not thread-safe: guarded by the journal's lock.
     */
    static final class Messages {
        final List<Message> all = new ArrayList<>();
        /** Pinned messages and the tool messages answering a pinned assistant message, as memory-core keeps them. */
        final List<Message> pinned = new ArrayList<>();

        final List<Message> unpinned = new ArrayList<>();
        final Map<String, Message> byId = new HashMap<>();
        final PinnedCalls pinnedCalls = new PinnedCalls();
        /** The file's length in bytes; 0 when there is no file. */
        long fileLength;

        void add(Message m) {
            all.add(m);
            byId.put(m.id(), m);
            if (pinnedCalls.admit(m)) {
                pinned.add(m);
            } else {
                unpinned.add(m);
            }
        }

        long count() {
            return all.size();
        }

        /** Filters, then offset and limit counted back from the newest; costs O(result) without filters. */
        List<Message> history(HistoryQuery query) {
            ListIterator<Message> backwards = all.listIterator(all.size());
            return BackendSupport.history(query, new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return backwards.hasPrevious();
                }

                @Override
                public Message next() {
                    return backwards.previous();
                }
            });
        }

        List<Message> contextWindow(int maxTokens) {
            ListIterator<Message> backwards = unpinned.listIterator(unpinned.size());
            Iterator<Message> newestFirst = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return backwards.hasPrevious();
                }

                @Override
                public Message next() {
                    return backwards.previous();
                }
            };
            return ContextWindows.select(maxTokens, List.copyOf(pinned), newestFirst, unpinned.size());
        }
    }
}
