package dev.squall.internal.web;

import dev.squall.SettingNames;
import dev.squall.internal.policy.HostPolicy;
import dev.squall.internal.policy.OriginPolicy;
import io.javalin.http.Context;
import io.javalin.http.Header;
import io.javalin.http.HttpStatus;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Who may publish ({@code /receive}, {@code /publish}, a {@code squall.v1} publish) and read the server's view of
 * channels (their list, counts and history, a {@code squall.v1} presence), in the spirit of Redis's protected mode. With
 * {@code --publish-token} everyone must present it as a bearer token, and nothing else is asked. Without one,
 * a publish must come from this machine, which here means all of:
 * <ul>
 *   <li>the socket's peer is a loopback address;</li>
 *   <li>no proxy stands in between ({@code Forwarded}, {@code X-Forwarded-For}, {@code X-Real-IP}, {@code Via}):
 *       a local reverse proxy makes every caller look like loopback;</li>
 *   <li>the {@code Host} names this machine or an {@code --allowed-hosts} entry, which defeats DNS rebinding;</li>
 *   <li>it is not a cross-site browser request ({@code Sec-Fetch-Site} {@code cross-site}/{@code same-site}, or a
 *       foreign {@code Origin}) unless that {@code Origin} is listed by name in {@code --allowed-origins}: an
 *       {@code <img src=".../receive?msg=x">} on any page would otherwise publish from the developer's browser.</li>
 * </ul>
 * The same rules as Go 1.25's {@code net/http.CrossOriginProtection}, plus the loopback ones.
 */
public final class PublishPolicy {

    private static final List<String> PROXY_HEADERS = List.of("Forwarded", "X-Forwarded-For", "X-Real-IP", "Via");

    private final Optional<BearerToken> token;
    private final OriginPolicy origins;
    private final HostPolicy hosts;

    private final SettingNames names;
    private final String how;

    PublishPolicy(Optional<String> token, OriginPolicy origins, HostPolicy hosts, SettingNames names) {
        this.token = token.map(BearerToken::new);
        this.origins = origins;
        this.hosts = hosts;
        this.names = names;
        this.how = names.howToSet("publishToken", "<secret>") + " and send 'Authorization: Bearer <secret>'";
    }

    /** What a request asks for that this policy guards; a refusal says it in these words. */
    enum Action {
        PUBLISH("publishing", "publish", "this publish"),
        READ("reading channels", "read channels", "this read"),
        DISCONNECT("disconnecting users", "disconnect users", "this disconnect");

        private final String doing;
        private final String verb;
        private final String request;

        Action(String doing, String verb, String request) {
            this.doing = doing;
            this.verb = verb;
            this.request = request;
        }
    }

    /** Why a request may not publish or read channels (the same rules guard both): its status, and its words for each. */
    record Denial(int status, Function<Action, String> reason) {
        /** The refusal of {@code action}, as a sentence that says how to be allowed. */
        String message(Action action) {
            return reason.apply(action);
        }

        Refusal refusal(Action action) {
            Map<String, String> headers = status == HttpStatus.UNAUTHORIZED.getCode()
                    ? Map.of(Header.WWW_AUTHENTICATE, "Bearer realm=\"squall\"") : Map.of();
            return new Refusal(status, message(action), headers);
        }
    }

    /** Throws 401/403 unless the request may do {@code action}. */
    void check(Context ctx, Action action) {
        Denial denial = denial(ctx);
        if (denial != null) throw denial.refusal(action);
    }

    /** Whether the request presents the publish token (false when none is set). */
    boolean presentsToken(Context ctx) {
        return token.isPresent() && token.get().isPresentedBy(ctx);
    }

    /** Why the request may neither publish nor read channels, or null when it may do both. */
    @Nullable Denial denial(Context ctx) {
        if (token.isPresent()) {
            // A browser cannot attach the token to a cross-site request it did not script, so the token alone decides.
            if (token.get().isPresentedBy(ctx)) return null;
            return new Denial(HttpStatus.UNAUTHORIZED.getCode(),
                    action -> action.doing + " requires 'Authorization: Bearer <publish token>'");
        }
        int forbidden = HttpStatus.FORBIDDEN.getCode();
        if (!peerIsLoopback(ctx)) {
            return new Denial(forbidden, action -> action.doing + " is only allowed from this machine; " + how);
        }
        for (String header : PROXY_HEADERS) {
            if (ctx.header(header) != null) {
                return new Denial(forbidden, action -> action.request + " came through a proxy (it carries " + header
                        + "), so it may come from anywhere and loopback trust does not apply; " + how);
            }
        }
        String host = ctx.header(Header.HOST);
        if (!hosts.allows(host)) {
            String name = HostPolicy.hostname(host);
            return new Denial(forbidden, action -> "Host " + (host == null ? "(none)" : "'" + host + "'") + " is not this "
                    + "machine, so this may be a DNS-rebinding page; " + how
                    + (name == null ? "" : ", or list the name with " + names.name("allowedHosts") + " " + name));
        }
        String crossSite = crossSiteReason(ctx, host);
        if (crossSite != null) {
            return new Denial(forbidden, action -> "a cross-site browser request may not " + action.verb + " (" + crossSite
                    + "); " + how + ", or list the page's origin by name with " + names.name("allowedOrigins"));
        }
        return null;
    }

    /** Why this is a cross-site request no listed origin vouches for, or null when it is not one. */
    private @Nullable String crossSiteReason(Context ctx, String host) {
        String origin = ctx.header(Header.ORIGIN);
        if (origins.isListed(origin)) return null;
        String fetchSite = ctx.header("Sec-Fetch-Site");
        if (fetchSite != null) {
            String site = fetchSite.trim().toLowerCase(Locale.ROOT);
            if (site.equals("cross-site") || site.equals("same-site")) return "Sec-Fetch-Site: " + site;
        }
        if (origin != null && !OriginPolicy.isSameOrigin(origin, host)) return "Origin " + origin;
        return null;
    }

    /** The peer as the socket sees it: never a string that could be resolved through DNS. */
    private static boolean peerIsLoopback(Context ctx) {
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        SocketAddress remote = request == null ? null : request.getConnectionMetaData().getRemoteSocketAddress();
        return remote instanceof InetSocketAddress inet && inet.getAddress() != null && inet.getAddress().isLoopbackAddress();
    }

    /** One line for the start-up log. */
    String describe() {
        return token.isPresent()
                ? "bearer token required"
                : "this machine only (no " + names.name("publishToken") + "): loopback peer, no proxy headers, Host " + hosts.describe()
                        + ", no cross-site request";
    }
}
