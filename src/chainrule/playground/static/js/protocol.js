// The WebSocket client and the decoding of the server's binary frames (docs/playground-protocol.md).

/** Decode a binary message: uint32 LE header length H, H bytes of UTF-8 JSON, zero padding to a multiple of
 *  8, then little-endian float32 arrays at the offsets the header gives (relative to the array block).
 *  Returns {header, arrays: {name: {data: Float32Array, shape: [..]}}}. */
export function decodeBinary(buffer) {
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true);
  const headerText = new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength));
  const header = JSON.parse(headerText);
  const blockStart = Math.ceil((4 + headerLength) / 8) * 8;
  const arrays = {};
  for (const entry of header.arrays || []) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const start = blockStart + entry.offset;
    if (start + size * 4 > buffer.byteLength) {
      throw new Error(`array ${entry.name} runs past the end of the frame`);
    }
    // Float32Array views need 4-byte alignment; copy when the server's offset does not give it.
    const data = start % 4 === 0 ? new Float32Array(buffer, start, size)
      : new Float32Array(buffer.slice(start, start + size * 4));
    arrays[entry.name] = { data, shape: entry.shape };
  }
  return { header, arrays };
}

/** A WebSocket session: send(obj) sends JSON; on(type, fn) subscribes to a JSON message type, to "binary"
 *  (decoded frames) and to "close". */
export class Connection {
  constructor(url) {
    this.handlers = {};
    this.nextId = 1;
    this.socket = new WebSocket(url);
    this.socket.binaryType = "arraybuffer";
    this.socket.addEventListener("message", (event) => this.receive(event));
    this.socket.addEventListener("close", (event) => this.emit("close", event));
    this.socket.addEventListener("error", () => this.emit("close", { code: -1 }));
    this.queue = [];
    this.socket.addEventListener("open", () => {
      for (const text of this.queue) this.socket.send(text);
      this.queue = [];
    });
  }

  on(type, fn) {
    (this.handlers[type] ||= []).push(fn);
  }

  emit(type, payload) {
    for (const fn of this.handlers[type] || []) fn(payload);
  }

  receive(event) {
    if (typeof event.data === "string") {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        this.emit("error", { message: "the server sent a message that is not JSON", request: "" });
        return;
      }
      this.emit(message.type, message);
      return;
    }
    let frame;
    try {
      frame = decodeBinary(event.data);
    } catch (err) {
      this.emit("error", { message: `could not decode a frame: ${err.message}`, request: "" });
      return;
    }
    this.emit("binary", frame);
  }

  /** Send a message; returns its id (the server's answers echo it). */
  send(message) {
    const id = this.nextId++;
    const text = JSON.stringify({ ...message, id });
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(text);
    else if (this.socket.readyState === WebSocket.CONNECTING) this.queue.push(text);
    else this.emit("error", { message: "the connection to the server is closed; reload the page", request: message.type });
    return id;
  }
}
