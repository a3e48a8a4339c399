package io.agentmemory;

import io.agentmemory.internal.Ids;
import io.agentmemory.internal.Json;
import io.agentmemory.internal.Text;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One message of a conversation. Immutable and thread-safe.
 *
 * <p>A message has a time-ordered {@link #id()} (a UUIDv7 made when it is built, unless given), a {@link #role()},
 * its {@link #content()} (any well-formed Unicode, NUL and emoji included), a {@link #timestamp()} (when it was
 * built, unless given; kept to the microsecond, as SQL databases keep it, within the years 1 to 9999), JSON {@link #metadata()}, and the tool-call fields: an assistant message's
 * {@link #toolCalls()} and a tool message's {@link #toolCallId()}. A stored message also carries the per-session
 * {@link #sequence()} and the {@link #tokenCount()} computed when it was written.
 *
 * <p>A message is <em>pinned</em> when its role is {@link #SYSTEM} or its metadata has {@code "pinned": true}; pinned
 * messages are always in the context window and are never removed by retention.
 */
public final class Message {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";
    public static final String TOOL = "tool";

    /** Metadata key that pins a message when its value is {@code true}. */
    public static final String PINNED = "pinned";

    /** The longest role accepted. */
    public static final int MAX_ROLE_LENGTH = 64;
    /** The most tool calls one assistant message makes. */
    public static final int MAX_TOOL_CALLS = 1024;
    /** The longest id accepted. */
    public static final int MAX_ID_LENGTH = 128;
    /**
     * The longest content accepted, in UTF-16 characters (16 Mi); also the most characters of text one message holds
     * in all: its content, its tool calls (ids, names and arguments) and its metadata (keys, strings, and numbers and
     * booleans as written) together.
     */
    public static final int MAX_CONTENT_LENGTH = 16 * 1024 * 1024;

    private static final Instant MIN_TIMESTAMP = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant MAX_TIMESTAMP = Instant.parse("9999-12-31T23:59:59.999999Z");

    private final String id;
    private final String role;
    private final String content;
    private final Instant timestamp;
    private final Map<String, Object> metadata;
    private final List<ToolCall> toolCalls;
    private final String toolCallId;
    private final long sequence;
    private final TokenCount tokenCount;
    /** {@link #tokenCount()}'s answer, made once: windows read it for every message they consider. */
    private final Optional<TokenCount> tokenCountView;

    private Message(Builder b) {
        this.id = b.id == null
                ? Ids.next()
                : Text.identifier(b.id, "message id", MAX_ID_LENGTH, ErrorCode.INVALID_MESSAGE);
        this.role = validRole(b.role);
        this.content = validContent(b.content);
        this.timestamp = validTimestamp(b.timestamp == null ? Instant.now() : b.timestamp);
        this.metadata = Json.object(b.metadata, "metadata", ErrorCode.INVALID_MESSAGE);
        if (b.toolCalls == null) {
            throw invalid("tool calls are missing; use an empty list");
        }
        for (int i = 0; i < b.toolCalls.size(); i++) {
            if (b.toolCalls.get(i) == null) {
                throw invalid("tool call " + i + " is missing");
            }
        }
        this.toolCalls = List.copyOf(b.toolCalls);
        this.toolCallId = b.toolCallId;
        if (b.sequence < 0) {
            throw invalid("sequence is " + b.sequence + "; it must be >= 1, or 0 for a message not yet stored");
        }
        this.sequence = b.sequence;
        this.tokenCount = b.tokenCount;
        this.tokenCountView = Optional.ofNullable(tokenCount);
        checkToolFields();
        checkTextLength();
    }

    /** Checks a role: not blank, at most {@link #MAX_ROLE_LENGTH} characters, no control characters. */
    public static String validRole(String role) {
        Text.identifier(role, "role", MAX_ROLE_LENGTH, ErrorCode.INVALID_MESSAGE);
        if (!role.strip().equals(role)) {
            throw invalid("role has leading or trailing white space");
        }
        return role;
    }

    private static Instant validTimestamp(Instant timestamp) {
        // Truncate first: 9999-12-31T23:59:59.999999999Z is in year 9999 and keeps as ...59.999999Z.
        Instant micros = timestamp.truncatedTo(ChronoUnit.MICROS);
        if (micros.isBefore(MIN_TIMESTAMP) || micros.isAfter(MAX_TIMESTAMP)) {
            throw invalid("timestamp " + timestamp + " is outside the years 1 to 9999");
        }
        return micros;
    }

    private static String validContent(String content) {
        if (content == null) {
            throw invalid("content is missing; use an empty string for none");
        }
        if (content.length() > MAX_CONTENT_LENGTH) {
            throw invalid("content is " + content.length() + " characters long; at most " + MAX_CONTENT_LENGTH
                    + " are allowed");
        }
        int bad = Text.firstUnpairedSurrogate(content);
        if (bad >= 0) {
            throw invalid("content contains an unpaired surrogate at index " + bad + "; it is not valid Unicode");
        }
        return content;
    }

    private void checkTextLength() {
        long length = content.length() + Json.textLength(metadata);
        for (ToolCall call : toolCalls) {
            length +=
                    call.id().length() + call.name().length() + call.arguments().length();
        }
        if (length > MAX_CONTENT_LENGTH) {
            throw invalid("the message's content, tool calls and metadata hold " + length
                    + " characters together; at most " + MAX_CONTENT_LENGTH + " are allowed");
        }
    }

    private void checkToolFields() {
        if (!toolCalls.isEmpty()) {
            if (!ASSISTANT.equals(role)) {
                throw invalid("only assistant messages carry tool calls; this one has role '" + role + "'");
            }
            if (toolCalls.size() > MAX_TOOL_CALLS) {
                throw invalid("the message makes " + toolCalls.size() + " tool calls; at most " + MAX_TOOL_CALLS
                        + " are allowed");
            }
            Set<String> ids = new HashSet<>();
            for (ToolCall call : toolCalls) {
                if (!ids.add(call.id())) {
                    throw invalid("tool call id '" + call.id() + "' appears twice in one message");
                }
            }
        }
        if (TOOL.equals(role)) {
            if (toolCallId == null) {
                throw invalid("a tool message needs the id of the tool call it answers (toolCallId)");
            }
            Text.identifier(toolCallId, "toolCallId", 256, ErrorCode.INVALID_MESSAGE);
            if (Boolean.TRUE.equals(metadata.get(PINNED))) {
                throw invalid("a tool message cannot be pinned; pin the assistant message that made the call");
            }
        } else if (toolCallId != null) {
            throw invalid("only tool messages carry a toolCallId; this one has role '" + role + "'");
        }
    }

    private static InvalidInputException invalid(String message) {
        return new InvalidInputException(ErrorCode.INVALID_MESSAGE, message);
    }

    /** A system message. */
    public static Message system(String content) {
        return builder(SYSTEM, content).build();
    }

    /** A user message. */
    public static Message user(String content) {
        return builder(USER, content).build();
    }

    /** An assistant message. */
    public static Message assistant(String content) {
        return builder(ASSISTANT, content).build();
    }

    /** An assistant message that asks for tool calls. */
    public static Message assistant(String content, List<ToolCall> toolCalls) {
        return builder(ASSISTANT, content).toolCalls(toolCalls).build();
    }

    /** A tool message answering the tool call {@code toolCallId}. */
    public static Message tool(String toolCallId, String content) {
        return builder(TOOL, content).toolCallId(toolCallId).build();
    }

    /** A builder for a message with the given role and content. */
    public static Builder builder(String role, String content) {
        return new Builder().role(role).content(content);
    }

    /**
     * This message as a store keeps it: with its sequence number and token count. Cheaper than
     * {@link #toBuilder()}, since nothing else changes and nothing else is checked again.
     *
     * @param sequence the per-session sequence number, at least 1
     * @param tokenCount the count computed when the message is written
     */
    public Message stored(long sequence, TokenCount tokenCount) {
        if (sequence < 1) {
            throw invalid("sequence is " + sequence + "; a stored message's sequence is >= 1");
        }
        if (tokenCount == null) {
            throw invalid("a stored message needs its token count");
        }
        return new Message(this, sequence, tokenCount);
    }

    private Message(Message m, long sequence, TokenCount tokenCount) {
        this.id = m.id;
        this.role = m.role;
        this.content = m.content;
        this.timestamp = m.timestamp;
        this.metadata = m.metadata;
        this.toolCalls = m.toolCalls;
        this.toolCallId = m.toolCallId;
        this.sequence = sequence;
        this.tokenCount = tokenCount;
        this.tokenCountView = Optional.of(tokenCount);
    }

    /** A builder with every field of this message. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.id = id;
        b.role = role;
        b.content = content;
        b.timestamp = timestamp;
        b.metadata = metadata;
        b.toolCalls = toolCalls;
        b.toolCallId = toolCallId;
        b.sequence = sequence;
        b.tokenCount = tokenCount;
        return b;
    }

    public String id() {
        return id;
    }

    public String role() {
        return role;
    }

    public String content() {
        return content;
    }

    public Instant timestamp() {
        return timestamp;
    }

    /** Immutable JSON metadata with sorted keys; see the package documentation for the value types. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** The tool calls an assistant message asks for; empty for every other message. */
    public List<ToolCall> toolCalls() {
        return toolCalls;
    }

    /** For a tool message, the id of the {@link ToolCall} it answers. */
    public Optional<String> toolCallId() {
        return Optional.ofNullable(toolCallId);
    }

    /** The per-session sequence number, from 1, assigned when stored; 0 for a message not yet stored. */
    public long sequence() {
        return sequence;
    }

    /** The token count computed when the message was written; empty for a message not yet stored. */
    public Optional<TokenCount> tokenCount() {
        return tokenCountView;
    }

    /** Whether this is a system message or its metadata has {@code "pinned": true}. */
    public boolean isPinned() {
        return SYSTEM.equals(role) || Boolean.TRUE.equals(metadata.get(PINNED));
    }

    /** Whether this is a tool message. */
    public boolean isToolResult() {
        return toolCallId != null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Message m
                && sequence == m.sequence
                && id.equals(m.id)
                && role.equals(m.role)
                && content.equals(m.content)
                && timestamp.equals(m.timestamp)
                && metadata.equals(m.metadata)
                && toolCalls.equals(m.toolCalls)
                && Objects.equals(toolCallId, m.toolCallId)
                && Objects.equals(tokenCount, m.tokenCount);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, role, content, timestamp, metadata, toolCalls, toolCallId, sequence, tokenCount);
    }

    /** Names the message without its content or metadata values. */
    @Override
    public String toString() {
        return "Message[id=" + id + ", role=" + role + ", sequence=" + sequence + ", content=" + content.length()
                + " chars" + (tokenCount == null ? "" : ", tokens=" + tokenCount.tokens())
                + (toolCalls.isEmpty() ? "" : ", toolCalls=" + toolCalls.size())
                + (toolCallId == null ? "" : ", toolCallId=" + toolCallId) + "]";
    }

    /** Builds a {@link Message}; {@link #build()} validates every field. Not thread-safe. */
    public static final class Builder {
        private String id;
        private String role;
        private String content;
        private Instant timestamp;
        private Map<?, ?> metadata = Map.of();
        private List<ToolCall> toolCalls = List.of();
        private String toolCallId;
        private long sequence;
        private TokenCount tokenCount;

        private Builder() {}

        /** The id; a new UUIDv7 when not set. Set it to make retries of an append idempotent. */
        public Builder id(String id) {
            this.id = id;
            return this;
        }

        public Builder role(String role) {
            this.role = role;
            return this;
        }

        public Builder content(String content) {
            this.content = content;
            return this;
        }

        /**
         * The timestamp; the time of {@link #build()} when not set or null. Truncated to the microsecond; it must lie
         * within the years 1 to 9999.
         */
        public Builder timestamp(Instant timestamp) {
            this.timestamp = timestamp;
            return this;
        }

        /** Replaces the metadata with a deep copy of {@code metadata}, which must hold JSON values only. */
        public Builder metadata(Map<String, ?> metadata) {
            this.metadata = metadata;
            return this;
        }

        /** Adds or replaces one metadata entry. */
        public Builder metadata(String key, Object value) {
            Map<Object, Object> copy = new java.util.LinkedHashMap<>(this.metadata);
            copy.put(Objects.requireNonNull(key, "key"), value);
            this.metadata = copy;
            return this;
        }

        /** Pins the message: it is always in the context window and never removed by retention. */
        public Builder pinned() {
            return metadata(PINNED, true);
        }

        public Builder toolCalls(List<ToolCall> toolCalls) {
            this.toolCalls = toolCalls;
            return this;
        }

        public Builder toolCallId(String toolCallId) {
            this.toolCallId = toolCallId;
            return this;
        }

        /** Set by stores only. */
        public Builder sequence(long sequence) {
            this.sequence = sequence;
            return this;
        }

        /** Set by stores only. */
        public Builder tokenCount(TokenCount tokenCount) {
            this.tokenCount = tokenCount;
            return this;
        }

        /**
         * The message.
         *
         * @throws InvalidInputException with {@link ErrorCode#INVALID_MESSAGE} naming the first invalid field
         */
        public Message build() {
            return new Message(this);
        }
    }
}
