package dev.squall.internal.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import dev.squall.internal.auth.TokenRejected.Reason;
import dev.squall.support.Tokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * {@code --token-public-key FILE}: the PEM files an app or an identity provider hands over (a public key, a
 * certificate), the algorithms each allows, and every file that is not one, refused with the setting and the file
 * named and nothing of the file quoted.
 */
@Timeout(120)
class PemKeyTest {

    private static final Instant NOW = Instant.now();
    private static final RSAKey RSA = Tokens.rsa("r1");
    private static final ECKey P256 = Tokens.ec(Curve.P_256, "e1");

    @TempDir
    Path dir;

    private static TokenVerifier verifier(Path file) {
        TokenVerifier verifier = TokenVerifier.create(new TokenSettings(null, file, null, null, null), field -> "--token-public-key");
        assertThat(verifier).isNotNull();
        return verifier;
    }

    private static String user(TokenVerifier verifier, String token) throws TokenRejected {
        return verifier.verify(token).identity().user();
    }

    private static Reason reason(TokenVerifier verifier, String token) {
        TokenRejected rejected = catchThrowableOfType(TokenRejected.class, () -> verifier.verify(token));
        assertThat(rejected).isNotNull();
        return rejected.reason();
    }

    private static com.nimbusds.jwt.JWTClaimsSet claims() {
        return Tokens.claims("ada", NOW, 60).build();
    }

    /** Refused at start: the setting and the file named, what is wrong said, nothing of the file quoted. */
    private void refused(Path file, String why) {
        assertThatThrownBy(() -> verifier(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--token-public-key " + file)
                .hasMessageContaining(why);
    }

    @Test
    void an_rsa_public_key_accepts_the_rs_and_ps_algorithms_and_no_other() throws Exception {
        TokenVerifier verifier = verifier(Tokens.pem(RSA.toRSAPublicKey(), dir.resolve("rsa.pem")));
        for (JWSAlgorithm alg : List.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512, JWSAlgorithm.PS256,
                JWSAlgorithm.PS384, JWSAlgorithm.PS512)) {
            assertThat(user(verifier, Tokens.rsa(alg, RSA, claims()))).as(alg.getName()).isEqualTo("ada");
        }
        assertThat(reason(verifier, Tokens.rsa(JWSAlgorithm.RS256, Tokens.rsa("other"), claims()))).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(verifier, Tokens.ec(JWSAlgorithm.ES256, P256, claims()))).isEqualTo(Reason.WRONG_ALGORITHM);
        assertThat(verifier.describe()).contains("2048-bit RSA public key", "rsa.pem", "RS256", "PS512");
    }

    @Test
    void an_ec_public_key_accepts_only_the_algorithm_of_its_curve() throws Exception {
        TokenVerifier p256 = verifier(Tokens.pem(P256.toECPublicKey(), dir.resolve("p256.pem")));
        assertThat(user(p256, Tokens.ec(JWSAlgorithm.ES256, P256, claims()))).isEqualTo("ada");
        ECKey p384 = Tokens.ec(Curve.P_384, "e384");
        assertThat(reason(p256, Tokens.ec(JWSAlgorithm.ES384, p384, claims()))).isEqualTo(Reason.WRONG_ALGORITHM);
        assertThat(reason(p256, Tokens.ec(JWSAlgorithm.ES256, Tokens.ec(Curve.P_256, "forger"), claims()))).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(p256.describe()).contains("P-256 EC public key", "(ES256)");

        TokenVerifier onP384 = verifier(Tokens.pem(p384.toECPublicKey(), dir.resolve("p384.pem")));
        assertThat(user(onP384, Tokens.ec(JWSAlgorithm.ES384, p384, claims()))).isEqualTo("ada");
        assertThat(reason(onP384, Tokens.ec(JWSAlgorithm.ES256, P256, claims()))).isEqualTo(Reason.WRONG_ALGORITHM);
    }

    @Test
    void a_certificate_from_keytool_gives_its_public_key() throws Exception {
        Path store = dir.resolve("keys.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "squall", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=squall-test",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes());
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(output).isZero();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, "changeit".toCharArray());
        }
        Certificate certificate = keys.getCertificate("squall");
        PrivateKey privateKey = (PrivateKey) keys.getKey("squall", "changeit".toCharArray());
        TokenVerifier verifier = verifier(Tokens.write(dir.resolve("cert.pem"), Tokens.pem("CERTIFICATE", certificate.getEncoded())));
        String token = Tokens.sign(new JWSHeader(JWSAlgorithm.RS256), new RSASSASigner(privateKey), claims().toPayload());
        assertThat(user(verifier, token)).isEqualTo("ada");
    }

    @Test
    void a_private_key_is_refused_and_not_quoted() throws Exception {
        String pem = Tokens.pem("PRIVATE KEY", RSA.toRSAPrivateKey().getEncoded());
        Path file = Tokens.write(dir.resolve("private.pem"), pem);
        refused(file, "holds a private key: give Squall only the public key (openssl pkey -in private.pem -pubout");
        String body = pem.lines().skip(1).findFirst().orElseThrow();
        assertThatThrownBy(() -> verifier(file)).message().doesNotContain(body);
        refused(Tokens.write(dir.resolve("both.pem"), Tokens.pem("PUBLIC KEY", RSA.toRSAPublicKey().getEncoded())
                + Tokens.pem("EC PRIVATE KEY", new byte[]{1, 2, 3})), "holds a private key");
    }

    @Test
    void a_pkcs1_rsa_key_is_refused_with_how_to_convert_it() throws Exception {
        refused(Tokens.write(dir.resolve("pkcs1.pem"), Tokens.pem("RSA PUBLIC KEY", new byte[]{48, 3, 2, 1, 1})),
                "is a PKCS#1 RSA PUBLIC KEY: convert it to a PUBLIC KEY with openssl rsa -RSAPublicKey_in -in pkcs1.pem -pubout");
    }

    @Test
    void what_is_not_one_pem_public_key_is_refused_saying_what_to_give() throws Exception {
        refused(Tokens.write(dir.resolve("text.pem"), "just some text\n"), "is not a PEM public key: give a text file with one -----BEGIN PUBLIC KEY----- block");
        refused(Files.write(dir.resolve("key.der"), RSA.toRSAPublicKey().getEncoded()), "is not a PEM public key");
        refused(Tokens.write(dir.resolve("two.pem"), Tokens.pem("PUBLIC KEY", RSA.toRSAPublicKey().getEncoded())
                + Tokens.pem("PUBLIC KEY", P256.toECPublicKey().getEncoded())), "holds 2 PEM blocks: give one public key");
        refused(Tokens.write(dir.resolve("junk.pem"), Tokens.pem("PUBLIC KEY", new byte[]{1, 2, 3, 4})), "is not an RSA or EC public key");
        refused(Tokens.write(dir.resolve("csr.pem"), Tokens.pem("CERTIFICATE REQUEST", new byte[]{1, 2, 3})),
                "holds a CERTIFICATE REQUEST block, not a PUBLIC KEY or CERTIFICATE");
        refused(Tokens.write(dir.resolve("cert.pem"), Tokens.pem("CERTIFICATE", new byte[]{1, 2, 3})), "is not an X.509 certificate");
        refused(Tokens.write(dir.resolve("b64.pem"), "-----BEGIN PUBLIC KEY-----\nAAAA=AAA\n-----END PUBLIC KEY-----\n"), "is not valid base64");
        refused(Files.write(dir.resolve("large.pem"), new byte[70_000]), "is larger than 64 KiB");
    }

    @Test
    void a_missing_or_unreadable_file_is_refused() {
        refused(dir.resolve("missing.pem"), ": no such file");
        refused(dir, "cannot be read");
    }

    @Test
    void an_rsa_key_under_2048_bits_and_an_ed25519_key_are_refused() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        refused(Tokens.pem(rsa.generateKeyPair().getPublic(), dir.resolve("short.pem")), "is a 1024-bit RSA key: use 2048 bits or more");
        PublicKeyOf ed = () -> KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic();
        refused(Tokens.pem(ed.get(), dir.resolve("ed.pem")), "is not an RSA or EC public key (Ed25519 and others are not supported)");
    }

    private interface PublicKeyOf {
        java.security.PublicKey get() throws Exception;
    }
}
