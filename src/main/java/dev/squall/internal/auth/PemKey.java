package dev.squall.internal.auth;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A public key from a PEM file, read with the JDK alone (nimbus-jose-jwt's PEM parser needs BouncyCastle): one
 * {@code PUBLIC KEY} block (an RSA or EC key), or one {@code CERTIFICATE} that holds one, as identity providers offer
 * for download. Anything else is refused with a sentence that says what to give instead; none of the file is quoted.
 */
final class PemKey {

    /** Far more than any public key or certificate: a bound on what a wrong path (a log, a device) makes us read. */
    private static final int MAX_FILE_BYTES = 64 * 1024;
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)\\s*-----END \\1-----");

    private PemKey() {
    }

    /**
     * The public key in {@code file}.
     *
     * @param setting how the user names the setting, for errors: {@code --token-public-key}
     * @throws IllegalArgumentException naming the setting and the file, saying what is wrong and what to give
     */
    static PublicKey read(Path file, String setting) {
        String where = setting + " " + file;
        String text = new String(bytes(file, where), StandardCharsets.ISO_8859_1);
        List<String> types = new ArrayList<>();
        List<String> bodies = new ArrayList<>();
        Matcher block = BLOCK.matcher(text);
        while (block.find()) {
            types.add(block.group(1));
            bodies.add(block.group(2));
        }
        if (types.isEmpty()) {
            throw new IllegalArgumentException(where + " is not a PEM public key: give a text file with one "
                    + "-----BEGIN PUBLIC KEY----- block (openssl pkey -in private.pem -pubout -out public.pem)");
        }
        for (String type : types) {
            if (type.contains("PRIVATE KEY")) {
                throw new IllegalArgumentException(where + " holds a private key: give Squall only the public key "
                        + "(openssl pkey -in private.pem -pubout -out public.pem)");
            }
        }
        if (types.size() > 1) {
            throw new IllegalArgumentException(where + " holds " + types.size() + " PEM blocks: give one public key "
                    + "(for several keys, serve them as a JWKS and set its URL instead)");
        }
        String type = types.get(0);
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(bodies.get(0));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": its " + type + " block is not valid base64");
        }
        return switch (type) {
            case "PUBLIC KEY" -> publicKey(der, where);
            case "CERTIFICATE" -> certificateKey(der, where);
            case "RSA PUBLIC KEY" -> throw new IllegalArgumentException(where + " is a PKCS#1 RSA PUBLIC KEY: convert it to "
                    + "a PUBLIC KEY with openssl rsa -RSAPublicKey_in -in " + file.getFileName() + " -pubout -out public.pem");
            default -> throw new IllegalArgumentException(where + " holds a " + type + " block, not a PUBLIC KEY or CERTIFICATE");
        };
    }

    private static byte[] bytes(Path file, String where) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] read = in.readNBytes(MAX_FILE_BYTES + 1);
            if (read.length > MAX_FILE_BYTES) {
                throw new IllegalArgumentException(where + " is larger than " + MAX_FILE_BYTES / 1024
                        + " KiB: it is not a PEM public key");
            }
            return read;
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(where + ": no such file");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(where + ": not readable by this user");
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": cannot be read (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** An X.509 SubjectPublicKeyInfo: the key type is in it, so each type the JDK has is tried. */
    private static PublicKey publicKey(byte[] der, String where) {
        for (String algorithm : List.of("RSA", "EC")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException notThisType) {
                // the next type, or the refusal below
            }
        }
        throw new IllegalArgumentException(where + " is not an RSA or EC public key (Ed25519 and others are not supported)");
    }

    private static PublicKey certificateKey(byte[] der, String where) {
        try {
            return CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der)).getPublicKey();
        } catch (CertificateException e) {
            throw new IllegalArgumentException(where + ": its CERTIFICATE block is not an X.509 certificate");
        }
    }
}
