import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeChannelMessage, encodeChannelMessage, negotiateProtocol, REMOTECOMMAND_WS_PROTOCOLS } from '../../../src/util/stream/websocket.js';
import { exitStatus, parseResize } from '../../../src/util/stream/remotecommand.js';

test('channel messages carry the channel in the first byte (binary) or as a digit (base64)', () => {
  const b = encodeChannelMessage(1, Buffer.from('hi')) as Buffer;
  assert.deepEqual([...b], [1, 104, 105]);
  assert.deepEqual(decodeChannelMessage(Buffer.from([0, 120])), { channel: 0, data: Buffer.from('x') });
  const t = encodeChannelMessage(2, Buffer.from('hi'), true);
  assert.equal(t, '2aGk=');
  assert.deepEqual(decodeChannelMessage('0eA==', true), { channel: 0, data: Buffer.from('x') });
  assert.equal(decodeChannelMessage(Buffer.alloc(0)), undefined);
});

test('the server picks the first protocol the client offers that it supports', () => {
  assert.equal(negotiateProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io'], REMOTECOMMAND_WS_PROTOCOLS), 'v5.channel.k8s.io');
  assert.equal(negotiateProtocol(['v9.channel.k8s.io', 'v4.channel.k8s.io'], REMOTECOMMAND_WS_PROTOCOLS), 'v4.channel.k8s.io');
  assert.equal(negotiateProtocol(['nope'], REMOTECOMMAND_WS_PROTOCOLS), undefined);
});

test('exit statuses are the metav1.Status kubectl turns into exit codes', () => {
  assert.deepEqual(exitStatus({ exitCode: 0 }), { metadata: {}, status: 'Success' });
  const s = exitStatus({ exitCode: 3 }, ['sh', '-c', 'exit 3']) as { reason: string; details: { causes: { reason: string; message: string }[] } };
  assert.equal(s.reason, 'NonZeroExitCode');
  assert.deepEqual(s.details.causes, [{ reason: 'ExitCode', message: '3' }]);
});

test('resize messages may arrive several in one chunk', () => {
  assert.deepEqual(parseResize(Buffer.from('{"Width":80,"Height":24}{"Width":100,"Height":30}')), [
    { width: 80, height: 24 },
    { width: 100, height: 30 },
  ]);
});
