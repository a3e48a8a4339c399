package io.agentmemory.core.decorator;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.HistoryQuery;
import io.agentmemory.Memory;
import io.agentmemory.MemoryStore;
import io.agentmemory.Message;
import io.agentmemory.SessionKey;
import io.agentmemory.core.inmemory.InMemoryMemory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A decorator that changes what {@code history(HistoryQuery)} returns, and nothing else, is not bypassed by
 * {@code history()}, which {@code MemoryStore} defines as {@code history(HistoryQuery.all())}.
 */
class ForwardingMemoryStoreTest {

    /** A decorator that redacts what history returns; it overrides history(HistoryQuery) only. */
    private static final class Redacting extends ForwardingMemory {
        Redacting(Memory delegate) {
            super(delegate);
        }

        @Override
        public MemoryStore session(SessionKey key) {
            return new ForwardingMemoryStore(delegate().session(key)) {
                @Override
                public List<Message> history(HistoryQuery query) {
                    return delegate().history(query).stream()
                            .map(m -> m.toBuilder().content("[redacted]").build())
                            .toList();
                }
            };
        }
    }

    @Test
    void historyWithoutAQueryGoesThroughTheDecoratorsHistory() {
        try (Memory memory = new Redacting(InMemoryMemory.builder().build())) {
            MemoryStore store = memory.session("t", "s");
            store.add(Message.user("my card number is 4111 1111 1111 1111"));
            assertThat(store.history(HistoryQuery.all()))
                    .extracting(Message::content)
                    .containsExactly("[redacted]");
            assertThat(store.history()).extracting(Message::content).containsExactly("[redacted]");
            assertThat(store.history(HistoryQuery.newest(1)))
                    .extracting(Message::content)
                    .containsExactly("[redacted]");
        }
    }
}
