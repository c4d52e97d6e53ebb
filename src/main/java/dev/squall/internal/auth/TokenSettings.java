package dev.squall.internal.auth;

import org.jspecify.annotations.Nullable;

import java.nio.file.Path;

/**
 * What verifies tokens: an HMAC secret, a PEM public key file or a JWKS URL (the secret may go with either of the
 * others), and the audience and issuer a token must name, if any. All nulls: no key configured, and no token is
 * checked. Checked by {@link TokenVerifier#create}, not here.
 *
 * @param hmacSecret the shared secret of HS256/HS384/HS512 tokens, its UTF-8 bytes as they are (not base64)
 * @param publicKey  a PEM file with one RSA or EC public key, or an X.509 certificate that holds one
 * @param jwksUrl    an {@code http(s)://} JWKS endpoint, fetched when first needed and cached
 * @param audience   when set, a token's {@code aud} must contain it
 * @param issuer     when set, a token's {@code iss} must equal it
 */
public record TokenSettings(@Nullable String hmacSecret, @Nullable Path publicKey, @Nullable String jwksUrl,
                            @Nullable String audience, @Nullable String issuer) {

    /** No key: tokens are not checked. */
    public static final TokenSettings NONE = new TokenSettings(null, null, null, null, null);

    /** Whether any key is configured, so that tokens are checked. */
    public boolean anyKey() {
        return hmacSecret != null || publicKey != null || jwksUrl != null;
    }

    /** Every setting but the secret, which is only said to be there: this ends up in logs. */
    @Override
    public String toString() {
        return "TokenSettings[hmacSecret=" + (hmacSecret == null ? "none" : "***") + ", publicKey=" + publicKey
                + ", jwksUrl=" + jwksUrl + ", audience=" + audience + ", issuer=" + issuer + "]";
    }
}
