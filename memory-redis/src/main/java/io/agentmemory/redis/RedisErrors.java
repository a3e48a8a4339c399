package io.agentmemory.redis;

import io.agentmemory.BackendUnavailableException;
import io.agentmemory.ConfigurationException;
import io.agentmemory.IntegrityException;
import io.agentmemory.MemoryException;
import java.security.cert.CertificateException;
import java.util.List;
import javax.net.ssl.SSLException;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Turns Jedis's exceptions into the {@link MemoryException} family: connection failures, exhausted cluster retries,
 * and the server's transient refusals (LOADING, TRYAGAIN, CLUSTERDOWN, BUSY...) become a retryable
 * {@link BackendUnavailableException}; refused credentials, a server certificate that is not trusted and a TLS
 * handshake the server refuses a {@link ConfigurationException}; a key holding something
 * this backend did not write an {@link IntegrityException}. Messages name the operation and the session, never
 * message content or the password. Thread-safe (stateless).
 */
final class RedisErrors {
    private static final List<String> TRANSIENT = List.of(
            "LOADING",
            "TRYAGAIN",
            "CLUSTERDOWN",
            "MASTERDOWN",
            "READONLY",
            "BUSY",
            "NOREPLICAS",
            "MOVED",
            "ASK",
            "OOM",
            "NOSCRIPT",
            "UNBLOCKED",
            "MISCONF");

    private RedisErrors() {}

    /**
     * The exception to throw for {@code e}, which Jedis threw while doing {@code what}.
     *
     * @param what the operation and its target, e.g. "append to SessionKey[...]"
     */
    static MemoryException translate(JedisException e, String what) {
        if (e instanceof JedisAccessControlException) {
            return new ConfigurationException("Redis refused the credentials while trying to " + what + " ("
                    + firstWord(e) + "); check memory.redis.user and memory.redis.password");
        }
        if (e instanceof JedisDataException) {
            String word = firstWord(e);
            if (word.equals("NOAUTH") || word.equals("WRONGPASS") || word.equals("NOPERM")) {
                return new ConfigurationException("Redis refused the credentials or permissions while trying to " + what
                        + " (" + word + "); check memory.redis.user and memory.redis.password");
            }
            if (word.equals("WRONGTYPE") || String.valueOf(e.getMessage()).contains("agentmemory:")) {
                return new IntegrityException(
                        "the Redis keys of the session hold data this backend did not write or"
                                + " that is out of step, while trying to " + what + ": " + redisMessage(e),
                        e);
            }
            if (TRANSIENT.contains(word)) {
                return new BackendUnavailableException("Redis is not ready to " + what + ": " + redisMessage(e), e);
            }
            return new BackendUnavailableException("Redis failed to " + what + ": " + redisMessage(e), e);
        }
        ConfigurationException tls = tlsRefusal(e, what);
        if (tls != null) {
            return tls;
        }
        return new BackendUnavailableException(
                "Redis is unavailable, could not " + what + " (" + e.getClass().getSimpleName() + ": " + redisMessage(e)
                        + "); retry later",
                e);
    }

    /**
     * The error for a TLS handshake that failed for want of trust: this client did not accept the server's
     * certificate, or the server refused this client (its certificate, or the lack of one); null for other failures.
     */
    static ConfigurationException tlsRefusal(Throwable e, String what) {
        Throwable certificate = find(e, CertificateException.class, 0);
        if (certificate != null) {
            return new ConfigurationException("Redis's TLS certificate was not accepted while trying to " + what + " ("
                    + message(certificate) + "); it must chain to a CA of memory.redis.trust-store (or of the JVM's"
                    + " trust store when that is not set) and name the host connected to");
        }
        Throwable refused = find(e, SSLException.class, 0);
        if (refused != null && refusedByServer(refused)) {
            return new ConfigurationException("Redis refused the TLS handshake while trying to " + what + " ("
                    + message(refused) + "); if it requires client certificates (tls-auth-clients), set"
                    + " memory.redis.key-store to a certificate signed by a CA it trusts");
        }
        return null;
    }

    /** TLS alerts a server sends when it does not accept the client (its certificate, or the lack of one). */
    private static final List<String> REFUSALS = List.of(
            "bad_certificate",
            "certificate_required",
            "unknown_ca",
            "certificate_unknown",
            "unsupported_certificate",
            "certificate_revoked",
            "certificate_expired",
            "access_denied");

    private static boolean refusedByServer(Throwable e) {
        String m = String.valueOf(e.getMessage());
        return m.startsWith("Received fatal alert: ")
                && REFUSALS.contains(m.substring(22).strip());
    }

    /** The first cause or suppressed exception of {@code type} within a few levels of {@code t}; null if none. */
    private static Throwable find(Throwable t, Class<? extends Throwable> type, int depth) {
        if (t == null || depth > 8) {
            return null;
        }
        if (type.isInstance(t)) {
            return t;
        }
        for (Throwable s : t.getSuppressed()) {
            Throwable found = find(s, type, depth + 1);
            if (found != null) {
                return found;
            }
        }
        return t.getCause() == t ? null : find(t.getCause(), type, depth + 1);
    }

    private static String firstWord(Exception e) {
        String m = String.valueOf(e.getMessage()).strip();
        int space = m.indexOf(' ');
        return space < 0 ? m : m.substring(0, space);
    }

    /** The server's or client's message, first line, at most 200 characters (it never holds message content). */
    private static String redisMessage(Exception e) {
        return message(e);
    }

    private static String message(Throwable e) {
        String m = String.valueOf(e.getMessage()).strip();
        int newline = m.indexOf('\n');
        if (newline >= 0) {
            m = m.substring(0, newline);
        }
        return m.length() <= 200 ? m : m.substring(0, 200) + "...";
    }
}
