// Node.js peer for the benchmark: npm "ws" on Node's http module, with the same routes as Squall and the
// Tornado peer (GET /index, WS /ws with Welcome + "new message :" echo, GET/POST /receive broadcast).
// Run: node server.js --port 8001
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

function argument(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(argument('--port', '8001'));
const host = argument('--host', '127.0.0.1');

// perMessageDeflate is off by default in ws; every server in the comparison sends uncompressed frames.
const wss = new WebSocketServer({ noServer: true });

function broadcast(message) {
  let delivered = 0;
  for (const client of wss.clients) {
    if (client.readyState === WebSocket.OPEN) {
      client.send(message);
      delivered++;
    }
  }
  return delivered;
}

function answerDelivered(res, delivered) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ delivered }));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/index') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('Hello world');
  } else if (req.method === 'GET' && url.pathname === '/receive') {
    answerDelivered(res, broadcast(url.searchParams.get('msg') || ''));
  } else if (req.method === 'POST' && url.pathname === '/receive') {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => answerDelivered(res, broadcast(Buffer.concat(chunks).toString('utf8'))));
  } else {
    res.writeHead(404);
    res.end();
  }
});

server.on('upgrade', (req, socket, head) => {
  if (new URL(req.url, 'http://localhost').pathname !== '/ws') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.send('Welcome');
    ws.on('message', (data) => ws.send('new message :' + data.toString()));
    ws.on('error', () => {}); // a reset peer must not crash the server
  });
});

// As many connections as the benchmark asks for (Node's default backlog is 511).
server.listen(port, host, () => console.log(`node ${process.version} ws listening on ${host}:${port}`));
