// Go peer for the benchmark: gorilla/websocket on net/http, with the same routes as Squall and the Node peer
// (GET /index, WS /ws with Welcome + "new message :" echo, GET/POST /receive broadcast).
//
// The shape is gorilla's chat example: one hub goroutine owns the set of clients; each client has one buffered
// send channel drained by its own write goroutine (gorilla allows one writer per connection), and a client whose
// channel is full when a broadcast arrives is dropped. Unlike the chat example, queued messages are not joined
// with newlines into one WebSocket message: every broadcast is its own message, as on the other servers.
// Gorilla has no way to hand several finished frames to the socket in one write (each WriteMessage flushes its
// frame with its own write syscall; batching would mean framing by hand on UnderlyingConn), so the writer sends
// one frame per message and one syscall per frame: simple, and what most gorilla servers do.
//
// Build (Debian's golang-go and golang-github-gorilla-websocket-dev, nothing downloaded), from this folder:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o ../../target/go-gorilla .
//
// Run: go-gorilla --port 8001
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"runtime"
	"sync"

	"github.com/gorilla/websocket"
)

// sendBuffer is the chat example's per-client queue length: past it, a client is a slow consumer and is dropped.
const sendBuffer = 256

// maxMessage bounds what a client may send, as Jetty's default does for Squall (64 KiB).
const maxMessage = 64 * 1024

// The chat example's buffer sizes. With zero, gorilla would keep net/http's 4 KiB buffers for the life of each
// connection instead.
var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	// Every peer accepts any Origin (the generator sends none); gorilla's default would refuse a foreign one.
	CheckOrigin: func(*http.Request) bool { return true },
}

// broadcast is one message for every client; the hub answers on delivered with the number it was queued for.
type broadcast struct {
	message   []byte
	delivered chan int
}

// hub owns the set of clients: only its goroutine reads or changes the map.
type hub struct {
	clients    map[*client]struct{}
	register   chan *client
	unregister chan *client
	broadcast  chan broadcast
}

func newHub() *hub {
	return &hub{
		clients:    make(map[*client]struct{}),
		register:   make(chan *client),
		unregister: make(chan *client),
		broadcast:  make(chan broadcast),
	}
}

func (h *hub) run() {
	for {
		select {
		case c := <-h.register:
			h.clients[c] = struct{}{}
		case c := <-h.unregister:
			delete(h.clients, c)
		case b := <-h.broadcast:
			delivered := 0
			for c := range h.clients {
				if c.enqueue(b.message) {
					delivered++
				} else {
					delete(h.clients, c)
					c.stop()
				}
			}
			b.delivered <- delivered
		}
	}
}

// publish queues message for every client and returns how many took it.
func (h *hub) publish(message []byte) int {
	b := broadcast{message: message, delivered: make(chan int, 1)}
	h.broadcast <- b
	return <-b.delivered
}

// client is one WebSocket. send is never closed (the reader queues echoes on it too, and a send on a closed
// channel panics); quit tells the writer to close the connection instead.
type client struct {
	hub  *hub
	conn *websocket.Conn
	send chan []byte
	quit chan struct{}
	once sync.Once
}

// enqueue queues message without blocking; false when the client's queue is full.
func (c *client) enqueue(message []byte) bool {
	select {
	case c.send <- message:
		return true
	default:
		return false
	}
}

func (c *client) stop() {
	c.once.Do(func() { close(c.quit) })
}

// readPump answers each message M with "new message :M" through the writer, until the connection fails.
func (c *client) readPump() {
	defer func() {
		c.hub.unregister <- c
		c.stop()
	}()
	c.conn.SetReadLimit(maxMessage)
	for {
		_, message, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if !c.enqueue(append([]byte("new message :"), message...)) {
			return
		}
	}
}

// writePump is the connection's only writer.
func (c *client) writePump() {
	defer c.conn.Close()
	for {
		select {
		case message := <-c.send:
			if err := c.conn.WriteMessage(websocket.TextMessage, message); err != nil {
				c.stop()
				return
			}
		case <-c.quit:
			// As the chat example does when the hub drops a client; after the reader's end, this write just fails.
			c.conn.WriteMessage(websocket.CloseMessage, []byte{})
			return
		}
	}
}

func serveWs(h *hub, w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered with an HTTP error
	}
	c := &client{hub: h, conn: conn, send: make(chan []byte, sendBuffer), quit: make(chan struct{})}
	// Registered before Welcome is queued: a client that has its Welcome is in every later broadcast.
	h.register <- c
	c.enqueue([]byte("Welcome"))
	go c.writePump()
	go c.readPump()
}

func answerDelivered(w http.ResponseWriter, delivered int) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"delivered":%d}`, delivered) // what Node's JSON.stringify({delivered}) gives
}

func main() {
	port := flag.String("port", "8001", "port to listen on")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	flag.Parse()

	h := newHub()
	go h.run()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/index":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "Hello world")
		case r.URL.Path == "/ws" && websocket.IsWebSocketUpgrade(r):
			serveWs(h, w, r)
		case r.Method == http.MethodGet && r.URL.Path == "/receive":
			answerDelivered(w, h.publish([]byte(r.URL.Query().Get("msg"))))
		case r.Method == http.MethodPost && r.URL.Path == "/receive":
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			answerDelivered(w, h.publish(body))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	address := *host + ":" + *port
	log.Printf("go %s gorilla/websocket listening on %s", runtime.Version(), address)
	log.Fatal(http.ListenAndServe(address, handler))
}
