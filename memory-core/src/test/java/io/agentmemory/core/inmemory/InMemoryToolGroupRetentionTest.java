package io.agentmemory.core.inmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agentmemory.Memory;
import io.agentmemory.MemoryException;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.RemovalCause;
import io.agentmemory.Retention;
import io.agentmemory.ToolCall;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Retention of tool-call groups whose messages are not stored next to each other, or whose call ids repeat. */
class InMemoryToolGroupRetentionTest {

    private static Message call(String content, String callId) {
        return Message.assistant(content, List.of(new ToolCall(callId, "f", "{}")));
    }

    /**
     * A failed write puts every message back as it was stored: a tool message stored unpinned stays unpinned, though
     * once its assistant message is gone the newest stored message that made its call is a pinned one.
     */
    @Test
    void aFailedWriteLeavesAnUnpinnedToolMessageUnpinned() {
        List<String> removed = new ArrayList<>();
        AtomicBoolean fail = new AtomicBoolean();
        try (Memory memory = InMemoryMemory.builder()
                .retention(Retention.maxMessages(3))
                .evictionListener((key, messages, cause) -> {
                    if (fail.get()) {
                        throw new IllegalStateException("refused");
                    }
                    messages.forEach(m -> removed.add(m.content()));
                })
                .build()) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.builder(Message.ASSISTANT, "pinned call")
                    .toolCalls(List.of(new ToolCall("call_0", "f", "{}")))
                    .pinned()
                    .build());
            store.add(call("a1", "call_0"));
            store.add(Message.tool("call_0", "t1"));
            store.add(Message.tool("call_0", "t2"));
            store.add(Message.user("u1"));
            assertThat(removed).as("the group holds the newest answer").containsExactly("a1", "t2");
            store.add(Message.user("u2"));
            fail.set(true);
            assertThatThrownBy(() -> store.add(Message.user("u3"))).isInstanceOf(MemoryException.class);
            fail.set(false);
            store.add(Message.user("u3"));
            assertThat(removed).containsExactly("a1", "t2", "t1");
            assertThat(store.history()).extracting(Message::content).containsExactly("pinned call", "u1", "u2", "u3");
        }
    }

    @Test
    void aCallIdUsedAgainByALaterAssistantMessageRemovesTheRightResult() {
        List<String> removed = new ArrayList<>();
        List<RemovalCause> causes = new ArrayList<>();
        try (Memory memory = InMemoryMemory.builder()
                .retention(Retention.maxMessages(3))
                .evictionListener((key, messages, cause) -> {
                    causes.add(cause);
                    messages.forEach(m -> removed.add(m.content()));
                })
                .build()) {
            MemoryStore store = memory.session("t", "s");
            // Some model servers number the calls of every reply from 0: the id comes back in a later turn.
            store.add(call("a1", "call_0"));
            store.add(Message.tool("call_0", "r1"));
            store.add(call("a2", "call_0"));
            store.add(Message.tool("call_0", "r2"));
            assertThat(removed)
                    .as("the first group goes whole, with its own result")
                    .containsExactly("a1", "r1");
            assertThat(causes).containsExactly(RemovalCause.SIZE);
            assertThat(store.history()).extracting(Message::content).containsExactly("a2", "r2");
            assertThat(store.contextWindow(1000)).extracting(Message::content).containsExactly("a2", "r2");
        }
    }

    @Test
    void aToolMessageAnswersTheNewestAssistantMessageBeforeItThatMadeItsCall() {
        try (Memory memory = InMemoryMemory.builder().build()) {
            MemoryStore store = memory.session("t", "s");
            store.add(call("a1", "call_0"));
            store.add(Message.tool("call_0", "r1"));
            store.add(call("a2", "call_0"));
            store.add(Message.tool("call_0", "r2a"));
            store.add(Message.tool("call_0", "r2b"));
            assertThat(store.contextWindow(1000)).extracting(Message::content).containsExactly("a1", "r1", "a2", "r2b");
        }
    }

    @Test
    void theNewestMessageIsKeptWhenItsGroupIsInterleavedWithOthers() {
        List<String> removed = new ArrayList<>();
        try (Memory memory = InMemoryMemory.builder()
                .retention(Retention.maxMessages(2))
                .evictionListener((key, messages, cause) -> messages.forEach(m -> removed.add(m.content())))
                .build()) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.user("u0"));
            store.add(call("a1", "c1"));
            store.add(Message.user("u2"));
            Message newest = store.add(Message.tool("c1", "r1"));
            assertThat(store.history())
                    .as("maxMessages never removes the newest message")
                    .contains(newest);
        }
    }

    @Test
    void theNewestMessageIsKeptUnderMaxTokensWhenItsGroupIsInterleavedWithOthers() {
        try (Memory memory = InMemoryMemory.builder()
                .tokenCounter(m -> m.content().length())
                .retention(Retention.maxTokens(5))
                .build()) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.user("u0"));
            store.add(call("a1", "c1"));
            store.add(Message.user("u2"));
            Message newest = store.add(Message.tool("c1", "result"));
            assertThat(store.history())
                    .as("maxTokens never removes the newest message")
                    .contains(newest);
        }
    }

    /**
     * Random conversations whose tool messages arrive late, after other messages, and whose call ids repeat: a tool
     * message answers the newest assistant message held before it that made its call (one that arrives after its
     * assistant message was removed answers nothing), and that group is held or removed as one; the newest message
     * always stays.
     */
    @Property(tries = 300)
    void groupsStayWholeWhateverTheirLayout(
            @ForAll long seed, @ForAll @IntRange(min = 1, max = 8) int limit, @ForAll boolean byTokens) {
        Random random = new Random(seed);
        Map<String, RemovalCause> reported = new HashMap<>();
        try (Memory memory = InMemoryMemory.builder()
                .tokenCounter(m -> m.content().length())
                .retention(byTokens ? Retention.maxTokens(limit * 3L) : Retention.maxMessages(limit))
                .evictionListener((key, messages, cause) -> messages.forEach(m -> reported.put(m.id(), cause)))
                .build()) {
            MemoryStore store = memory.session("t", "s");
            // The newest assistant message of each call id, and the newest tool message answering it.
            Map<String, String> ownerByCall = new HashMap<>();
            Map<String, String> groupResult = new HashMap<>();
            List<String> openCalls = new ArrayList<>();
            for (int step = 0; step < 60; step++) {
                String content = "x".repeat(random.nextInt(6));
                int kind = random.nextInt(3);
                Message stored;
                if (kind == 0) {
                    String callId = "call_" + random.nextInt(3);
                    stored = store.add(call(content, callId));
                    ownerByCall.put(callId, stored.id());
                    openCalls.add(callId);
                } else if (kind == 1 && !openCalls.isEmpty()) {
                    String callId = openCalls.get(random.nextInt(openCalls.size()));
                    String owner = ownerByCall.get(callId);
                    boolean ownerHeld = store.history().stream().anyMatch(m -> m.id().equals(owner));
                    stored = store.add(Message.tool(callId, content));
                    if (ownerHeld) {
                        groupResult.put(owner + "/" + callId, stored.id());
                    }
                } else {
                    stored = store.add(Message.user(content));
                }
                Set<String> held = new HashSet<>();
                store.history().forEach(m -> held.add(m.id()));
                assertThat(held).as("the newest message stays").contains(stored.id());
                for (Map.Entry<String, String> group : groupResult.entrySet()) {
                    String owner = group.getKey().substring(0, group.getKey().indexOf('/'));
                    assertThat(held.contains(owner))
                            .as("an assistant message and the tool message of its call are held together")
                            .isEqualTo(held.contains(group.getValue()));
                    if (!held.contains(owner)) {
                        assertThat(reported.get(group.getValue())).isEqualTo(reported.get(owner));
                    }
                }
            }
        }
    }
}
