package io.agentmemory.core.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.IntegrityException;
import io.agentmemory.Message;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class MessageJsonProperties {
    @Provide
    Arbitrary<Message> messages() {
        return MessageArbitraries.messages();
    }

    @Property(tries = 2000)
    void everyMessageRoundTripsExactly(@ForAll("messages") Message m) {
        String json = MessageJson.toJson(m);
        byte[] bytes = MessageJson.toJsonBytes(m);

        assertThat(bytes).isEqualTo(json.getBytes(UTF_8));
        assertThat(MessageJson.fromJson(json)).isEqualTo(m);
        assertThat(MessageJson.fromJsonBytes(bytes)).isEqualTo(m);
        assertThat(MessageJson.toJson(MessageJson.fromJson(json))).isEqualTo(json);
    }

    @Property(tries = 1000)
    void arbitraryTextContentRoundTrips(@ForAll("contents") String content) {
        Message m = Message.builder(Message.USER, content)
                .metadata(content, content)
                .build();
        assertThat(MessageJson.fromJsonBytes(MessageJson.toJsonBytes(m))).isEqualTo(m);
    }

    @Provide
    Arbitrary<String> contents() {
        return MessageArbitraries.text(300);
    }

    /** Damaged bytes either still parse to some valid message, or fail as an integrity failure: nothing else. */
    @Property(tries = 2000)
    void corruptionIsAlwaysAnIntegrityFailure(
            @ForAll("messages") Message m,
            @ForAll @IntRange(min = 0, max = 1_000_000) int position,
            @ForAll("damage") int damage) {
        byte[] bytes = MessageJson.toJsonBytes(m);
        int at = position % bytes.length;
        byte[] corrupt;
        if (damage < 0) {
            corrupt = Arrays.copyOf(bytes, at);
        } else {
            corrupt = bytes.clone();
            corrupt[at] = (byte) damage;
        }
        try {
            Message read = MessageJson.fromJsonBytes(corrupt);
            assertThat(read).isNotNull();
        } catch (IntegrityException expected) {
            assertThat(expected.getMessage()).isNotBlank();
            if (m.content().length() >= 8) {
                assertThat(expected.getMessage()).doesNotContain(m.content());
            }
        }
    }

    @Provide
    Arbitrary<Integer> damage() {
        return Arbitraries.oneOf(java.util.List.of(
                Arbitraries.just(-1),
                Arbitraries.integers().between(0, 255),
                Arbitraries.of((int) '"', (int) '\\', (int) '{', (int) '}', (int) ',', (int) ':', 0x80, 0xFF)));
    }
}
