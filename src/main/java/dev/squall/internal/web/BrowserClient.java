package dev.squall.internal.web;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * {@code squall.js}, the browser client that ships in Squall's jar ({@code public/squall.js}), served at the path an
 * app chose ({@code clientPath}): read once, with an {@code ETag}, so a page that has it gets a 304.
 */
final class BrowserClient {

    private static final String RESOURCE = "/public/squall.js";

    private final byte[] script;
    private final String etag;

    BrowserClient() {
        try (InputStream in = BrowserClient.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("Squall's jar has no " + RESOURCE);
            script = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            etag = "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(script), 0, 8) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    void serve(Context ctx) {
        ctx.header("ETag", etag);
        ctx.header("Cache-Control", "no-cache");               // revalidated: a new Squall serves a new client
        if (etag.equals(ctx.header("If-None-Match"))) {
            ctx.status(HttpStatus.NOT_MODIFIED);
            return;
        }
        ctx.contentType("text/javascript; charset=utf-8").result(script);
    }
}
