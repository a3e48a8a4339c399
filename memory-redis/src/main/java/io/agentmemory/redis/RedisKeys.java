package io.agentmemory.redis;

import io.agentmemory.IntegrityException;
import io.agentmemory.SessionKey;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * The Redis keys of sessions and of tenants' session indexes. Every part of a {@link SessionKey} is written as
 * unpadded base64url of its UTF-8 bytes, which uses only {@code A-Z a-z 0-9 - _}: no brace can end a hash tag early,
 * no '*' or ':' means anything, and the encoding is injective, so two different keys never share a Redis key.
 *
 * <pre>
 * &lt;prefix&gt;{&lt;tenant&gt;.&lt;session&gt;.&lt;scope&gt;}:d|u|p|t|m   one session, all in one cluster slot
 * &lt;prefix&gt;{&lt;tenant&gt;}:sessions                          the tenant's session index (member &lt;session&gt;.&lt;scope&gt;)
 * </pre>
 *
 * The two tags cannot coincide: a session's tag holds two dots, a tenant's none. Immutable and thread-safe.
 */
final class RedisKeys {
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

    private final String prefix;

    RedisKeys(String prefix) {
        this.prefix = prefix;
    }

    /** The index of {@link #session}'s hash that holds the session's counters, epoch and id index. */
    static final int DATA = 0;

    /** The index of {@link #session}'s sorted set of unpinned messages by sequence. */
    static final int UNPINNED = 1;

    /** The index of {@link #session}'s sorted set of pinned messages by sequence. */
    static final int PINNED = 2;

    /** The index of {@link #session}'s sorted set that holds every message's JSON by sequence. */
    static final int MESSAGES = 4;

    /** The five keys of one session, in the order the scripts take them: d, u, p, t, m. */
    List<byte[]> session(SessionKey key) {
        String base =
                prefix + "{" + encode(key.tenant()) + "." + encode(key.session()) + "." + encode(key.scope()) + "}:";
        return List.of(bytes(base + "d"), bytes(base + "u"), bytes(base + "p"), bytes(base + "t"), bytes(base + "m"));
    }

    /** The key of {@code tenant}'s session index. */
    byte[] index(String tenant) {
        return bytes(prefix + "{" + encode(tenant) + "}:sessions");
    }

    /** The member of the session index that stands for {@code key}. */
    static byte[] indexMember(SessionKey key) {
        return bytes(encode(key.session()) + "." + encode(key.scope()));
    }

    /** The key an index member of {@code tenant} stands for. */
    static SessionKey fromIndexMember(String tenant, byte[] member) {
        String text = new String(member, StandardCharsets.US_ASCII);
        int dot = text.indexOf('.');
        if (dot < 0 || text.indexOf('.', dot + 1) >= 0) {
            throw new IntegrityException("a session index entry of a tenant is malformed (" + member.length
                    + " bytes); it was not written by this backend");
        }
        return new SessionKey(tenant, decode(text.substring(0, dot)), decode(text.substring(dot + 1)));
    }

    static String encode(String part) {
        return ENCODER.encodeToString(part.getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String text) {
        try {
            byte[] raw = DECODER.decode(text);
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(raw))
                    .toString();
        } catch (IllegalArgumentException | CharacterCodingException e) {
            throw new IntegrityException(
                    "a session index entry is not base64url of UTF-8; it was not written by this" + " backend");
        }
    }

    private static byte[] bytes(String ascii) {
        return ascii.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "RedisKeys[prefix=" + prefix + "]";
    }
}
