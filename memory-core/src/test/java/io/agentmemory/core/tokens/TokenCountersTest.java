package io.agentmemory.core.tokens;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.agentmemory.ConfigurationException;
import io.agentmemory.ErrorCode;
import io.agentmemory.Message;
import io.agentmemory.TokenCounter;
import io.agentmemory.ToolCall;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Exact counts. Every per-text token count used here was measured with jtokkit 1.1.0; the conversation totals are the
 * ones OpenAI's cookbook "How to count tokens with tiktoken" reports (129 for gpt-4 / cl100k_base, 124 for gpt-4o /
 * o200k_base).
 */
class TokenCountersTest {
    private static final TokenCounter CL100K = TokenCounters.cl100kBase();
    private static final TokenCounter O200K = TokenCounters.o200kBase();
    private static final TokenCounter HEURISTIC = TokenCounters.heuristic();

    /** Frame (3) + role (1 token for each standard role in both encodings). */
    private static final int EMPTY_MESSAGE = 4;

    @Nested
    class Ids {
        @Test
        void stableIds() {
            assertThat(CL100K.id()).isEqualTo("jtokkit-cl100k_base-chat-v1");
            assertThat(O200K.id()).isEqualTo("jtokkit-o200k_base-chat-v1");
            assertThat(HEURISTIC.id()).isEqualTo("heuristic-words-1.3");
            assertThat(CL100K).hasToString(CL100K.id());
        }

        @Test
        void factoriesShareOneInstance() {
            assertThat(TokenCounters.cl100kBase()).isSameAs(CL100K);
            assertThat(TokenCounters.o200kBase()).isSameAs(O200K);
            assertThat(TokenCounters.heuristic()).isSameAs(HEURISTIC);
            assertThat(TokenCounters.forEncoding("cl100k_base")).isSameAs(CL100K);
            assertThat(TokenCounters.forEncoding("o200k_base")).isSameAs(O200K);
            assertThat(TokenCounters.supportedEncodings()).containsExactly("cl100k_base", "o200k_base");
        }

        @ParameterizedTest
        @CsvSource({"p50k_base", "CL100K_BASE", "cl100k", "' cl100k_base'", "''", "gpt-4"})
        void unknownEncodingIsAConfigurationErrorListingTheSupportedOnes(String name) {
            ConfigurationException e =
                    catchThrowableOfType(ConfigurationException.class, () -> TokenCounters.forEncoding(name));
            assertThat(e.code()).isEqualTo(ErrorCode.CONFIGURATION);
            assertThat(e.getMessage()).contains("cl100k_base").contains("o200k_base");
        }

        @Test
        void missingEncodingName() {
            ConfigurationException e =
                    catchThrowableOfType(ConfigurationException.class, () -> TokenCounters.forEncoding(null));
            assertThat(e.getMessage()).contains("missing").contains("cl100k_base, o200k_base");
        }
    }

    @Nested
    class Bpe {
        @Test
        void helloWorldIsTwoTokensPlusTheFrame() {
            assertThat(CL100K.count(Message.user("hello world"))).isEqualTo(EMPTY_MESSAGE + 2);
            assertThat(O200K.count(Message.user("hello world"))).isEqualTo(EMPTY_MESSAGE + 2);
        }

        @Test
        void emptyContentCostsTheFrameAndTheRole() {
            for (String role : List.of(Message.SYSTEM, Message.USER, Message.ASSISTANT)) {
                assertThat(CL100K.count(Message.builder(role, "").build())).isEqualTo(EMPTY_MESSAGE);
                assertThat(O200K.count(Message.builder(role, "").build())).isEqualTo(EMPTY_MESSAGE);
            }
            // "example_assistant" is 3 tokens in both encodings.
            assertThat(CL100K.count(Message.builder("example_assistant", "").build()))
                    .isEqualTo(3 + 3);
        }

        @Test
        void emoji() {
            // U+1F600: 2 tokens in cl100k_base, 1 in o200k_base.
            assertThat(CL100K.count(Message.user("\uD83D\uDE00"))).isEqualTo(EMPTY_MESSAGE + 2);
            assertThat(O200K.count(Message.user("\uD83D\uDE00"))).isEqualTo(EMPTY_MESSAGE + 1);
            // A ZWJ family (man, woman, girl): 13 and 8 tokens.
            String family = "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67";
            assertThat(CL100K.count(Message.user(family))).isEqualTo(EMPTY_MESSAGE + 13);
            assertThat(O200K.count(Message.user(family))).isEqualTo(EMPTY_MESSAGE + 8);
        }

        @Test
        void nulAndSpecialTokenTextAreOrdinaryText() {
            assertThat(CL100K.count(Message.user("\u0000"))).isEqualTo(EMPTY_MESSAGE + 1);
            // Would make a strict encoder throw; counted as 7 ordinary tokens instead.
            assertThat(CL100K.count(Message.user("<|endoftext|>"))).isEqualTo(EMPTY_MESSAGE + 7);
            assertThat(O200K.count(Message.user("<|endoftext|>"))).isEqualTo(EMPTY_MESSAGE + 7);
        }

        @Test
        void toolCallsCountNameArgumentsAndAFrameEach() {
            // "get_weather" = 2 tokens, {"city":"Paris"} = 5 tokens, frame = 3.
            ToolCall call = new ToolCall("call_abc123", "get_weather", "{\"city\":\"Paris\"}");
            assertThat(CL100K.count(Message.assistant("", List.of(call)))).isEqualTo(EMPTY_MESSAGE + 3 + 2 + 5);
            ToolCall second = new ToolCall("call_2", "get_weather", "{\"city\":\"Paris\"}");
            assertThat(O200K.count(Message.assistant("", List.of(call, second))))
                    .isEqualTo(EMPTY_MESSAGE + 2 * (3 + 2 + 5));
            assertThat(ChatFormatTokenCounter.TOKENS_PER_TOOL_CALL).isEqualTo(3);
        }

        @Test
        void toolMessagesCountTheirToolCallId() {
            // "call_abc123" = 4 tokens, "hello world" = 2, role "tool" = 1.
            assertThat(CL100K.count(Message.tool("call_abc123", "hello world"))).isEqualTo(3 + 1 + 2 + 4);
            assertThat(O200K.count(Message.tool("call_abc123", "hello world"))).isEqualTo(3 + 1 + 2 + 4);
        }

        @Test
        void metadataIdsAndTimestampsCostNothing() {
            Message plain = Message.user("hello world");
            Message decorated = Message.builder(Message.USER, "hello world")
                    .metadata("topic", "a long metadata value that the model never sees")
                    .pinned()
                    .id("some-id")
                    .build();
            assertThat(CL100K.count(decorated)).isEqualTo(CL100K.count(plain));
        }

        /**
         * The cookbook's example conversation. Our messages have no {@code name} field, which the cookbook counts as
         * its tokens plus 1 ("example_user" = 2 tokens, "example_assistant" = 3, in both encodings); and our counts are
         * per message, so the 3 tokens priming the reply are added here.
         */
        @Test
        void cookbookConversationMatchesOpenAi() {
            List<Message> conversation = List.of(
                    Message.system("You are a helpful, pattern-following assistant that translates corporate jargon "
                            + "into plain English."),
                    Message.system("New synergies will help drive top-line growth."),
                    Message.system("Things working well together will increase revenue."),
                    Message.system("Let's circle back when we have more bandwidth to touch base on opportunities for "
                            + "increased leverage."),
                    Message.system("Let's talk later when we're less busy about how to do better."),
                    Message.user("This late pivot means we don't have time to boil the ocean for the client "
                            + "deliverable."));
            int names = (2 + 1) + (3 + 1) + (2 + 1) + (3 + 1);
            int replyPriming = 3;

            assertThat(counts(CL100K, conversation)).containsExactly(22, 14, 12, 22, 19, 23);
            assertThat(counts(O200K, conversation)).containsExactly(21, 14, 12, 21, 17, 22);
            assertThat(sum(CL100K, conversation) + names + replyPriming).isEqualTo(129);
            assertThat(sum(O200K, conversation) + names + replyPriming).isEqualTo(124);
            // The first message alone, as a request: 25 and 24 prompt tokens.
            assertThat(CL100K.count(conversation.get(0)) + replyPriming).isEqualTo(25);
            assertThat(O200K.count(conversation.get(0)) + replyPriming).isEqualTo(24);
        }

        @Test
        void largeContentIsCounted() {
            String content = "lorem ipsum dolor sit amet ".repeat(40_000);
            int n = CL100K.count(Message.user(content));
            assertThat(n).isGreaterThan(100_000).isEqualTo(CL100K.count(Message.user(content)));
            assertThat(O200K.count(Message.user("x".repeat(1 << 20)))).isPositive();
        }

        @Test
        void concurrentFirstUseSharesOneEncodingAndAgrees() throws Exception {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Callable<Integer>> tasks = new ArrayList<>();
                for (int i = 0; i < 32; i++) {
                    TokenCounter counter = i % 2 == 0 ? CL100K : O200K;
                    Message message = Message.user(i % 4 < 2 ? "hello world" : "\uD83D\uDE00");
                    tasks.add(() -> counter.count(message));
                }
                List<Integer> results = new ArrayList<>();
                for (Future<Integer> f : pool.invokeAll(tasks)) {
                    results.add(f.get());
                }
                for (int i = 0; i < results.size(); i++) {
                    // "hello world": 2 tokens in both; U+1F600: 2 in cl100k_base (even i), 1 in o200k_base.
                    int expected = i % 4 < 2 ? 2 : i % 2 == 0 ? 2 : 1;
                    assertThat(results.get(i)).isEqualTo(EMPTY_MESSAGE + expected);
                }
            } finally {
                pool.shutdownNow();
            }
        }

        private List<Integer> counts(TokenCounter counter, List<Message> messages) {
            return messages.stream().map(counter::count).toList();
        }

        private int sum(TokenCounter counter, List<Message> messages) {
            return messages.stream().mapToInt(counter::count).sum();
        }
    }

    @Nested
    class Heuristic {
        @ParameterizedTest
        @CsvSource(
                delimiter = '|',
                value = {
                    "''|0",
                    "'   '|0",
                    "hello|2",
                    "hello world|3",
                    "'  hello \t\n world  '|3",
                    "one two three|4",
                    "a b c d e f g h i j|13",
                    "a b c d e f g h i j k l m n o p q r s t|26",
                })
        void ceilingOfWordsTimesOnePointThree(String content, int expected) {
            assertThat(HEURISTIC.count(Message.user(content))).isEqualTo(expected);
        }

        @Test
        void whiteSpaceIsPythonsStrSplit() {
            // No-break spaces, NEL and ideographic space split words in Python; zero-width space does not.
            assertThat(HEURISTIC.count(Message.user("a\u00A0b\u0085c\u3000d\u2007e\u202Ff")))
                    .isEqualTo(8);
            assertThat(HEURISTIC.count(Message.user("a\u200Bb"))).isEqualTo(2);
            assertThat(HEURISTIC.count(Message.user("a\u001Cb\u000Bc"))).isEqualTo(4);
            assertThat(HEURISTIC.count(Message.user("\u0000"))).isEqualTo(2);
            assertThat(HEURISTIC.count(Message.user("\uD83D\uDE00 \uD83D\uDE00")))
                    .isEqualTo(3);
        }

        @Test
        void toolCallNamesAndArgumentsAreEstimatedTheSameWay() {
            ToolCall call = new ToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}");
            // content: 2 words -> 3; name: 1 word -> 2; arguments: 2 words -> 3.
            assertThat(HEURISTIC.count(Message.assistant("let me", List.of(call))))
                    .isEqualTo(3 + 2 + 3);
            // The tool call id of a tool message is not text of the conversation for the spec's estimate.
            assertThat(HEURISTIC.count(Message.tool("call_1", "sunny"))).isEqualTo(2);
        }
    }
}
