// Preloaded (`node --import`) into child processes that must work offline: any attempt to open a
// socket or resolve a name fails loudly, so "no network at synth" is checked, not assumed.
import dns from 'node:dns';
import net from 'node:net';

const refuse = (what: string) => (): never => {
  throw new Error(`network access attempted during an offline run: ${what}`);
};
net.Socket.prototype.connect = refuse('net.Socket.connect') as never;
dns.lookup = refuse('dns.lookup') as never;
dns.promises.lookup = refuse('dns.promises.lookup') as never;
