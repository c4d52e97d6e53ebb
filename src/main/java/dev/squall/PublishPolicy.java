package dev.squall;

import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.Header;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Who may publish through {@code /receive}, in the spirit of Redis's protected mode. With
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
final class PublishPolicy {

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

    /** Throws 401/403 unless the request may publish. */
    void check(Context ctx) {
        if (token.isPresent()) {
            // A browser cannot attach the token to a cross-site request it did not script, so the token alone decides.
            token.get().require(ctx);
            return;
        }
        if (!peerIsLoopback(ctx)) {
            throw new ForbiddenResponse("publishing is only allowed from this machine; " + how);
        }
        for (String header : PROXY_HEADERS) {
            if (ctx.header(header) != null) {
                throw new ForbiddenResponse("this publish came through a proxy (it carries " + header + "), so it may "
                        + "come from anywhere and loopback trust does not apply; " + how);
            }
        }
        String host = ctx.header(Header.HOST);
        if (!hosts.allows(host)) {
            String name = HostPolicy.hostname(host);
            throw new ForbiddenResponse("Host " + (host == null ? "(none)" : "'" + host + "'") + " is not this machine, "
                    + "so this may be a DNS-rebinding page; " + how
                    + (name == null ? "" : ", or list the name with " + names.name("allowedHosts") + " " + name));
        }
        String crossSite = crossSiteReason(ctx, host);
        if (crossSite != null) {
            throw new ForbiddenResponse("a cross-site browser request may not publish (" + crossSite + "); " + how
                    + ", or list the page's origin by name with " + names.name("allowedOrigins"));
        }
    }

    /** Why this is a cross-site request no listed origin vouches for, or null when it is not one. */
    private String crossSiteReason(Context ctx, String host) {
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
