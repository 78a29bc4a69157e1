// The demo's traffic plan: which workload talks to which, on what port and how often. The live
// demo's generators and the recorder of examples/demo/flows.recorded.json both read it, so the
// recorded graph is the graph the live lab would show.

/** `NS/APP` for a workload (every pod with label app=APP in NS), or `internet` for the lab internet. */
export type TrafficEnd = string;

export interface TrafficRoute {
  readonly from: TrafficEnd;
  readonly to: TrafficEnd;
  readonly port: number;
  readonly proto: 'tcp' | 'udp';
  /** Connections per minute from each source pod. */
  readonly perMinute: number;
}

export const INTERNET = 'internet';

export const DEMO_TRAFFIC: readonly TrafficRoute[] = [
  { from: INTERNET, to: 'storefront/frontend', port: 80, proto: 'tcp', perMinute: 30 },
  { from: 'storefront/frontend', to: 'storefront/catalog', port: 8080, proto: 'tcp', perMinute: 20 },
  { from: 'storefront/frontend', to: 'storefront/cart', port: 8080, proto: 'tcp', perMinute: 12 },
  { from: 'storefront/frontend', to: 'storefront/checkout', port: 8080, proto: 'tcp', perMinute: 6 },
  { from: 'storefront/frontend', to: INTERNET, port: 80, proto: 'tcp', perMinute: 4 },
  // Denied: the web tier must not reach the database directly (tier security).
  { from: 'storefront/frontend', to: 'storefront/database', port: 5432, proto: 'tcp', perMinute: 2 },
  { from: 'storefront/checkout', to: 'storefront/cart', port: 8080, proto: 'tcp', perMinute: 6 },
  { from: 'storefront/checkout', to: 'storefront/database', port: 5432, proto: 'tcp', perMinute: 6 },
  { from: 'storefront/checkout', to: INTERNET, port: 80, proto: 'tcp', perMinute: 6 },
  { from: 'storefront/cart', to: 'storefront/database', port: 5432, proto: 'tcp', perMinute: 12 },
  { from: 'storefront/catalog', to: 'storefront/database', port: 5432, proto: 'tcp', perMinute: 20 },
  // Denied: only checkout and frontend may reach the internet.
  { from: 'storefront/catalog', to: INTERNET, port: 80, proto: 'tcp', perMinute: 2 },
  { from: 'monitoring/prometheus', to: 'storefront/frontend', port: 9100, proto: 'tcp', perMinute: 4 },
  { from: 'monitoring/prometheus', to: 'storefront/cart', port: 9100, proto: 'tcp', perMinute: 4 },
  { from: 'monitoring/prometheus', to: 'storefront/checkout', port: 9100, proto: 'tcp', perMinute: 4 },
  { from: 'monitoring/prometheus', to: 'storefront/catalog', port: 9100, proto: 'tcp', perMinute: 4 },
  { from: 'monitoring/prometheus', to: 'storefront/database', port: 9100, proto: 'tcp', perMinute: 4 },
  { from: 'tools/debug', to: 'storefront/frontend', port: 80, proto: 'tcp', perMinute: 3 },
  // Denied: a toolbox poking at the database and the cart.
  { from: 'tools/debug', to: 'storefront/database', port: 5432, proto: 'tcp', perMinute: 2 },
  { from: 'tools/debug', to: 'storefront/cart', port: 8080, proto: 'tcp', perMinute: 2 },
];
