import { describe, expect, it } from 'vitest';
import { protocolErrorReason } from '../../../src/broker/broker.js';

describe('protocolErrorReason', () => {
  it.each([
    ['connect did not arrive in time', 'connect_timeout'],
    ['keep alive timeout', 'keepalive_timeout'],
    ['Invalid protocol', 'protocol_violation'],
    ['drain timeout', 'drain_timeout'],
    ['+ is not allowed in PUBLISH', 'bad_topic'],
    ['topic has too many levels', 'bad_topic'],
    ['# is only allowed in SUBSCRIBE in the last position', 'bad_topic'],
    ['Client queue limit reached', 'inflight_limit'],
    ['maxInflightInbound exceeded: 32 inbound QoS 2 messages already awaiting PUBREL', 'inflight_limit'],
    ['Invalid header flag bits, must be 0x0 for connect packet', 'malformed_packet'],
    ['Packet too short', 'malformed_packet'],
    ['Not supported', 'malformed_packet'],
  ])('counts "%s" as %s', (message, reason) => {
    expect(protocolErrorReason(message)).toBe(reason);
  });

  it.each(['read ECONNRESET', 'write EPIPE', 'connection closed', 'bad user name or password', 'identifier rejected', 'rate limit exceeded', 'forbidden topic', 'spool: full (spool.maxBytes reached)'])(
    'leaves "%s" to where it is counted, or uncounted: the peer went away',
    (message) => {
      expect(protocolErrorReason(message)).toBeUndefined();
    },
  );
});
