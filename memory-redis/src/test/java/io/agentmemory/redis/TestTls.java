package io.agentmemory.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.SslOptions;
import redis.clients.jedis.SslVerifyMode;

/**
 * Certificates made for the tests with the openssl command line, under {@code target/tls/<uuid>/}: a private CA, a
 * server certificate it signs for IP 127.0.0.1 and DNS localhost (also good as a client, for cluster nodes talking
 * to each other), a client certificate it signs, and an unrelated CA that trusts none of them. The trust and key
 * stores the backend reads are made from them as PKCS12, JKS and PEM, with passwords new on every run. Made once per
 * test JVM. Thread-safe.
 */
final class TestTls {
    private static TestTls shared;

    /** The private CA's certificate, PEM (what Redis's tls-ca-cert-file and a PEM trust store take). */
    final Path caPem;

    final Path serverCert;
    final Path serverKey;
    /** The CA's certificate in a PKCS12 trust store protected by {@link #trustPassword}. */
    final Path trustP12;
    /** The same in a JKS trust store protected by {@link #trustPassword}. */
    final Path trustJks;

    final String trustPassword = "trust-" + UUID.randomUUID();
    /** The client's certificate and key in a PKCS12 key store protected by {@link #keyPassword}. */
    final Path clientP12;

    final String keyPassword = "key-" + UUID.randomUUID();
    /** Another CA's certificate in a PKCS12 trust store protected by {@link #trustPassword}: trusts no server here. */
    final Path otherTrustP12;

    private TestTls(Path dir) {
        this.caPem = dir.resolve("ca.crt");
        this.serverCert = dir.resolve("server.crt");
        this.serverKey = dir.resolve("server.key");
        this.trustP12 = dir.resolve("trust.p12");
        this.trustJks = dir.resolve("trust.jks");
        this.clientP12 = dir.resolve("client.p12");
        this.otherTrustP12 = dir.resolve("other-trust.p12");
    }

    /** The certificates of this test run, made on first use. */
    static synchronized TestTls shared() {
        if (shared == null) {
            Path dir = Path.of("target", "tls", UUID.randomUUID().toString()).toAbsolutePath();
            TestTls tls = new TestTls(dir);
            tls.make(dir);
            shared = tls;
        }
        return shared;
    }

    private void make(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(
                    dir.resolve("server.ext"),
                    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                            + "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
                    StandardCharsets.US_ASCII);
            Files.writeString(
                    dir.resolve("client.ext"),
                    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                            + "extendedKeyUsage=clientAuth\n",
                    StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ca(dir, "ca", "agentmemory test CA");
        ca(dir, "other-ca", "agentmemory unrelated CA");
        signed(dir, "server", "localhost", "server.ext");
        signed(dir, "client", "agentmemory-client", "client.ext");
        trustStore(dir, "ca", "ca.crt", "trust.p12", "PKCS12", trustPassword);
        trustStore(dir, "ca", "ca.crt", "trust.jks", "JKS", trustPassword);
        trustStore(dir, "other", "other-ca.crt", "other-trust.p12", "PKCS12", trustPassword);
        run(
                dir,
                "openssl",
                "pkcs12",
                "-export",
                "-in",
                "client.crt",
                "-inkey",
                "client.key",
                "-certfile",
                "ca.crt",
                "-name",
                "client",
                "-out",
                "client.p12",
                "-passout",
                "pass:" + keyPassword);
    }

    /** A trust store {@code store} of type {@code type} holding the certificate {@code file} as {@code alias}. */
    private static void trustStore(Path dir, String alias, String file, String store, String type, String password) {
        run(
                dir,
                "keytool",
                "-importcert",
                "-noprompt",
                "-alias",
                alias,
                "-file",
                file,
                "-keystore",
                store,
                "-storetype",
                type,
                "-storepass",
                password);
    }

    private static void ca(Path dir, String name, String cn) {
        run(
                dir,
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                name + ".key",
                "-out",
                name + ".crt",
                "-days",
                "7",
                "-subj",
                "/CN=" + cn,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign");
    }

    private static void signed(Path dir, String name, String cn, String extensions) {
        run(
                dir,
                "openssl",
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                name + ".key",
                "-out",
                name + ".csr",
                "-subj",
                "/CN=" + cn);
        run(
                dir,
                "openssl",
                "x509",
                "-req",
                "-in",
                name + ".csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "7",
                "-extfile",
                extensions,
                "-out",
                name + ".crt");
    }

    private static void run(Path dir, String... command) {
        Path log = dir.resolve("commands.log");
        try {
            Process p = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command[0] + " did not finish within 60 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(
                        command[0] + " " + command[1] + " failed with " + p.exitValue() + "; see " + log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "running " + command[0] + " failed; the TLS tests need openssl and keytool on the PATH", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The redis-server settings of a TLS-only server: no plain port, the server certificate, the CA for clients. */
    List<String> serverSettings(int tlsPort, String authClients) {
        return new ArrayList<>(List.of(
                "--port",
                "0",
                "--tls-port",
                Integer.toString(tlsPort),
                "--tls-cert-file",
                serverCert.toString(),
                "--tls-key-file",
                serverKey.toString(),
                "--tls-ca-cert-file",
                caPem.toString(),
                "--tls-auth-clients",
                authClients));
    }

    /** A Jedis client configuration that trusts the CA and presents the client certificate. */
    DefaultJedisClientConfig.Builder clientConfig() {
        return DefaultJedisClientConfig.builder()
                .timeoutMillis(5000)
                .sslOptions(SslOptions.builder()
                        .truststore(trustP12.toFile(), trustPassword.toCharArray())
                        .keystore(clientP12.toFile(), keyPassword.toCharArray())
                        .sslVerifyMode(SslVerifyMode.FULL)
                        .build());
    }

    /** The backend's settings for a TLS server on 127.0.0.1:{@code port}, trusting the CA (PKCS12). */
    RedisSettings.Builder settings(int port) {
        return RedisSettings.builder()
                .node("127.0.0.1", port)
                .tls(true)
                .trustStore(trustP12)
                .trustStorePassword(trustPassword);
    }
}
