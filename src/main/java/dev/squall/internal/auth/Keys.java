package dev.squall.internal.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.SecurityContext;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Key;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys signatures are checked with, and the algorithms they allow: a token whose {@code alg} is not among
 * {@link #algorithms} is refused before any key is looked at, so that no token picks its own way to be checked (an
 * HS256 token "signed" with an RSA public key's bytes, {@code alg: none}).
 *
 * @param algorithms  what tokens may be signed with
 * @param selector    the candidate keys for a token's header, for nimbus's processor
 * @param description what checks tokens, for a start-up line: never the secret
 */
record Keys(Set<JWSAlgorithm> algorithms, JWSKeySelector<SecurityContext> selector, String description) {

    /** The shortest HMAC secret: 256 bits, what HS256 needs (RFC 7518, 3.2) and nimbus enforces. */
    static final int MIN_SECRET_BYTES = 32;
    /** The smallest RSA key, as NIST has required since 2013: a 1024-bit modulus is within reach of factoring. */
    static final int MIN_RSA_BITS = 2048;

    /**
     * HS256, and HS384 and HS512 when the secret is long enough for them (48 and 64 bytes): nimbus refuses to check
     * a token with a secret shorter than its algorithm's hash.
     *
     * @throws IllegalArgumentException for a secret under {@value #MIN_SECRET_BYTES} bytes; never quoting it
     */
    static Keys hmac(String secret, String setting) {
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        if (bytes.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException(setting + " must be at least " + MIN_SECRET_BYTES + " bytes, got " + bytes.length
                    + " (try: openssl rand -hex 32)");
        }
        Set<JWSAlgorithm> algorithms;
        try {
            algorithms = Set.copyOf(new MACVerifier(bytes).supportedJWSAlgorithms());
        } catch (JOSEException e) {
            throw new IllegalArgumentException(setting + " cannot be used as an HMAC secret");
        }
        return single(algorithms, new SecretKeySpec(bytes, "MAC"), "an HMAC secret (" + names(algorithms) + ")");
    }

    /**
     * The RSA or EC key in a PEM file: RS256/384/512 and PS256/384/512 for RSA; for EC, the one ES algorithm of its
     * curve (ES256 for P-256, ES384 for P-384, ES512 for P-521).
     *
     * @throws IllegalArgumentException naming the setting and the file when it is not such a key
     */
    static Keys publicKey(Path file, String setting) {
        PublicKey key = PemKey.read(file, setting);
        String where = setting + " " + file;
        if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            if (bits < MIN_RSA_BITS) {
                throw new IllegalArgumentException(where + " is a " + bits + "-bit RSA key: use " + MIN_RSA_BITS + " bits or more");
            }
            Set<JWSAlgorithm> algorithms = Set.copyOf(JWSAlgorithm.Family.RSA);
            return single(algorithms, rsa, "the " + bits + "-bit RSA public key in " + file + " (" + names(algorithms) + ")");
        }
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            JWSAlgorithm algorithm = curve == null ? null : EC_ALGORITHMS.stream()
                    .filter(candidate -> Curve.forJWSAlgorithm(candidate).contains(curve)).findFirst().orElse(null);
            if (curve == null || algorithm == null) {
                throw new IllegalArgumentException(where + " is an EC key on a curve JWTs do not use: use P-256, P-384 or P-521");
            }
            return single(Set.of(algorithm), ec, "the " + curve.getName() + " EC public key in " + file + " (" + algorithm + ")");
        }
        throw new IllegalArgumentException(where + " is not an RSA or EC public key");
    }

    /** The EC algorithms the JDK can check: not ES256K, whose curve (secp256k1) left the JDK in Java 16. */
    private static final List<JWSAlgorithm> EC_ALGORITHMS = List.of(JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

    /** Every asymmetric algorithm the JDK checks alone: RSA's and EC's. EdDSA would need Tink, which is not here. */
    static Set<JWSAlgorithm> asymmetric() {
        Set<JWSAlgorithm> algorithms = new HashSet<>(JWSAlgorithm.Family.RSA);
        algorithms.addAll(EC_ALGORITHMS);
        return Set.copyOf(algorithms);
    }

    /** These keys, and for algorithms they do not have, {@code others}: their algorithm sets must not overlap. */
    Keys and(Keys others) {
        Set<JWSAlgorithm> both = new HashSet<>(algorithms);
        both.addAll(others.algorithms);
        JWSKeySelector<SecurityContext> mine = selector;
        JWSKeySelector<SecurityContext> theirs = others.selector;
        return new Keys(Set.copyOf(both), (header, context) -> algorithms.contains(header.getAlgorithm())
                ? mine.selectJWSKeys(header, context) : theirs.selectJWSKeys(header, context),
                description + " and " + others.description);
    }

    /**
     * One key for every token whatever its {@code kid}: a single configured key has no id of its own to match, and
     * Centrifugo, whose tokens should pass here, ignores {@code kid} for its configured keys too.
     */
    private static Keys single(Set<JWSAlgorithm> algorithms, Key key, String description) {
        List<Key> keys = List.of(key);
        return new Keys(algorithms, (header, context) -> algorithms.contains(header.getAlgorithm()) ? keys : List.of(),
                description);
    }

    /** {@code HS256, HS384}: sorted, as a set has no order of its own. */
    static String names(Set<JWSAlgorithm> algorithms) {
        return algorithms.stream().map(JWSAlgorithm::getName).sorted().collect(Collectors.joining(", "));
    }
}
