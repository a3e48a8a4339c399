package io.agentmemory.examples.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.ErrorCode;
import io.agentmemory.EvictionListener;
import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.SessionKey;
import io.agentmemory.TokenCount;
import io.agentmemory.ToolCall;
import io.agentmemory.core.json.MessageJson;
import io.agentmemory.core.tokens.TokenCounters;
import io.agentmemory.spi.MemoryContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the journal keeps on disk, and what a memory opened again on the same directory finds. */
class JournalPersistenceTest {
    @TempDir
    Path dir;

    private final List<RemovalCause> causes = new ArrayList<>();
    private final MemoryContext context = new MemoryContext(
            Clock.systemUTC(), TokenCounters.heuristic(), Retention.none(), (key, removed, cause) -> causes.add(cause));

    private JournalMemory open() {
        return JournalMemory.open(dir, true, context);
    }

    private static List<Message> conversation() {
        return List.of(
                Message.system("You are terse."),
                Message.user("What is the weather in Paris?"),
                Message.assistant("", List.of(new ToolCall("call-1", "weather", "{\"city\":\"Paris\"}"))),
                Message.tool("call-1", "18 C, sunny"),
                Message.builder(Message.ASSISTANT, "18 C and sunny.")
                        .metadata("topic", "weather")
                        .build());
    }

    @Test
    void closingAndReopeningKeepsTheHistoryAndSequencesContinue() {
        SessionKey key = SessionKey.of("acme", "chat");
        List<Message> stored;
        List<Message> window;
        try (Memory memory = open()) {
            stored = memory.session(key).addAll(conversation());
            window = memory.session(key).contextWindow(40);
        }
        try (Memory memory = open()) {
            MemoryStore store = memory.session(key);
            assertThat(store.history()).containsExactlyElementsOf(stored);
            assertThat(store.count()).isEqualTo(5);
            assertThat(store.contextWindow(40)).containsExactlyElementsOf(window);
            assertThat(store.history(
                            HistoryQuery.builder().metadata("topic", "weather").build()))
                    .containsExactly(stored.get(4));
            Message next = store.add(Message.user("And tomorrow?"));
            assertThat(next.sequence()).isEqualTo(6);
            assertThat(memory.sessions("acme")).containsExactly(key);
        }
        try (Memory memory = open()) {
            assertThat(memory.session(key).history()).hasSize(6).startsWith(stored.toArray(Message[]::new));
        }
    }

    @Test
    void aRetriedIdIsNotAppendedAgainAfterReopening() {
        SessionKey key = SessionKey.of("acme", "retry");
        Message m = Message.builder(Message.USER, "once").id("request-42").build();
        Message first;
        try (Memory memory = open()) {
            first = memory.session(key).add(m);
        }
        try (Memory memory = open()) {
            assertThat(memory.session(key).add(m)).isEqualTo(first);
            assertThat(memory.session(key).count()).isEqualTo(1);
        }
    }

    @Test
    void aCountFromTheSameCounterIsKeptAndAForeignOneRecounted() {
        try (Memory memory = open()) {
            MemoryStore store = memory.session("acme", "tokens");
            String id = TokenCounters.heuristic().id();
            Message own = store.add(Message.builder(Message.USER, "one two three")
                    .tokenCount(new TokenCount(99, id))
                    .build());
            Message foreign = store.add(Message.builder(Message.USER, "one two three")
                    .tokenCount(new TokenCount(99, "elsewhere"))
                    .build());
            assertThat(own.tokenCount()).contains(new TokenCount(99, id));
            assertThat(foreign.tokenCount().orElseThrow().counterId()).isEqualTo(id);
            assertThat(foreign.tokenCount().orElseThrow().tokens()).isNotEqualTo(99);
        }
    }

    @Test
    void eachSessionIsAHeaderThenOneMessageJsonLinePerMessage() throws Exception {
        SessionKey key = new SessionKey("../../etc", "a/b:*\"'\ud83d\ude00".repeat(20), "..");
        List<Message> stored;
        try (Memory memory = open()) {
            stored = memory.session(key).addAll(conversation());
        }
        Path file = dir.resolve(JournalDirectory.hex(key.tenant()))
                .resolve(JournalDirectory.hex(key.session(), key.scope()) + ".jsonl");
        assertThat(file).isRegularFile();
        assertThat(file.getFileName().toString()).matches("[0-9a-f]{64}\\.jsonl");
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(1 + stored.size());
        assertThat(JournalDirectory.parseHeader(file, lines.get(0).getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(key);
        for (int i = 0; i < stored.size(); i++) {
            assertThat(lines.get(i + 1)).isEqualTo(MessageJson.toJson(stored.get(i)));
        }
        try (Stream<Path> all = Files.walk(dir)) {
            assertThat(all.filter(Files::isRegularFile)
                            .map(p -> dir.relativize(p).toString()))
                    .containsExactlyInAnyOrder(
                            JournalDirectory.LOCK_FILE, dir.relativize(file).toString());
        }
    }

    @Test
    void hostileKeysOfMaximumLengthGetShortFileNamesAndAreListed() {
        String longest = "\ud83d\ude00".repeat(SessionKey.MAX_LENGTH / 2);
        List<SessionKey> keys = List.of(
                new SessionKey(longest, longest, longest),
                new SessionKey(longest, "..", ""),
                new SessionKey(longest, ".", "/"),
                new SessionKey(longest, "*", "x".repeat(SessionKey.MAX_LENGTH)));
        try (Memory memory = open()) {
            for (SessionKey key : keys) {
                memory.session(key).add(Message.user("for " + key.scope().length()));
            }
        }
        try (Memory memory = open()) {
            assertThat(memory.sessions(longest))
                    .containsExactlyElementsOf(keys.stream().sorted().toList());
            for (SessionKey key : keys) {
                assertThat(memory.session(key).count()).isEqualTo(1);
            }
        }
    }

    @Test
    void memoriesOfOneJvmOnOneDirectoryShareTheirSessions() {
        SessionKey key = SessionKey.of("acme", "shared");
        try (Memory second = open()) {
            Message a;
            Message b;
            try (Memory first = open()) {
                a = first.session(key).add(Message.user("a"));
                b = second.session(key).add(Message.user("b"));
                assertThat(b.sequence()).isEqualTo(2);
                assertThat(first.session(key).history()).containsExactly(a, b);
            }
            assertThat(second.session(key).history()).containsExactly(a, b);
        }
    }

    @Test
    void clearDeletesTheFileAfterReportingAndAFailingListenerKeepsIt() throws Exception {
        SessionKey key = SessionKey.of("acme", "cleared");
        try (Memory memory = open()) {
            memory.session(key).addAll(conversation());
        }
        Path file = dir.resolve(JournalDirectory.hex("acme")).resolve(JournalDirectory.hex("cleared", "") + ".jsonl");
        byte[] before = Files.readAllBytes(file);
        MemoryContext refusing = context.withEvictionListener(failing());
        try (Memory memory = JournalMemory.open(dir, true, refusing)) {
            assertThatThrownBy(() -> memory.session(key).clear())
                    .isInstanceOf(MemoryException.class)
                    .satisfies(e -> assertThat(((MemoryException) e).code()).isEqualTo(ErrorCode.CALLBACK_FAILED));
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
        try (Memory memory = open()) {
            assertThat(memory.delete(key)).isTrue();
            assertThat(causes).containsExactly(RemovalCause.CLEARED);
            assertThat(file).doesNotExist();
            assertThat(memory.sessions("acme")).isEmpty();
            assertThat(memory.session(key).add(Message.user("again")).sequence())
                    .isEqualTo(1);
        }
    }

    private static EvictionListener failing() {
        return (key, removed, cause) -> {
            throw new IllegalStateException("refused");
        };
    }

    @Test
    void withoutFsyncMessagesSurviveClosingToo() {
        SessionKey key = SessionKey.of("acme", "fast");
        List<Message> stored;
        try (Memory memory = JournalMemory.open(dir, false, context)) {
            stored = memory.session(key).addAll(conversation());
        }
        try (Memory memory = open()) {
            assertThat(memory.session(key).history()).containsExactlyElementsOf(stored);
        }
    }
}
