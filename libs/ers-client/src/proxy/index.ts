// The proxy forwarder (undici) lives here; owned by the gateway work, exported from the root.
export {};
