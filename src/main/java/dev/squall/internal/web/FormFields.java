package dev.squall.internal.web;

import io.javalin.http.BadRequestResponse;
import org.jspecify.annotations.Nullable;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A strict reader of {@code application/x-www-form-urlencoded} text: a query string or a form body. Jetty
 * forgives bad input (a {@code %zz} becomes a missing field, a repeated field keeps its first value), which
 * would tell a publisher the wrong thing or silently drop part of what it sent; here both are a 400 that
 * says what is wrong.
 */
public final class FormFields {

    private FormFields() {
    }

    /**
     * The decoded value of the one field called {@code name} in {@code encoded}, or null when there is none.
     *
     * @param where how the error messages name the field, e.g. "query parameter"
     */
    static @Nullable String single(byte[] encoded, String name, String where) {
        String found = null;
        int count = 0;
        int start = 0;
        while (start <= encoded.length) {
            int end = indexOf(encoded, (byte) '&', start);
            if (end > start) {
                int equals = indexOf(encoded, (byte) '=', start);
                int nameEnd = Math.min(equals, end);
                String fieldName = decode(encoded, start, nameEnd, null, where);
                if (fieldName.equals(name)) {
                    count++;
                    found = nameEnd < end ? decode(encoded, nameEnd + 1, end, name, where) : "";
                }
            }
            start = end + 1;
        }
        if (count > 1) {
            throw new BadRequestResponse("give " + name + " once: the " + where + " '" + name + "' appears " + count + " times");
        }
        return found;
    }

    /** The decoded names of every field in {@code encoded}, each once, in order; empty names are left out. */
    static Set<String> names(byte[] encoded, String where) {
        Set<String> names = new LinkedHashSet<>();
        int start = 0;
        while (start <= encoded.length) {
            int end = indexOf(encoded, (byte) '&', start);
            if (end > start) {
                int nameEnd = Math.min(indexOf(encoded, (byte) '=', start), end);
                String name = decode(encoded, start, nameEnd, null, where);
                if (!name.isEmpty()) names.add(name);
            }
            start = end + 1;
        }
        return names;
    }

    private static int indexOf(byte[] bytes, byte wanted, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == wanted) return i;
        }
        return bytes.length;
    }

    /** Percent-decodes {@code bytes[from, to)} as UTF-8; {@code field} names the field in errors (null: a field name). */
    private static String decode(byte[] bytes, int from, int to, @Nullable String field, String where) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
        for (int i = from; i < to; i++) {
            byte b = bytes[i];
            if (b == '+') {
                out.write(' ');
            } else if (b == '%') {
                int high = i + 2 < to ? Character.digit(bytes[i + 1], 16) : -1;
                int low = i + 2 < to ? Character.digit(bytes[i + 2], 16) : -1;
                if (high < 0 || low < 0) {
                    String bad = new String(bytes, i, Math.min(3, to - i), StandardCharsets.ISO_8859_1);
                    throw new BadRequestResponse(subject(field, where) + " is badly percent-encoded: '" + bad
                            + "' is not % followed by two hex digits (write a literal % as %25)");
                }
                out.write(high << 4 | low);
                i += 2;
            } else {
                out.write(b);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new BadRequestResponse(subject(field, where) + " is not UTF-8 once percent-decoded");
        }
    }

    private static String subject(@Nullable String field, String where) {
        return field != null ? field : "a " + where + " name";
    }
}
