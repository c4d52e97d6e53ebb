package dev.squall.support;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;

/**
 * Signed tokens for tests, minted the way an app would (nimbus-jose-jwt's signers), and keys for them: what a test
 * of token checks needs on the issuer's side. Keys are generated fresh on each call; hold the ones a class needs.
 */
public final class Tokens {

    private Tokens() {
    }

    /** A fresh 2048-bit RSA key pair with key id {@code kid} (about 100 ms to 1 s: generate once per class). */
    public static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fresh EC key pair on {@code curve} with key id {@code kid}. */
    public static ECKey ec(Curve curve, String kid) {
        try {
            return new ECKeyGenerator(curve).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Claims with {@code sub} and {@code exp} {@code seconds} after {@code now}. */
    public static JWTClaimsSet.Builder claims(String sub, Instant now, long seconds) {
        return new JWTClaimsSet.Builder().subject(sub).expirationTime(Date.from(now.plusSeconds(seconds)));
    }

    /** {@code claims} signed with HMAC {@code alg} and {@code secret} (its UTF-8 bytes), no key id. */
    public static String hmac(JWSAlgorithm alg, String secret, JWTClaimsSet claims) {
        try {
            return sign(new JWSHeader(alg), new MACSigner(secret.getBytes(StandardCharsets.UTF_8)), claims.toPayload());
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code claims} signed with RSA {@code alg} (RS* or PS*) and {@code key}, with its key id. */
    public static String rsa(JWSAlgorithm alg, RSAKey key, JWTClaimsSet claims) {
        try {
            return sign(new JWSHeader.Builder(alg).keyID(key.getKeyID()).build(), new RSASSASigner(key), claims.toPayload());
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code claims} signed with EC {@code alg} and {@code key}, with its key id. */
    public static String ec(JWSAlgorithm alg, ECKey key, JWTClaimsSet claims) {
        try {
            return sign(new JWSHeader.Builder(alg).keyID(key.getKeyID()).build(), new ECDSASigner(key), claims.toPayload());
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Any payload (JSON or not) under any header, signed by {@code signer}: for tokens no app would mint. */
    public static String sign(JWSHeader header, JWSSigner signer, Payload payload) {
        try {
            JWSObject jws = new JWSObject(header, payload);
            jws.sign(signer);
            return jws.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code key} as a PEM {@code PUBLIC KEY} file at {@code file}, as {@code openssl pkey -pubout} writes it. */
    public static Path pem(PublicKey key, Path file) {
        return write(file, pem("PUBLIC KEY", key.getEncoded()));
    }

    /** One PEM block of {@code type} around {@code der}. */
    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    public static Path write(Path file, String text) {
        try {
            return Files.writeString(file, text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Whether {@code text} quotes any part of {@code token} (a segment between dots, 8 characters of one or more). */
    public static boolean quotes(String text, String token) {
        for (String part : token.split("\\.")) {
            for (int i = 0; i + 8 <= part.length(); i += 4) {
                if (text.contains(part.substring(i, i + 8))) return true;
            }
        }
        return false;
    }

    /** A signed JWT's claims, for tests that check what was minted. */
    public static JWTClaimsSet claimsOf(String token) {
        try {
            return SignedJWT.parse(token).getJWTClaimsSet();
        } catch (java.text.ParseException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
