package dev.squall.server;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.util.Collections;
import java.util.Enumeration;

/**
 * Gives every WebSocket upgrade an empty HTTP session that is never created, stored or sent. Javalin asks each
 * upgrade for its session's attributes (to hand them to its WebSocket layer, which Squall's sockets do not use), and
 * that creates one: a secure random id, a session object and its listeners, then Squall's invalidation of it, on every
 * handshake of a reconnect storm, in a server where nothing uses sessions. The standalone server's own choice: an app
 * that embeds the plugin may keep sessions on its upgrades.
 */
final class SessionlessUpgrades extends HttpFilter {

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        chain.doFilter(request.getHeader("Sec-WebSocket-Key") == null ? request : new Sessionless(request), response);
    }

    private static final class Sessionless extends HttpServletRequestWrapper {
        private @Nullable EmptySession session;

        Sessionless(HttpServletRequest request) {
            super(request);
        }

        @Override
        public HttpSession getSession() {
            EmptySession created = session;
            if (created == null) session = created = new EmptySession(getServletContext());
            return created;
        }

        @Override
        public @Nullable HttpSession getSession(boolean create) {
            return create ? getSession() : session;
        }
    }

    /** A session with nothing in it that takes nothing: what an upgrade of this server has to show. */
    private static final class EmptySession implements HttpSession {
        private final ServletContext context;
        private final long created = System.currentTimeMillis();

        EmptySession(ServletContext context) {
            this.context = context;
        }

        @Override
        public long getCreationTime() {
            return created;
        }

        @Override
        public String getId() {
            return "";
        }

        @Override
        public long getLastAccessedTime() {
            return created;
        }

        @Override
        public ServletContext getServletContext() {
            return context;
        }

        @Override
        public void setMaxInactiveInterval(int interval) {
        }

        @Override
        public int getMaxInactiveInterval() {
            return 0;
        }

        @Override
        public @Nullable Object getAttribute(String name) {
            return null;
        }

        @Override
        public Enumeration<String> getAttributeNames() {
            return Collections.emptyEnumeration();
        }

        @Override
        public void setAttribute(String name, @Nullable Object value) {
            // Kept nowhere: nothing in this server reads a session back.
        }

        @Override
        public void removeAttribute(String name) {
        }

        @Override
        public void invalidate() {
        }

        @Override
        public boolean isNew() {
            return true;
        }
    }
}
