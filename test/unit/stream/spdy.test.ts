import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import {
  FLAG_FIN,
  FrameParser,
  FrameType,
  HeaderCompressor,
  HeaderDecompressor,
  SPDY_DICTIONARY,
  SpdySession,
  type SpdyStream,
  encodeDataFrame,
  encodePing,
  encodeSynStream,
  encodeWindowUpdate,
  parseSettings,
  encodeSettings,
  type ControlFrame,
} from '../../../src/util/stream/spdy.js';

test('the SPDY/3 dictionary is the 1423 bytes of the spec', () => {
  assert.equal(SPDY_DICTIONARY.length, 1423);
  assert.equal(SPDY_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.ok(SPDY_DICTIONARY.toString('latin1').endsWith('utf-,*,enq=0.'));
});

test('header blocks round-trip through stateful compressors, several frames in a row', async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const h1 = { streamtype: ['error'], port: ['80'], requestid: ['0'] };
  const h2 = { streamtype: ['data'], port: ['80'], requestid: ['0'], multi: ['a', 'b'] };
  const b1 = await c.compress(h1);
  const b2 = await c.compress(h2);
  // The block after the first reuses the zlib window: smaller than compressing alone.
  assert.ok(b2.length < (await new HeaderCompressor().compress(h2)).length);
  assert.deepEqual(await d.decompress(b1), h1);
  assert.deepEqual(await d.decompress(b2), h2);
  // Starts with a zlib header that names a preset dictionary (FDICT) with its Adler-32.
  assert.equal(b1[0]! & 0x0f, 8);
  assert.ok(b1[1]! & 0x20);
  const inflated = zlib.inflateSync(b1, { dictionary: SPDY_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.equal(inflated.readUInt32BE(0), 3);
});

test('frames parse across arbitrary chunk boundaries', async () => {
  const c = new HeaderCompressor();
  const bytes = Buffer.concat([
    await encodeSynStream(c, { streamId: 1, associatedId: 0, priority: 0, flags: 0, headers: { streamtype: ['stdout'] } }),
    encodeDataFrame(1, Buffer.from('hello')),
    encodeDataFrame(1, Buffer.alloc(0), FLAG_FIN),
    encodePing(7),
    encodeWindowUpdate(1, 1000),
    encodeSettings([{ id: 7, value: 65536 }]),
  ]);
  const p = new FrameParser();
  const frames = [];
  for (let i = 0; i < bytes.length; i += 3) frames.push(...p.push(bytes.subarray(i, i + 3)));
  assert.equal(frames.length, 6);
  assert.ok(frames[0]!.control && frames[0]!.type === FrameType.SYN_STREAM && frames[0]!.version === 3);
  assert.ok(!frames[1]!.control && frames[1]!.streamId === 1 && frames[1]!.data.toString() === 'hello');
  assert.ok(!frames[2]!.control && frames[2]!.flags === FLAG_FIN);
  assert.ok(frames[3]!.control && frames[3]!.type === FrameType.PING && frames[3]!.data.readUInt32BE(0) === 7);
  assert.deepEqual(parseSettings(frames[5] as ControlFrame), [{ flags: 0, id: 7, value: 65536 }]);
});

/** Two connected in-memory byte streams. */
function pipePair(): [Duplex, Duplex] {
  const aIn = new PassThrough();
  const bIn = new PassThrough();
  const a = Duplex.from({ readable: aIn, writable: bIn });
  const b = Duplex.from({ readable: bIn, writable: aIn });
  return [a, b];
}

test('a session replies to SYN_STREAM, carries data both ways, echoes PING and honours FIN', async () => {
  const [server, client] = pipePair();
  const session = new SpdySession(server);
  const got = new Promise<SpdyStream>((resolve) => session.on('stream', resolve));
  const cc = new HeaderCompressor();
  const cd = new HeaderDecompressor();
  const parser = new FrameParser();
  const received: { type?: number; streamId?: number; data: Buffer; flags: number; headers?: Record<string, string[]> }[] = [];
  client.on('data', (b: Buffer) => {
    for (const f of parser.push(b)) {
      if (f.control) {
        received.push({ type: f.type, data: f.data, flags: f.flags, headers: undefined });
      } else received.push({ streamId: f.streamId, data: f.data, flags: f.flags });
    }
  });
  client.write(await encodeSynStream(cc, { streamId: 1, associatedId: 0, priority: 0, flags: 0, headers: { streamtype: ['stdin'] } }));
  client.write(encodeDataFrame(1, Buffer.from('ping-data')));
  client.write(encodeDataFrame(1, Buffer.alloc(0), FLAG_FIN));
  client.write(encodePing(1));
  const s = await got;
  assert.equal(s.header('streamType'), 'stdin');
  s.reply({});
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((r) => s.once('end', r));
  assert.equal(Buffer.concat(chunks).toString(), 'ping-data');
  s.end(Buffer.from('answer'));
  await new Promise((r) => setTimeout(r, 20));
  const reply = received.find((r) => r.type === FrameType.SYN_REPLY)!;
  assert.equal(reply.data.readUInt32BE(0), 1);
  assert.deepEqual(await cd.decompress(reply.data.subarray(4)), {});
  assert.ok(received.some((r) => r.type === FrameType.PING && r.data.readUInt32BE(0) === 1));
  const data = received.filter((r) => r.streamId === 1);
  assert.equal(Buffer.concat(data.map((d) => d.data)).toString(), 'answer');
  assert.equal(data.at(-1)!.flags & FLAG_FIN, FLAG_FIN);
  session.close();
  assert.ok(received.length > 0);
});

test('a client session opens streams in order, half-closes stdin, and reads what the server sent before resetting', async () => {
  const [serverSide, clientSide] = pipePair();
  const server = new SpdySession(serverSide);
  const client = new SpdySession(clientSide, { client: true });
  const opened: SpdyStream[] = [];
  server.on('stream', (s: SpdyStream) => {
    opened.push(s);
    s.reply({});
  });
  // client-go's order: error, stdin, stdout; each waits for its SYN_REPLY
  const errorStream = await client.openStream({ streamtype: ['error'] });
  const stdin = await client.openStream({ streamtype: ['stdin'] });
  const stdout = await client.openStream({ streamtype: ['stdout'] });
  assert.deepEqual(opened.map((s) => s.header('streamtype')), ['error', 'stdin', 'stdout']);
  assert.deepEqual([errorStream, stdin, stdout].map((s) => s.id), [1, 3, 5]);

  // the server sees stdin's data and then its end (EOF), like `cat` would
  const [sErr, sIn, sOut] = opened as [SpdyStream, SpdyStream, SpdyStream];
  const input: Buffer[] = [];
  sIn.on('data', (c: Buffer) => input.push(c));
  const inputEnded = new Promise((r) => sIn.once('end', r));
  stdin.end(Buffer.from('hello over spdy\n'));
  await inputEnded;
  assert.equal(Buffer.concat(input).toString(), 'hello over spdy\n');

  // the server answers on stdout, writes the exit status, then resets everything and closes
  // (containerd's way of ending): the client still gets every byte sent before the reset
  const out: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  const status: Buffer[] = [];
  errorStream.on('data', (c: Buffer) => status.push(c));
  const closed = new Promise((r) => client.once('close', r));
  sOut.write(Buffer.from('hello over spdy\n'));
  sErr.write(Buffer.from('{"status":"Success"}'));
  await server.flushed();
  server.close();
  await closed;
  assert.equal(Buffer.concat(out).toString(), 'hello over spdy\n');
  assert.equal(Buffer.concat(status).toString(), '{"status":"Success"}');
});
