package io.agentmemory.core.tokens;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * The BPE encodings agentmemory counts with. Each encoding is built once, on first use, and shared. Thread-safe.
 */
enum BpeEncoding {
    CL100K_BASE("cl100k_base", EncodingType.CL100K_BASE),
    O200K_BASE("o200k_base", EncodingType.O200K_BASE);

    /** Builds nothing until an encoding is asked for; thread-safe (a concurrent map inside). */
    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();

    private final String encodingName;
    private final EncodingType type;
    private volatile Encoding encoding;

    BpeEncoding(String encodingName, EncodingType type) {
        this.encodingName = encodingName;
        this.type = type;
    }

    /** The encoding's name as tiktoken spells it, e.g. {@code cl100k_base}. */
    String encodingName() {
        return encodingName;
    }

    /** The encoding, built on the first call. */
    Encoding encoding() {
        Encoding e = encoding;
        if (e == null) {
            synchronized (this) {
                e = encoding;
                if (e == null) {
                    e = REGISTRY.getEncoding(type);
                    encoding = e;
                }
            }
        }
        return e;
    }
}
