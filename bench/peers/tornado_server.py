"""The tutorial's "demo2" push server on Tornado, re-created for the benchmark with its bugs fixed.

The tutorial (/work/shared/reference/000_ba40648123b6c39e.txt) keeps clients in a class-level dict, calls
.remove() on it, declares check_origin(self) without the origin argument, and lets one closed socket abort the
broadcast loop. Here: a module-level set with add/discard, check_origin(self, origin), and a broadcast that
skips sockets that closed meanwhile. Also TCP_NODELAY, like the other servers (see open()). Routes are those of every server in the comparison:
  GET /index -> "Hello world";  WS /ws -> "Welcome", then "new message :<m>" for each message <m>;
  GET /receive?msg=X or POST /receive (text body) -> X to every /ws client, answer {"delivered": N}.

Run: /usr/bin/python3 tornado_server.py --port 8000   (Debian package python3-tornado)
"""
import argparse

import tornado.ioloop
import tornado.web
import tornado.websocket

# Every open /ws connection. Tornado runs handlers on one IOLoop thread, so no lock is needed.
clients = set()


def broadcast(message):
    delivered = 0
    # iterate over a copy: a write can fail and trigger on_close, which changes the set
    for client in list(clients):
        try:
            client.write_message(message)
            delivered += 1
        except tornado.websocket.WebSocketClosedError:
            clients.discard(client)
    return delivered


class IndexHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello world")


class ReceiveHandler(tornado.web.RequestHandler):
    def get(self):
        self.write({"delivered": broadcast(self.get_argument("msg", ""))})

    def post(self):
        self.write({"delivered": broadcast(self.request.body.decode("utf-8"))})


class ConnectHandler(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin):
        return True  # like the tutorial: accept any origin (it is a benchmark peer, not a deployment)

    def open(self):
        # Node's ws and Jetty disable Nagle on their sockets; Tornado leaves it on, which would make this
        # comparison measure TCP delayed-ACK stalls (40 ms) instead of the server.
        self.set_nodelay(True)
        clients.add(self)
        self.write_message("Welcome")

    def on_close(self):
        clients.discard(self)

    def on_message(self, message):
        self.write_message("new message :" + message)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app = tornado.web.Application([
        (r"/index", IndexHandler),
        (r"/ws", ConnectHandler),
        (r"/receive", ReceiveHandler),
    ])
    # websocket_ping_interval stays unset (None): the comparison runs every server without pings
    app.listen(args.port, address=args.host)
    print("tornado %s listening on %s:%d" % (tornado.version, args.host, args.port), flush=True)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
