package io.agentmemory;

import io.agentmemory.internal.Text;

/**
 * A message's token count as computed once at write time, with the id of the {@link TokenCounter} that computed it.
 *
 * @param tokens the count, never negative
 * @param counterId the counter's {@link TokenCounter#id()}
 */
public record TokenCount(int tokens, String counterId) {
    public TokenCount {
        if (tokens < 0) {
            throw new InvalidInputException(
                    ErrorCode.INVALID_MESSAGE, "token count is " + tokens + "; it must be >= 0");
        }
        Text.identifier(counterId, "token counter id", 256, ErrorCode.INVALID_MESSAGE);
    }
}
