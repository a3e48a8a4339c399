package io.agentmemory.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Message;
import io.agentmemory.TokenCount;
import io.agentmemory.core.json.MessageJson;
import org.junit.jupiter.api.Test;

/** Reading a stored message's sequence number off the start of its JSON, as large windows do. */
class StoredSequenceTest {
    @Test
    void readsTheSequenceOfStoredMessages() {
        for (long seq : new long[] {1, 9, 10, 12345, 999_999_999_999L}) {
            for (String id : new String[] {"m1", "a\"b\\\\c", "id with \"quotes\" and \\ slashes", "é☃"}) {
                Message m = Message.builder(Message.USER, "hello \"seq\":5,")
                        .id(id)
                        .build()
                        .stored(seq, new TokenCount(3, "heuristic"));
                assertThat(RedisMemory.storedSequence(MessageJson.toJsonBytes(m)))
                        .as("%s at %d", id, seq)
                        .isEqualTo(seq);
            }
        }
    }

    @Test
    void answersZeroForAnythingElse() {
        Message unstored = Message.user("x");
        assertThat(RedisMemory.storedSequence(MessageJson.toJsonBytes(unstored)))
                .isZero();
        for (String text : new String[] {
            "",
            "{",
            "{\"v\":1,\"id\":\"m1",
            "{\"v\":1,\"id\":\"m1\",\"seq\":",
            "{\"v\":1,\"id\":\"m1\",\"seq\":7",
            "{\"v\":1,\"id\":\"m1\",\"seq\":7x",
            "{\"v\":2,\"id\":\"m1\",\"seq\":7,",
            "{\"v\":1,\"id\":\"m1\",\"role\":1,"
        }) {
            assertThat(RedisMemory.storedSequence(text.getBytes(UTF_8)))
                    .as(text)
                    .isZero();
        }
        assertThat(RedisMemory.storedSequence("{\"v\":1,\"id\":\"m1\",\"seq\":7}".getBytes(UTF_8)))
                .isEqualTo(7);
    }
}
