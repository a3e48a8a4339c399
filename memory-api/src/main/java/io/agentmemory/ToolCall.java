package io.agentmemory;

import io.agentmemory.internal.Text;

/**
 * One call an assistant message asks a tool to make. The tool's answer is a {@link Message} with role
 * {@link Message#TOOL} whose {@link Message#toolCallId()} equals {@link #id()}. Immutable.
 *
 * @param id the call's id, unique within its message, at most 256 characters
 * @param name the tool's name, at most 256 characters
 * @param arguments the arguments as the model produced them (usually JSON text), stored verbatim; at most
 *     {@link Message#MAX_CONTENT_LENGTH} characters, which the message's whole text must also keep within
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        Text.identifier(id, "tool call id", 256, ErrorCode.INVALID_MESSAGE);
        Text.identifier(name, "tool call name", 256, ErrorCode.INVALID_MESSAGE);
        if (arguments == null) {
            throw new InvalidInputException(
                    ErrorCode.INVALID_MESSAGE, "tool call arguments are missing; use \"{}\" for none");
        }
        if (arguments.length() > Message.MAX_CONTENT_LENGTH) {
            throw new InvalidInputException(
                    ErrorCode.INVALID_MESSAGE,
                    "tool call arguments are " + arguments.length() + " characters long; at most "
                            + Message.MAX_CONTENT_LENGTH + " are allowed");
        }
        if (Text.firstUnpairedSurrogate(arguments) >= 0) {
            throw new InvalidInputException(
                    ErrorCode.INVALID_MESSAGE, "tool call arguments contain an unpaired surrogate");
        }
    }

    @Override
    public String toString() {
        return "ToolCall[id=" + id + ", name=" + name + ", arguments=" + arguments.length() + " chars]";
    }
}
