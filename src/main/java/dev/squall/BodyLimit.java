package dev.squall;

import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Caps every request body at Javalin's {@code maxRequestSize} before Javalin reads it. Javalin's own cap logs a
 * WARN line for each oversized body, so any client could fill the log by posting too much; this one fails the
 * read at the same byte with a {@code 413} that names the limit, and logs at debug only (App counts every 413
 * in a metric and the minute summary). Javalin's cap stays as a backstop and never fires first.
 */
final class BodyLimit implements Filter {

    private static final Logger log = LoggerFactory.getLogger(BodyLimit.class);

    private final long max;
    private final String refusal;

    /** {@code refusal}: the error text of the 413, which should name the limit and how to change it. */
    BodyLimit(long max, String refusal) {
        this.max = max;
        this.refusal = refusal;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        // Only requests that carry a body: a WebSocket upgrade (a GET) reaches Jetty's upgrade code unwrapped.
        if (request instanceof HttpServletRequest http
                && (http.getContentLengthLong() > 0 || http.getHeader("Transfer-Encoding") != null)) {
            chain.doFilter(new Limited(http), response);
        } else {
            chain.doFilter(request, response);
        }
    }

    private void refused(HttpServletRequest request) {
        log.debug("Refused a request body over {} bytes: {} {} from {}", max, request.getMethod(), request.getRequestURI(),
                request.getRemoteAddr());
    }

    private final class Limited extends HttpServletRequestWrapper {
        private ServletInputStream body;

        Limited(HttpServletRequest request) {
            super(request);
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (body == null) body = new LimitedStream(super.getInputStream(), (HttpServletRequest) getRequest());
            return body;
        }
    }

    private final class LimitedStream extends ServletInputStream {
        private final ServletInputStream in;
        private final HttpServletRequest request;
        private long read;
        private boolean refused;

        LimitedStream(ServletInputStream in, HttpServletRequest request) {
            this.in = in;
            this.request = request;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (request.getContentLengthLong() > max) throw tooLarge();      // no need to read what is refused
            int n = in.read(buffer, offset, length);
            if (n > 0 && (read += n) > max) throw tooLarge();
            return n;
        }

        /** The 413, logged once however often the caller reads on. */
        private HttpResponseException tooLarge() {
            if (!refused) {
                refused = true;
                refused(request);
            }
            return new HttpResponseException(HttpStatus.CONTENT_TOO_LARGE.getCode(), refusal);
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
