package io.agentmemory.core.tokens;

import io.agentmemory.ConfigurationException;
import io.agentmemory.TokenCounter;
import java.util.List;
import java.util.Map;

/**
 * The built-in {@link TokenCounter}s. Every counter returned is thread-safe, deterministic, never throws for a valid
 * message, and is shared: each factory returns the same instance on every call. Thread-safe (stateless).
 *
 * <p>The BPE counters ({@link #cl100kBase()}, {@link #o200kBase()}) count what a message costs in OpenAI's chat
 * format, following OpenAI's cookbook "How to count tokens with tiktoken":
 *
 * <ul>
 *   <li>3 tokens per message (the {@code <|start|>role<|message|>...<|end|>} frame), plus the tokens of the role and
 *       of the content;
 *   <li>for each tool call of an assistant message, 3 tokens (OpenAI does not document how tool calls are
 *       rendered; each call is counted as a frame of its own, like a message) plus the tokens of the tool's name and
 *       of the arguments;
 *   <li>for a tool message, the tokens of its {@code toolCallId}.
 * </ul>
 *
 * A count is per message: the 3 tokens that prime every reply ({@code <|start|>assistant<|message|>}) belong to the
 * request, not to any message, and are not included. To reproduce the cookbook's prompt total, add 3 to the sum of
 * the messages' counts. Special-token text in content (such as {@code <|endoftext|>}) is counted as ordinary text,
 * which is how the API treats it.
 *
 * <p>The encodings ship inside jtokkit and load without network access. Each is built once, on first use, and shared
 * by every thread.
 */
public final class TokenCounters {
    private static final TokenCounter HEURISTIC = new WordHeuristicTokenCounter();
    private static final ChatFormatTokenCounter CL100K = new ChatFormatTokenCounter(BpeEncoding.CL100K_BASE);
    private static final ChatFormatTokenCounter O200K = new ChatFormatTokenCounter(BpeEncoding.O200K_BASE);
    private static final Map<String, TokenCounter> BY_ENCODING =
            Map.of(BpeEncoding.CL100K_BASE.encodingName(), CL100K, BpeEncoding.O200K_BASE.encodingName(), O200K);

    private TokenCounters() {}

    /**
     * The spec's estimate, with id {@code "heuristic-words-1.3"}: {@code ceil(1.3 × words)} for the content, plus the
     * same for each tool call's name and for its arguments. Words are the runs of non-white-space characters, white
     * space being what Python's {@code str.split()} splits on (Unicode white space including U+00A0 and U+0085). No
     * per-message overhead: an empty message costs 0.
     */
    public static TokenCounter heuristic() {
        return HEURISTIC;
    }

    /**
     * Exact counts with the {@code cl100k_base} encoding (GPT-4, GPT-3.5-turbo) in the chat format described above;
     * id {@code "jtokkit-cl100k_base-chat-v1"}.
     */
    public static TokenCounter cl100kBase() {
        return CL100K;
    }

    /**
     * Exact counts with the {@code o200k_base} encoding (GPT-4o and later) in the chat format described above; id
     * {@code "jtokkit-o200k_base-chat-v1"}.
     */
    public static TokenCounter o200kBase() {
        return O200K;
    }

    /**
     * The chat-format counter of the encoding named {@code name}.
     *
     * @param name {@code "cl100k_base"} or {@code "o200k_base"}
     * @throws ConfigurationException if {@code name} is not one of the supported encodings; the message lists them
     */
    public static TokenCounter forEncoding(String name) {
        TokenCounter counter = name == null ? null : BY_ENCODING.get(name);
        if (counter == null) {
            String problem = name == null
                    ? "token encoding is missing"
                    : "unknown token encoding '" + (name.length() <= 64 ? name : name.substring(0, 64) + "...") + "'";
            throw new ConfigurationException(problem + "; supported encodings: " + supportedEncodings());
        }
        return counter;
    }

    /** The names {@link #forEncoding(String)} accepts, sorted. */
    public static List<String> supportedEncodings() {
        return List.of(BpeEncoding.CL100K_BASE.encodingName(), BpeEncoding.O200K_BASE.encodingName());
    }
}
