package io.agentmemory.internal;

import io.agentmemory.ErrorCode;
import io.agentmemory.InvalidInputException;

/** Validation of identifiers and text. Not API. Thread-safe (stateless). */
public final class Text {
    private Text() {}

    /**
     * Index of the first unpaired UTF-16 surrogate in {@code s}, or -1 when {@code s} is well-formed Unicode.
     */
    public static int firstUnpairedSurrogate(CharSequence s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            } else if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /** Index of the first ISO control character (C0, DEL, C1) in {@code s}, or -1. */
    public static int firstControl(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isISOControl(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Checks an identifier: present, not blank, at most {@code maxLength} characters, no control characters, no
     * unpaired surrogates. The message names {@code what} but never echoes the value.
     */
    public static String identifier(String value, String what, int maxLength, ErrorCode code) {
        if (value == null) {
            throw new InvalidInputException(code, what + " is missing; give a non-blank value");
        }
        if (value.isBlank()) {
            throw new InvalidInputException(code, what + " is blank; give a non-blank value");
        }
        return boundedText(value, what, maxLength, code);
    }

    /** Like {@link #identifier} but allows the empty string. */
    public static String boundedText(String value, String what, int maxLength, ErrorCode code) {
        if (value == null) {
            throw new InvalidInputException(code, what + " is missing");
        }
        if (value.length() > maxLength) {
            throw new InvalidInputException(
                    code, what + " is " + value.length() + " characters long; at most " + maxLength + " are allowed");
        }
        int control = firstControl(value);
        if (control >= 0) {
            throw new InvalidInputException(
                    code,
                    what + " contains the control character U+" + hex(value.charAt(control)) + " at index " + control
                            + "; control characters are not allowed");
        }
        int surrogate = firstUnpairedSurrogate(value);
        if (surrogate >= 0) {
            throw new InvalidInputException(
                    code, what + " contains an unpaired surrogate at index " + surrogate + "; it is not valid Unicode");
        }
        return value;
    }

    private static String hex(char c) {
        return String.format("%04X", (int) c);
    }
}
