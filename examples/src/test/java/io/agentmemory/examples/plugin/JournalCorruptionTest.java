package io.agentmemory.examples.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.IntegrityException;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged journal file fails with an {@link IntegrityException} naming the file and line, never its content. */
class JournalCorruptionTest {
    private static final String SECRET = "Zq7-do-not-echo";
    private static final SessionKey KEY = SessionKey.of("acme", "chat");

    @TempDir
    Path dir;

    private final MemoryContext context =
            new MemoryContext(Clock.systemUTC(), TokenCounters.heuristic(), Retention.none(), EvictionListener.NONE);
    private Path file;
    private List<Message> stored;

    @BeforeEach
    void writeFiveMessages() {
        try (Memory memory = open()) {
            stored = memory.session(KEY)
                    .addAll(IntStream.range(0, 5)
                            .mapToObj(i -> Message.user(SECRET + " " + i))
                            .toList());
        }
        file = dir.resolve(JournalDirectory.hex(KEY.tenant()))
                .resolve(JournalDirectory.hex(KEY.session(), KEY.scope()) + ".jsonl");
    }

    private JournalMemory open() {
        return JournalMemory.open(dir, true, context);
    }

    private List<String> lines() throws Exception {
        return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    private void write(List<String> lines) throws Exception {
        Files.write(file, lines, StandardCharsets.UTF_8);
    }

    /** Every read of the session fails the same way, and the file is left exactly as it was. */
    private void assertCorrupt(String where) throws Exception {
        byte[] before = Files.readAllBytes(file);
        try (Memory memory = open()) {
            MemoryStore store = memory.session(KEY);
            List<ThrowingCallable> calls = List.of(
                    store::history,
                    store::count,
                    () -> store.contextWindow(1000),
                    () -> store.add(Message.user("more")),
                    store::clear);
            for (ThrowingCallable call : calls) {
                IntegrityException e = catchThrowableOfType(IntegrityException.class, call);
                assertThat(e).as("an IntegrityException").isNotNull();
                assertThat(e.code()).isEqualTo(ErrorCode.INTEGRITY_FAILURE);
                assertThat(e.getMessage())
                        .contains(file.toString())
                        .contains(where)
                        .doesNotContain(SECRET);
                assertThat(String.valueOf(e.getCause())).doesNotContain(SECRET);
            }
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    @Test
    void aLineThatIsNotJsonNamesTheFileAndLine() throws Exception {
        List<String> lines = lines();
        lines.set(3, lines.get(3).substring(0, 40) + " " + SECRET + " }");
        write(lines);
        assertCorrupt("line 4:");
    }

    @Test
    void aLineWithAnUnknownFieldIsCorrupt() throws Exception {
        List<String> lines = lines();
        lines.set(2, lines.get(2).replace("\"role\"", "\"rôle\""));
        write(lines);
        assertCorrupt("line 3:");
    }

    @Test
    void aMissingLineBreaksTheSequence() throws Exception {
        List<String> lines = lines();
        lines.remove(2);
        write(lines);
        assertCorrupt("line 3: the message has sequence 3; expected 2");
    }

    @Test
    void aFileUnderAnotherKeysNameIsRefused() throws Exception {
        SessionKey other = SessionKey.of("acme", "other");
        Path otherFile = file.resolveSibling(JournalDirectory.hex(other.session(), other.scope()) + ".jsonl");
        Files.move(file, otherFile);
        try (Memory memory = open()) {
            IntegrityException e = catchThrowableOfType(
                    IntegrityException.class, () -> memory.session(other).history());
            assertThat(e.getMessage()).contains(otherFile.toString()).contains("line 1: the header names another");
        }
    }

    @Test
    void anIncompleteLastLineIsAnUnacknowledgedAppendAndIsDropped() throws Exception {
        long length = Files.size(file);
        Files.write(file, "{\"v\":1,\"id\":\"torn".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        try (Memory memory = open()) {
            MemoryStore store = memory.session(KEY);
            assertThat(store.history()).containsExactlyElementsOf(stored);
            assertThat(Files.size(file)).isEqualTo(length);
            assertThat(store.add(Message.user("next")).sequence()).isEqualTo(6);
        }
        try (Memory memory = open()) {
            assertThat(memory.session(KEY).count()).isEqualTo(6);
        }
    }

    @Test
    void anEmptyFileIsCorrupt() throws Exception {
        Files.write(file, new byte[0]);
        assertCorrupt("line 1: the file is empty");
    }
}
