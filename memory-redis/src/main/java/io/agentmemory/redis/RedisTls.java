package io.agentmemory.redis;

import io.agentmemory.BackendUnavailableException;
import io.agentmemory.ConfigurationException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Collections;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS setup of a memory: its trust store and key store read once, when the memory opens, into one
 * {@link SSLContext}, and the parameters that turn host name verification on. A file that is missing, unreadable, of
 * another type, or that its password does not open fails with a {@link ConfigurationException} naming the setting
 * and the file, never the password. Thread-safe (stateless).
 */
final class RedisTls {
    private static final String PREFIX = "memory.redis.";

    private RedisTls() {}

    /**
     * The socket factory for the settings' trust and key stores; null when neither is set, so that the JVM's default
     * TLS setup (its trust store and {@code javax.net.ssl.*} properties) applies.
     *
     * @throws ConfigurationException if a store cannot be read or opened
     */
    static SSLSocketFactory socketFactory(RedisSettings settings) {
        if (settings.trustStore().isEmpty() && settings.keyStore().isEmpty()) {
            return null;
        }
        TrustManager[] trust = null;
        if (settings.trustStore().isPresent()) {
            trust = trustManagers(settings.trustStore().get());
        }
        KeyManager[] keys = null;
        if (settings.keyStore().isPresent()) {
            keys = keyManagers(settings.keyStore().get());
        }
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            // Null trust managers: the JVM's default trust store; null key managers: no client certificate.
            context.init(keys, trust, null);
            return context.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new ConfigurationException("TLS cannot be set up for Redis: " + e.getMessage(), e);
        }
    }

    /** Verify the server's host name against its certificate (as HTTPS does: DNS or IP subject alternative names). */
    static SSLParameters parameters() {
        SSLParameters p = new SSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        return p;
    }

    /**
     * Checks that the first node accepts this client's TLS handshake, so that a refusal is reported as what it is. A
     * server that requires client certificates refuses a client without one only after the client's side of a TLS
     * 1.3 handshake has completed, so Jedis sees a broken connection, which would read as a network failure; here the
     * client sends PING and reads the server's alert instead. Any reply (PONG, or NOAUTH before AUTH) is acceptance;
     * another failure of a cluster's seed is left to the cluster client, which may reach the other seeds.
     *
     * @throws ConfigurationException if the server refuses the handshake or its certificate is not trusted
     * @throws BackendUnavailableException if a standalone server cannot be reached
     */
    static void probe(RedisSettings settings, SSLSocketFactory factory) {
        RedisSettings.Node node = settings.nodes().get(0);
        SSLSocketFactory f = factory != null ? factory : (SSLSocketFactory) SSLSocketFactory.getDefault();
        int timeout = (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis());
        String what = "connect to " + node;
        boolean connected = false;
        boolean handshaken = false;
        try (java.net.Socket plain = new java.net.Socket()) {
            plain.connect(new java.net.InetSocketAddress(node.host(), node.port()), timeout);
            plain.setSoTimeout(timeout);
            connected = true;
            try (javax.net.ssl.SSLSocket socket =
                    (javax.net.ssl.SSLSocket) f.createSocket(plain, node.host(), node.port(), true)) {
                socket.setSSLParameters(parameters());
                socket.startHandshake();
                handshaken = true;
                try {
                    socket.getOutputStream().write("PING\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                } catch (IOException e) {
                    // The server may have closed already; its alert, if any, is still there to read.
                }
                socket.getInputStream().read();
            }
        } catch (IOException e) {
            RuntimeException refused = RedisErrors.tlsRefusal(e, what);
            if (refused != null) {
                throw refused;
            }
            if (!settings.cluster()) {
                // Unreachable: say so now rather than wait as long again for the pool to find out. A server that
                // takes the connection but never answers the handshake is most likely not listening for TLS there.
                String hint = connected && !handshaken && e instanceof java.net.SocketTimeoutException
                        ? "; no TLS handshake came back: if this port is a plain one, use redis:// (tls=false) or the"
                                + " server's tls-port, else retry later"
                        : "; retry later";
                throw new BackendUnavailableException(
                        "Redis is unavailable, could not " + what + " ("
                                + e.getClass().getSimpleName() + ": " + e.getMessage() + ")" + hint,
                        e);
            }
            // A cluster client may still reach the other seeds.
        }
    }

    private static TrustManager[] trustManagers(RedisSettings.Store store) {
        KeyStore ks = store.type().equals("PEM")
                ? pem(store.path())
                : load(
                        store,
                        RedisSettings.TRUST_STORE,
                        RedisSettings.TRUST_STORE_PASSWORD,
                        RedisSettings.TRUST_STORE_TYPE);
        int certificates = 0;
        try {
            for (String alias : Collections.list(ks.aliases())) {
                if (ks.isCertificateEntry(alias) || ks.isKeyEntry(alias) && ks.getCertificate(alias) != null) {
                    certificates++;
                }
            }
            if (certificates == 0) {
                throw new ConfigurationException(PREFIX + RedisSettings.TRUST_STORE + " (" + store.path()
                        + ") holds no certificate"
                        + (store.password().isEmpty()
                                ? "; if its certificates are protected by a password, set " + PREFIX
                                        + RedisSettings.TRUST_STORE_PASSWORD
                                : ""));
            }
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(ks);
            return f.getTrustManagers();
        } catch (GeneralSecurityException e) {
            throw new ConfigurationException(
                    PREFIX + RedisSettings.TRUST_STORE + " (" + store.path() + ") cannot be used: " + e.getMessage(),
                    e);
        }
    }

    private static KeyManager[] keyManagers(RedisSettings.Store store) {
        KeyStore ks =
                load(store, RedisSettings.KEY_STORE, RedisSettings.KEY_STORE_PASSWORD, RedisSettings.KEY_STORE_TYPE);
        char[] password = store.password().map(String::toCharArray).orElse(new char[0]);
        try {
            boolean hasKey = false;
            for (String alias : Collections.list(ks.aliases())) {
                hasKey |= ks.isKeyEntry(alias);
            }
            if (!hasKey) {
                throw new ConfigurationException(PREFIX + RedisSettings.KEY_STORE + " (" + store.path()
                        + ") holds no private key; it must hold the client's key and certificate");
            }
            KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            f.init(ks, password);
            return f.getKeyManagers();
        } catch (UnrecoverableKeyException e) {
            throw new ConfigurationException(
                    store.password().isEmpty()
                            ? PREFIX + RedisSettings.KEY_STORE_PASSWORD + " is not set, and the private key in "
                                    + store.path() + " needs one"
                            : PREFIX + RedisSettings.KEY_STORE_PASSWORD + " does not open the private key in "
                                    + store.path() + "; the key must have the same password as its store");
        } catch (GeneralSecurityException e) {
            throw new ConfigurationException(
                    PREFIX + RedisSettings.KEY_STORE + " (" + store.path() + ") cannot be used: " + e.getMessage(), e);
        } finally {
            java.util.Arrays.fill(password, '\0');
        }
    }

    /** A PKCS12 or JKS file, opened with its password. */
    private static KeyStore load(RedisSettings.Store store, String pathKey, String passwordKey, String typeKey) {
        Path path = store.path();
        checkReadable(path, pathKey);
        char[] password = store.password().map(String::toCharArray).orElse(null);
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore ks = KeyStore.getInstance(store.type());
            ks.load(in, password);
            return ks;
        } catch (IOException e) {
            if (hasCause(e, UnrecoverableKeyException.class)) {
                throw new ConfigurationException(PREFIX + passwordKey + " does not open " + path + " ("
                        + (password == null ? "no password is set" : "the password is wrong") + ")");
            }
            throw new ConfigurationException(
                    PREFIX + pathKey + " (" + path + ") cannot be read as a " + store.type() + " key store ("
                            + e.getMessage() + "); check the file and " + PREFIX + typeKey,
                    e);
        } catch (GeneralSecurityException e) {
            throw new ConfigurationException(
                    PREFIX + pathKey + " (" + path + ") cannot be read as a " + store.type() + " key store ("
                            + e.getMessage() + "); check the file and " + PREFIX + typeKey,
                    e);
        } finally {
            if (password != null) {
                java.util.Arrays.fill(password, '\0');
            }
        }
    }

    /** A PEM file of one or more X.509 certificates, as a key store of trusted certificates. */
    private static KeyStore pem(Path path) {
        String key = RedisSettings.TRUST_STORE;
        checkReadable(path, key);
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(path)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (IOException | CertificateException e) {
            throw new ConfigurationException(
                    PREFIX + key + " (" + path + ") cannot be read as PEM certificates (" + e.getMessage()
                            + "); check the file and " + PREFIX + RedisSettings.TRUST_STORE_TYPE,
                    e);
        }
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (Certificate c : certificates) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            return ks;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigurationException(PREFIX + key + " (" + path + ") cannot be used: " + e.getMessage(), e);
        }
    }

    private static void checkReadable(Path path, String key) {
        if (!Files.exists(path)) {
            throw new ConfigurationException(PREFIX + key + " names " + path + ", which does not exist");
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new ConfigurationException(PREFIX + key + " names " + path + ", which is not a readable file");
        }
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }
}
