package io.agentmemory.core.tokens;

import com.knuddels.jtokkit.api.Encoding;
import io.agentmemory.Message;
import io.agentmemory.TokenCounter;
import io.agentmemory.ToolCall;
import java.util.Optional;

/**
 * Counts a message's tokens in OpenAI's chat format with a BPE encoding; see {@link TokenCounters} for the rule.
 * Thread-safe.
 */
final class ChatFormatTokenCounter implements TokenCounter {
    /** The frame of every message: {@code <|start|>}, the separator after the role, and {@code <|end|>}. */
    static final int TOKENS_PER_MESSAGE = 3;
    /** The frame counted for each tool call of an assistant message (an estimate: OpenAI does not document it). */
    static final int TOKENS_PER_TOOL_CALL = 3;

    private final BpeEncoding encoding;
    private final String id;

    ChatFormatTokenCounter(BpeEncoding encoding) {
        this.encoding = encoding;
        this.id = "jtokkit-" + encoding.encodingName() + "-chat-v1";
    }

    @Override
    public int count(Message message) {
        Encoding enc = encoding.encoding();
        long n = TOKENS_PER_MESSAGE + tokens(enc, message.role()) + tokens(enc, message.content());
        for (ToolCall call : message.toolCalls()) {
            n += TOKENS_PER_TOOL_CALL + tokens(enc, call.name()) + tokens(enc, call.arguments());
        }
        Optional<String> toolCallId = message.toolCallId();
        if (toolCallId.isPresent()) {
            n += tokens(enc, toolCallId.get());
        }
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    private static long tokens(Encoding enc, String text) {
        // Ordinary: text that looks like a special token is counted as text, and never makes the encoder throw.
        return text.isEmpty() ? 0 : enc.countTokensOrdinary(text);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String toString() {
        return id;
    }
}
