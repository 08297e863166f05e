export * from './ers-forwarder';
export * from './forwarding-headers';
