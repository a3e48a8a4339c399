package io.agentmemory.core.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import io.agentmemory.Message;
import io.agentmemory.TokenCounter;
import io.agentmemory.ToolCall;
import io.agentmemory.core.json.MessageArbitraries;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class TokenCounterProperties {
    private static final List<TokenCounter> COUNTERS =
            List.of(TokenCounters.heuristic(), TokenCounters.cl100kBase(), TokenCounters.o200kBase());

    @Provide
    Arbitrary<Message> messages() {
        return MessageArbitraries.messages();
    }

    @Provide
    Arbitrary<String> texts() {
        return MessageArbitraries.text(200);
    }

    @Property(tries = 1500)
    void neverThrowsNeverNegativeAndDeterministic(@ForAll("messages") Message m) {
        Message copy = Message.builder(m.role(), new String(m.content().toCharArray()))
                .toolCalls(m.toolCalls())
                .toolCallId(m.toolCallId().orElse(null))
                .build();
        for (TokenCounter counter : COUNTERS) {
            int n = counter.count(m);
            assertThat(n).isNotNegative();
            assertThat(counter.count(m)).isEqualTo(n);
            // Only the text the model sees counts: id, timestamp, metadata, sequence and stored count do not.
            assertThat(counter.count(copy)).isEqualTo(n);
        }
    }

    @Property(tries = 1000)
    void bpeCountIsAtLeastTheFrameAndGrowsWithToolCalls(@ForAll("texts") String content, @ForAll("texts") String args) {
        Message plain = Message.assistant(content);
        List<ToolCall> calls = new ArrayList<>();
        calls.add(new ToolCall("c1", "f", args));
        Message withCall = Message.assistant(content, calls);
        for (TokenCounter counter : List.of(TokenCounters.cl100kBase(), TokenCounters.o200kBase())) {
            assertThat(counter.count(plain)).isGreaterThanOrEqualTo(ChatFormatTokenCounter.TOKENS_PER_MESSAGE + 1);
            assertThat(counter.count(withCall))
                    .isGreaterThanOrEqualTo(counter.count(plain) + ChatFormatTokenCounter.TOKENS_PER_TOOL_CALL + 1);
        }
    }

    @Property(tries = 1000)
    void heuristicIsTheCeilingOfOnePointThreeTimesTheWords(@ForAll("texts") String content) {
        long words = content.isEmpty() ? 0 : pythonSplit(content);
        assertThat(TokenCounters.heuristic().count(Message.user(content)))
                .isEqualTo((int) new java.math.BigDecimal(words)
                        .multiply(new java.math.BigDecimal("1.3"))
                        .setScale(0, java.math.RoundingMode.CEILING)
                        .longValueExact());
    }

    /** An independent word count: split on Python's white space, drop empty pieces. */
    private static long pythonSplit(String s) {
        String spaces = "[\\t\\n\\u000B\\f\\r\\u001C-\\u001F \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029"
                + "\\u202F\\u205F\\u3000]+";
        return java.util.Arrays.stream(s.split(spaces))
                .filter(w -> !w.isEmpty())
                .count();
    }
}
